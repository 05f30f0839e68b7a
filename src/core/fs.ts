/**
 * What every family does with paths and fds as `node:fs` does: paths given as
 * strings, Buffers or file URLs, and closing an fd nobody can act on the
 * failure of.
 */
import { closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { invalidArgType, invalidArgValue } from './errors';

/** A path as `node:fs` takes one. */
export type PathLike = string | Uint8Array | URL;

/** Path bytes for the kernel (no NUL) and the text errors carry, checked as `node:fs` checks paths. */
export function toPath(value: unknown, name = 'path'): { bytes: Buffer; text: string } {
  let text: string;
  let bytes: Buffer;
  if (typeof value === 'string') {
    text = value;
    bytes = Buffer.from(value, 'utf8');
  } else if (types.isUint8Array(value)) {
    // A detached view reads as empty, as in node:fs.
    bytes = value.byteLength === 0 ? Buffer.alloc(0) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    text = bytes.toString('utf8');
  } else if (!types.isProxy(value) && value instanceof URL) { // instanceof throws on a revoked Proxy
    text = fileURLToPath(value); // Node's own errors for a non-file URL or an encoded '/'
    bytes = Buffer.from(text, 'utf8');
  } else {
    throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  }
  if (bytes.includes(0)) throw invalidArgValue(name, value, 'must be a string, Uint8Array, or URL without null bytes');
  return { bytes, text };
}

/** Closes an fd whose close can only fail as EBADF or EIO, when it is gone either way. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Released either way.
  }
}
