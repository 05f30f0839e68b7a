/** The fanotify family: the 1:1 calls, Fanotify and its events. */
export { fanotifyInit, fanotifyMark, fanotifyRead, fanotifyQueued, fanotifyRespond, fanotifyDenyErrno, fanotifyCloseEvents, parseFanotifyEvents, fanotifyMaskNames } from '../raw/fanotify';
export type { FanotifyPath, FanotifyRecord, FanotifyInfo, FanotifyFidInfo, FanotifyPidfdInfo, FanotifyErrorInfo, FanotifyRangeInfo, FanotifyMntInfo, FanotifyAuditRule } from '../raw/fanotify';
export { Fanotify, FanotifyEvent } from '../high/fanotify';
export type { FanotifyOptions, FanotifyMarkOptions, FanotifyAnswerOptions, FanotifyDenyOptions, FanotifyEventName, FanotifyReportName } from '../high/fanotify';
