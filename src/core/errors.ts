/**
 * The one place Butter's errors are made.
 *
 * System errors look exactly like Node's `fs` errors; argument errors are
 * TypeError/RangeError with Node's `ERR_*` codes and message wording, thrown
 * before any syscall.
 */
import { getSystemErrorMap, inspect } from 'node:util';
import { native } from './native';

/**
 * The errnos the families compare a native call's result (`-errno`) with:
 * Linux's asm-generic numbers, those of every architecture Node is built for.
 */
export const ENOENT = 2;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const EFAULT = 14;
export const EEXIST = 17;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOSPC = 28;
export const EPIPE = 32;
export const EOPNOTSUPP = 95;
export const EINPROGRESS = 115;
export const ECANCELED = 125;

/** An error from the kernel, shaped like the ones `node:fs` throws. */
export interface SystemError extends Error {
  /** The errno name, e.g. `'ENOENT'`. */
  code: string;
  /** The negated errno, as Node reports it (e.g. `-2`). */
  errno: number;
  /** The syscall that failed, e.g. `'inotify_add_watch'`. */
  syscall: string;
  /** The path involved, if any. */
  path?: string;
  /** The second path involved, if any. */
  dest?: string;
}

/** An argument error, as Node's own validators throw. */
export interface ArgumentError extends Error {
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_THIS' | 'ERR_ILLEGAL_CONSTRUCTOR' | 'ERR_FS_FILE_TOO_LARGE';
}

const systemErrors = getSystemErrorMap();

function describeErrno(errno: number): [string, string] {
  const known = systemErrors.get(-errno);
  if (known) return known;
  // libuv's table lacks some Linux errnos (ESTALE, EUCLEAN, …): ask glibc.
  const name = native.strerrorname(errno) ?? `Unknown system error ${-errno}`;
  return [name, native.strerror(errno).toLowerCase()];
}

function pathText(p: string | Uint8Array): string {
  return typeof p === 'string' ? p : Buffer.from(p).toString();
}

/**
 * Builds a system error from a positive errno, e.g. `sysError(2, 'open', '/x')`
 * gives `ENOENT: no such file or directory, open '/x'`.
 */
export function sysError(
  errno: number,
  syscall: string,
  path?: string | Uint8Array,
  dest?: string | Uint8Array,
): SystemError {
  const [code, description] = describeErrno(errno);
  let message = `${code}: ${description}, ${syscall}`;
  if (path !== undefined) message += ` '${pathText(path)}'`;
  if (dest !== undefined) message += ` -> '${pathText(dest)}'`;
  const err = new Error(message) as SystemError;
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = pathText(path);
  if (dest !== undefined) err.dest = pathText(dest);
  Error.captureStackTrace(err, sysError);
  return err;
}

/**
 * Turns a native result into a value: a negative number is `-errno` and throws.
 * The native core never throws system errors itself (see src/native/butter.h).
 */
export function check(result: number, syscall: string, path?: string | Uint8Array): number {
  if (result < 0) throw sysError(-result, syscall, path);
  return result;
}

// ---- argument errors, worded as Node words them ----

