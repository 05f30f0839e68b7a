/**
 * mount, the Promise forms: `mount` and `umount2` with the same names and
 * arguments as ./mount.ts, plus `{ signal }`, run on Butter's work threads
 * (src/core/work.ts): a mount or unmount of a network filesystem can wait on
 * the network for as long as its timeouts allow.
 *
 * An abort takes a call off the queue if it has not started; a running one
 * is interrupted only where the filesystem waits interruptibly, and rejects
 * with an `AbortError` only if it had no effect (EINTR).
 */
import { runWork } from '../core/work';
import { native } from '../core/native';
import { toPath, type PathLike } from '../core/fs';
import { validateSignalOptions, validateUint32 } from '../core/validate';
import { validateMountArgs } from './mount';
import type { WorkOptions } from './splice-promises';

const nothing = (): void => undefined;

/** mount(2) off the loop; see the synchronous `mount`. */
export async function mount(source: PathLike | null, target: PathLike, fstype: string | Uint8Array | null = null, flags = 0, data: string | Uint8Array | null = null, options?: WorkOptions): Promise<void> {
  const { args, path, dest } = validateMountArgs(source, target, fstype, flags, data);
  return runWork((done) => native.mount.mountStart(...args, done), 'mount', validateSignalOptions(options), nothing, path, dest);
}

/** umount2(2) off the loop; see the synchronous `umount2`. */
export async function umount2(target: PathLike, flags = 0, options?: WorkOptions): Promise<void> {
  const t = toPath(target, 'target');
  const f = validateUint32(flags, 'flags');
  return runWork((done) => native.mount.umount2Start(t.bytes, f, done), 'umount2', validateSignalOptions(options), nothing, t.text);
}
