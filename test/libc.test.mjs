// What the addon asks of the C library: errno names and texts come from its
// own table and strerror_r, not glibc 2.32's strerrorname_np/strerrordesc_np,
// so it loads on older glibc and builds on musl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';

const require = createRequire(import.meta.url);
const { native } = require('../dist/cjs/core/native.js');

test('every errno Node knows has its name; an alias gives way to the first name', () => {
  const aliases = { EWOULDBLOCK: 'EAGAIN', ENOTSUP: 'EOPNOTSUPP' };
  for (const [name, errno] of Object.entries(constants.errno)) {
    assert.equal(native.strerrorname(errno), aliases[name] ?? name, `errno ${errno}`);
  }
  // The ones libuv lacks, which are why Butter asks the addon at all.
  assert.equal(native.strerrorname(116), 'ESTALE');
  assert.equal(native.strerrorname(117), 'EUCLEAN');
  assert.equal(native.strerrorname(133), 'EHWPOISON');
  assert.equal(native.strerror(116), 'Stale file handle');
});

test('an errno no name belongs to: no name, and "Unknown error"', () => {
  for (const errno of [0, -1, 134, 4095, 2 ** 31 - 1]) {
    assert.equal(native.strerrorname(errno), undefined);
    assert.equal(native.strerror(errno), 'Unknown error');
  }
});

test('the addon does not import strerrorname_np or strerrordesc_np (glibc 2.32, not in musl)', () => {
  const addon = readFileSync(require.resolve('../build/Release/butter.node')).toString('latin1');
  assert.doesNotMatch(addon, /strerror(name|desc)_np/);
});