/** " Received …", as Node's determineSpecificType words it. */
function received(value: unknown): string {
  try {
    return describe(value);
  } catch {
    return ' Received an object that cannot be inspected'; // a revoked Proxy
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return ` Received ${value}`;
  switch (typeof value) {
    case 'bigint':
      return ` Received type bigint (${value}n)`;
    case 'number':
      return ` Received type number (${Object.is(value, -0) ? '-0' : value})`;
    case 'boolean':
    case 'symbol':
      return ` Received type ${typeof value} (${String(value)})`;
    case 'function':
      return ` Received function ${value.name}`;
    case 'string': {
      const text = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return ` Received type string (${text.includes("'") ? JSON.stringify(text) : `'${text}'`})`;
    }
    default: {
      const ctor: unknown = (value as { constructor?: unknown }).constructor;
      if (typeof ctor === 'function' && ctor.name) return ` Received an instance of ${ctor.name}`;
      return ` Received ${inspect(value, { depth: -1 })}`;
    }
  }
}

function subject(name: string): string {
  return name.includes('.') ? `The "${name}" property` : `The "${name}" argument`;
}

/** Per code, the prototype of its errors: its toString shows the code, as Node's do. */
const codedPrototypes = new Map<string, object>();

/**
 * Gives `err` Node's argument-error shape: `name` stays the class's
 * (`'TypeError'`), while `String(err)` and the stack's first line read
 * `TypeError [ERR_…]: …`, and `code` is the only enumerable property.
 */
function argError<E extends TypeError | RangeError>(err: E, code: ArgumentError['code'], caller: Function): E {
  let proto = codedPrototypes.get(code);
  if (proto === undefined) {
    proto = Object.create(Object.getPrototypeOf(err) as object, {
      toString: {
        value(this: Error): string {
          return `${this.name} [${code}]: ${this.message}`;
        },
        writable: true,
        configurable: true,
      },
    }) as object;
    codedPrototypes.set(code, proto);
  }
  Object.setPrototypeOf(err, proto);
  // V8 writes the stack's first line from `name` when the stack is first read:
  // read it while an own name shows the code, then let the class's show again.
  Object.defineProperty(err, 'name', { value: `${err.name} [${code}]`, configurable: true, writable: true });
  Error.captureStackTrace(err, caller);
  void err.stack;
  delete (err as { name?: string }).name;
  (err as E & { code: string }).code = code;
  return err;
}

/** `ERR_INVALID_ARG_TYPE`: `expected` completes "must be …", e.g. `'of type number'`. */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  return argError(new TypeError(`${subject(name)} must be ${expected}.${received(value)}`), 'ERR_INVALID_ARG_TYPE', invalidArgType);
}

/** `ERR_INVALID_ARG_VALUE`: `reason` completes "The argument 'x' …". */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError {
  const kind = name.includes('.') ? 'property' : 'argument';
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return argError(new TypeError(`The ${kind} '${name}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE', invalidArgValue);
}

function withSeparators(text: string): string {
  let out = '';
  let i = text.length;
  const start = text[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${text.slice(i - 3, i)}${out}`;
  return `${text.slice(0, i)}${out}`;
}

/** `ERR_OUT_OF_RANGE`: `range` completes "It must be …", e.g. `'>= 0 && <= 2147483647'`. */
export function outOfRange(name: string, range: string, value: unknown): RangeError {
  let shown: string;
  if (typeof value === 'bigint') {
    shown = `${value > 2n ** 32n || value < -(2n ** 32n) ? withSeparators(String(value)) : value}n`;
  } else if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) {
    shown = withSeparators(String(value));
  } else {
    shown = inspect(value);
  }
  return argError(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`), 'ERR_OUT_OF_RANGE', outOfRange);
}

/** `ERR_FS_FILE_TOO_LARGE`: a file `readFile` cannot return in one Buffer, as Node's says it. */
export function fileTooLarge(size: number): RangeError {
  return argError(new RangeError(`File size (${size}) is greater than 2 GiB`), 'ERR_FS_FILE_TOO_LARGE', fileTooLarge);
}

/** `ERR_INVALID_THIS`: a method called on something that is not a `type`. */
export function invalidThis(type: string): TypeError {
  return argError(new TypeError(`Value of "this" must be of type ${type}`), 'ERR_INVALID_THIS', invalidThis);
}

/** `ERR_ILLEGAL_CONSTRUCTOR`: `new` on a class only the library makes instances of. */
export function illegalConstructor(): TypeError {
  return argError(new TypeError('Illegal constructor'), 'ERR_ILLEGAL_CONSTRUCTOR', illegalConstructor);
}

/** The error an aborted operation rejects with, as Node's own `AbortError`. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  override readonly name = 'AbortError';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}
