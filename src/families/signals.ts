/** The signals family: masks, signalfd and sigqueue, SignalFd, SignalBlock, blockSignals. */
export { pthreadSigmask, signalfd, signalfdRead, sigqueue, signalName } from '../raw/signals';
export type { Signal, SignalInfo } from '../raw/signals';
export { SignalFd, SignalBlock, blockSignals } from '../high/signals';
export type { SignalFdOptions } from '../high/signals';
