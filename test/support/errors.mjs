// The full shape of an fs-style system error, as Node's own fs errors have it.
import assert from 'node:assert/strict';
import os from 'node:os';
import { getSystemErrorMap } from 'node:util';

function describeErrno(code) {
  const known = [...getSystemErrorMap().values()].find(([name]) => name === code);
  assert.ok(known, `${code} is not in libuv's errno table: pass its expected message as options.message`);
  return known[1];
}

/**
 * Asserts an fs-shaped system error (an Error, or its fields copied from a
 * child). Returns true, so it can be `assert.throws`'s validation function.
 *
 * `p` is the path the error must carry (`path` and ` '<p>'` in the message),
 * or undefined when it must carry none. Options, for what only some errors
 * have:
 * - `dest`: the second path (`dest` and ` -> '<dest>'` in the message);
 * - `message`: the exact message, when Butter words the description itself
 *   (e.g. inotify's ENOSPC names the watch limit).
 *
 * A real Error must also be a plain Error, and must not have a `path`/`dest`
 * property at all when it carries none (as Node's fs errors). Plain objects
 * copied from a child may copy an absent path as `path: undefined`. A stack,
 * when there is one (copies may leave it out), starts with the message.
 */
export function assertSysError(err, code, syscall, p, { dest, message } = {}) {
  assert.ok(err !== null && typeof err === 'object', `expected a system error, got ${String(err)}`);
  assert.equal(err.name, 'Error', `not an argument error: ${err.message}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.errno, -os.constants.errno[code]);
  assert.equal(err.syscall, syscall);
  assert.equal(err.path, p);
  assert.equal(err.dest, dest);
  const expected = message ?? `${code}: ${describeErrno(code)}, ${syscall}${p === undefined ? '' : ` '${p}'`}${dest === undefined ? '' : ` -> '${dest}'`}`;
  assert.equal(err.message, expected);
  if (err instanceof Error) {
    assert.equal(Object.getPrototypeOf(err), Error.prototype, `a plain Error, not a ${err.constructor.name}`);
    if (p === undefined) assert.equal('path' in err, false, 'no path property when there is no path');
    if (dest === undefined) assert.equal('dest' in err, false, 'no dest property when there is no dest');
    assert.equal(typeof err.stack, 'string');
  }
  if (err.stack !== undefined) assert.ok(err.stack.startsWith(`Error: ${err.message}\n`), `the stack shows the message: ${err.stack}`);
  return true;
}

/**
 * Source text of a function that copies a system error's fields into a plain
 * object, for a child process to print as JSON and the test to check with
 * assertSysError: `const copy = ${copySysErrorSource};`.
 */
export const copySysErrorSource =
  '(e) => ({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message, stack: e.stack })';
