/** The inotify family: the 1:1 calls, Inotify, and the recursive watch() built on it. */
export { inotifyInit, inotifyAddWatch, inotifyRmWatch, inotifyRead, inotifyQueued, inotifySetNextWd, parseInotifyEvents, inotifyMask, inotifyMaskNames } from '../raw/inotify';
export type { InotifyPath, InotifyRecord, InotifyEventName, InotifyEventSelector, InotifyMaskName } from '../raw/inotify';
export { Inotify } from '../high/inotify';
export type { InotifyOptions, InotifyWatchOptions, InotifyWatch, InotifyEvent, InotifyEventType, InotifyWatchEvent, InotifyRenameEvent, InotifyOverflowEvent } from '../high/inotify';
export { watch, Watcher, globToRegExp } from '../high/watch';
export type { WatchOptions, WatchEvent, WatchEventType, WatchListener, WatchEntryEvent, WatchRenameEvent, WatchOverflowEvent, WatchErrorEvent, WatchChanges, WatchIgnore, WatcherEvents } from '../high/watch';
