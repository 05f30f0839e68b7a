/**
 * Butter's Promise API (`import { promises } from 'butter'`), as `node:fs`
 * has `fs.promises`: the calls that can block, under their synchronous
 * form's name and arguments, run off the loop (src/core/work.ts).
 */
export { splice, tee, vmsplice, sendfile, copyFileRange } from './raw/splice-promises';
export type { WorkOptions } from './raw/splice-promises';
export { mount, umount2 } from './raw/mount-promises';
