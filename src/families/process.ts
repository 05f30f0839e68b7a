/** The process family: process and thread ids by raw syscall. */
export { getpid, getppid, gettid } from '../raw/process';
