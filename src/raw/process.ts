/**
 * process, 1:1: process and thread ids by raw syscall (no libc cache).
 */
import { native } from '../core/native';

/** The process family's binding (src/native/process.c); failing calls return -errno. */
export interface ProcessNative {
  getpid(): number;
  getppid(): number;
  gettid(): number;
}

declare module '../core/native' {
  interface Families {
    process: ProcessNative;
  }
}

/** getpid(2): the calling process's id, straight from the kernel. */
export const getpid: () => number = native.process.getpid;

/** getppid(2): the parent's process id; changes when the parent dies and the process is reparented. */
export const getppid: () => number = native.process.getppid;

/** gettid(2): the calling thread's id (differs in each Worker; equals getpid() on the main thread). */
export const gettid: () => number = native.process.gettid;
