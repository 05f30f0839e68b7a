/**
 * Argument validation for the 1:1 and high-level layers: every public function
 * checks its arguments here before any syscall, so the native core only ever
 * sees well-typed values.
 */
import { AbortError, invalidArgType, invalidArgValue, outOfRange } from './errors';

export const INT32_MAX = 2 ** 31 - 1;
export const UINT32_MAX = 2 ** 32 - 1;
export const UINT64_MAX = 2n ** 64n - 1n;
export const INT64_MAX = 2n ** 63n - 1n;

export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

export function validateInt32(value: unknown, name: string, min = -(2 ** 31), max = INT32_MAX): number {
  return validateInteger(value, name, min, max);
}

export function validateUint32(value: unknown, name: string): number {
  return validateInteger(value, name, 0, UINT32_MAX);
}

/** A file descriptor: an int32 >= 0, as `node:fs` requires. */
export function validateFd(value: unknown, name = 'fd'): number {
  return validateInteger(value, name, 0, INT32_MAX);
}

/** A bigint, or a safe integer, within [min, max]; returned as bigint. */
export function validateBigUint(value: unknown, name: string, max: bigint): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > max) throw outOfRange(name, `>= 0 && <= ${max}`, value);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw outOfRange(name, 'a safe integer or a bigint', value);
    if (value < 0 || value > max) throw outOfRange(name, `>= 0 && <= ${max}`, value);
    return BigInt(value);
  }
  throw invalidArgType(name, 'of type bigint or number', value);
}

export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

/**
 * An options object: `undefined` or `null` mean "none", as in Node. With
 * `known`, any other option (given, not undefined) is refused: a misspelt or
 * unsupported option would otherwise be silently ignored.
 */
export function validateOptions<T extends object>(value: unknown, name = 'options', known?: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || isArrayOrRevoked(value)) throw invalidArgType(name, 'of type object', value);
  if (known !== undefined) {
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && !(known as readonly string[]).includes(key)) throw invalidArgValue(`${name}.${key}`, v, 'is not a known option');
    }
  }
  return value as Partial<T>;
}

/** Array.isArray, counting a revoked Proxy (which it throws on) as not an array: the caller's type error describes it. */
export function isArray(value: unknown): value is readonly unknown[] {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/** Closes `source` when `signal` aborts (at once if it has); the listener goes with the close. */
export function closeOnAbort(source: { close(): void; once(event: 'close', fn: () => void): unknown }, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    source.close();
    return;
  }
  const onAbort = (): void => source.close();
  signal.addEventListener('abort', onAbort, { once: true });
  source.once('close', () => signal.removeEventListener('abort', onAbort));
}

/** Array.isArray, counting a revoked Proxy (which it throws on) as not an options object either. */
function isArrayOrRevoked(value: object): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return true;
  }
}

export function validateAbortSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || !('aborted' in value) || typeof (value as AbortSignal).addEventListener !== 'function') {
    throw invalidArgType(name, 'an instance of AbortSignal', value);
  }
  return value as AbortSignal;
}

/** An options object whose one option is `signal` (reads, iterations, work off the loop): its signal. */
export function validateSignalOptions(options: unknown): AbortSignal | undefined {
  return validateAbortSignal(validateOptions<{ signal?: AbortSignal }>(options, 'options', ['signal']).signal, 'options.signal');
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Bytes for the kernel from a string (UTF-8) or a Buffer/Uint8Array. NUL bytes
 * are refused: the kernel would stop at the first one and store something else.
 */
export function validateBytes(value: unknown, name: string): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  // A detached view reads as empty, as in node:fs.
  else if (value instanceof Uint8Array) bytes = value.byteLength === 0 ? Buffer.alloc(0) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else throw invalidArgType(name, 'of type string or an instance of Buffer or Uint8Array', value);
  if (bytes.includes(0)) throw invalidArgValue(name, value, 'must not contain null bytes');
  return bytes;
}

export type Encoding = BufferEncoding | 'buffer';

export function validateEncoding(value: unknown, name: string): Encoding {
  if (value === 'buffer' || (typeof value === 'string' && Buffer.isEncoding(value))) return value as Encoding;
  throw invalidArgValue(name, value, 'is invalid encoding');
}
