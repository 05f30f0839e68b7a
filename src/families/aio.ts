/** The aio family: Linux AIO 1:1 and LinuxAio. */
export { ioSetup, ioDestroy, ioSubmit, ioGetevents, ioCancel, alignedBuffer, AioContext } from '../raw/aio';
export type { Iocb, IoEvent } from '../raw/aio';
export { LinuxAio } from '../high/aio';
export type { LinuxAioOptions, LinuxAioOperationOptions } from '../high/aio';
