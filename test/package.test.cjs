// The package as users load it: require() and import give the same objects
// (one instance of Butter's state), and every export is there in both.
const { test } = require('node:test');
const assert = require('node:assert/strict');

test('require and import share one module instance', async () => {
  const cjs = require('butter');
  const esm = await import('butter');
  // An imported name is the CommonJS export itself once its family has been used through it.
  const e = new esm.EventFd();
  e.close();
  assert.equal(esm.EventFd, cjs.EventFd);
  assert.equal(esm.getpid, cjs.getpid);
  assert.equal(esm.default, cjs);
  const names = (o) => Object.keys(o).filter((k) => k !== 'default' && k !== '__esModule').sort();
  assert.deepEqual(names(esm), names(cjs));
});

test('constants mirror the C names and are frozen', () => {
  const { constants } = require('butter');
  assert.equal(constants.EFD_CLOEXEC, 0o2000000);
  assert.equal(constants.EFD_NONBLOCK, 0o4000);
  assert.equal(constants.EFD_SEMAPHORE, 1);
  assert.ok(Object.isFrozen(constants));
});

test('the public surface has no unfinished exports', () => {
  const butter = require('butter');
  for (const [name, value] of Object.entries(butter)) {
    if (name === '__esModule') continue;
    assert.ok(value !== undefined && value !== null, `${name} is defined`);
  }
});
