// The full shape of an fs-style system error, as Node's own fs errors have it.
import assert from 'node:assert/strict';
import os from 'node:os';
import { getSystemErrorMap } from 'node:util';

const describeErrno = (code) => [...getSystemErrorMap().values()].find(([name]) => name === code)[1];

/**
 * Asserts an fs-shaped system error (an Error, or its fields copied from a
 * child). Returns true, so it can be `assert.throws`'s validation function.
 */
export function assertSysError(err, code, syscall, p) {
  assert.equal(err.name, 'Error', `not an argument error: ${err.message}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.errno, -os.constants.errno[code]);
  assert.equal(err.syscall, syscall);
  assert.equal(err.path, p);
  assert.equal(err.message, `${code}: ${describeErrno(code)}, ${syscall}${p === undefined ? '' : ` '${p}'`}`);
  return true;
}
