/** The aio family: Linux AIO 1:1 and LinuxAio; POSIX AIO (glibc) 1:1 and PosixAio. */
export { ioSetup, ioDestroy, ioSubmit, ioGetevents, ioCancel, alignedBuffer, AioContext } from '../raw/aio';
export type { Iocb, IoEvent } from '../raw/aio';
export { LinuxAio } from '../high/aio';
export type { LinuxAioOptions, LinuxAioOperationOptions } from '../high/aio';
export { Aiocb, aioRead, aioWrite, aioFsync, aioError, aioReturn, aioSuspend, aioCancel, lioListio } from '../raw/posix-aio';
export type { AiocbOptions } from '../raw/posix-aio';
export { PosixAio } from '../high/posix-aio';
