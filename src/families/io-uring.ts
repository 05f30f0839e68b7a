/** The io_uring family: the 1:1 calls and IoUring. */
export { ioUringSetup, ioUringEnter, ioUringPrep, ioUringReap, ioUringRegister, ioUringProbe, ioUringRegisterRingFd, IoUringRing } from '../raw/io-uring';
export type { IoUringParams, IoUringSetupResult, IoUringSqe, IoUringCqe, IoUringProbe, IoUringRestriction, IoUringRsrcRegister, IoUringRsrcUpdate, OpName as IoUringOpName } from '../raw/io-uring';
export { IoUring, IoUringBufferRing } from '../high/io-uring';
export type { IoUringOptions, RequestOptions as IoUringRequestOptions, IoUringStatx, IoUringOpenHow, IoUringSiginfo, IoUringMessage } from '../high/io-uring';
export type {
  SocketAddress as IoUringSocketAddress, SendMessage as IoUringSendMessage, RecvMessageOptions as IoUringRecvMessageOptions,
  ReceivedMessage as IoUringReceivedMessage, BufferRingOptions as IoUringBufferRingOptions,
} from '../high/io-uring';
