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

// The families, one line each, in the order `butter doctor` reports them. A
// family's names load on first use (scripts/build-entries.js); its doctor check
// is src/cli/doctor/<name>.ts. See docs/architecture.md, "How a family plugs in".
export * from './families/process';
export * from './families/host';
export * from './families/eventfd';
export * from './families/timerfd';
export * from './families/signals';
export * from './families/inotify';
export * from './families/fanotify';
export * from './families/splice';
export * from './families/mount';
export * from './families/namespaces';
export * from './families/sandbox';
export * from './families/seccomp';
export * from './families/seccomp-notify';
export * from './families/io-uring';
export * from './families/aio';
export * as promises from './promises';
