/**
 * Butter: Linux kernel interfaces for Node.js.
 *
 * Two layers per family: 1:1 calls named after the syscall (src/raw), and
 * event-like objects that own their fd (src/high). See docs/architecture.md.
 */
export { constants } from './constants';
export type { SystemError, ArgumentError } from './core/errors';
export { AbortError } from './core/errors';
export type { ReadOptions, FdSourceEvents, FdSource } from './core/source';
export type { ReadinessBackend } from './core/native';
export { readinessBackend } from './core/native';

export { getpid, getppid, gettid } from './raw/process';
export { uname, gethostname, sethostname, getdomainname, setdomainname } from './raw/host';
export type { UtsName, NameOptions } from './raw/host';
export { eventfd, eventfdRead, eventfdWrite } from './raw/eventfd';
export { EventFd } from './high/eventfd';
export type { EventFdOptions } from './high/eventfd';
export { inotifyInit, inotifyAddWatch, inotifyRmWatch, inotifyRead, inotifyQueued, inotifySetNextWd, parseInotifyEvents, inotifyMask, inotifyMaskNames } from './raw/inotify';
export type { InotifyPath, InotifyRecord, InotifyEventName, InotifyEventSelector, InotifyMaskName } from './raw/inotify';
export { Inotify } from './high/inotify';
export type { InotifyOptions, InotifyWatchOptions, InotifyWatch, InotifyEvent, InotifyEventType, InotifyWatchEvent, InotifyRenameEvent, InotifyOverflowEvent } from './high/inotify';
export { fanotifyInit, fanotifyMark, fanotifyRead, fanotifyQueued, fanotifyRespond, fanotifyDenyErrno, fanotifyCloseEvents, parseFanotifyEvents, fanotifyMaskNames } from './raw/fanotify';
export type { FanotifyPath, FanotifyRecord, FanotifyInfo, FanotifyFidInfo, FanotifyPidfdInfo, FanotifyErrorInfo, FanotifyRangeInfo, FanotifyMntInfo, FanotifyAuditRule } from './raw/fanotify';
export { Fanotify, FanotifyEvent } from './high/fanotify';
export type { FanotifyOptions, FanotifyMarkOptions, FanotifyAnswerOptions, FanotifyDenyOptions, FanotifyEventName, FanotifyReportName } from './high/fanotify';
export { timerfdCreate, timerfdSettime, timerfdGettime, timerfdSetTicks, timerfdRead } from './raw/timerfd';
export type { TimerSpec, TimerSpecInit } from './raw/timerfd';
export { TimerFd } from './high/timerfd';
export type { TimerClock, TimerFdOptions, TimerSetOptions, TimerFdEvent, TimerExpireEvent, TimerClocksetEvent } from './high/timerfd';
export { pthreadSigmask, signalfd, signalfdRead, sigqueue, signalName } from './raw/signals';
export type { Signal, SignalInfo } from './raw/signals';
export { SignalFd, SignalBlock, blockSignals } from './high/signals';
export type { SignalFdOptions } from './high/signals';
export { watch, Watcher, globToRegExp } from './high/watch';
export type { WatchOptions, WatchEvent, WatchEventType, WatchListener, WatchEntryEvent, WatchRenameEvent, WatchOverflowEvent, WatchErrorEvent, WatchChanges, WatchIgnore, WatcherEvents } from './high/watch';
