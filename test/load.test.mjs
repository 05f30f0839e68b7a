// Loading Butter loads a family's modules only when one of its names is first
// used, through require() and import alike (scripts/build-entries.js); until
// then an imported name is a stand-in that behaves as the real export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runChild } from './support/child.mjs';

/** The package's modules the snippet's process has loaded (paths under dist/cjs, and the addon, Release or Debug). */
const loaded = `const loaded = () => Object.keys(createRequire(import.meta.url).cache)
  .map((p) => p.replace(/^.*\\/(dist\\/cjs|build\\/(Release|Debug))\\//, '')).filter((p) => !p.startsWith('/')).sort();`;

function child(source) {
  const r = runChild(`import { createRequire } from 'node:module';\n${loaded}\n${source}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const core = ['butter.node', 'constants.js', 'core/native.js', 'families/process.js', 'index.js', 'raw/process.js'];

test('require() loads only the addon until a name is used, then only that name\'s family', () => {
  const steps = child(`
    const butter = createRequire(import.meta.url)('butter');
    const steps = [loaded()];
    butter.getpid();
    steps.push(loaded());
    butter.Inotify;
    steps.push(loaded());
    console.log(JSON.stringify(steps));
  `);
  assert.deepEqual(steps[0], ['butter.node', 'core/native.js', 'index.js']);
  assert.deepEqual(steps[1], core.filter((p) => p !== 'constants.js'));
  assert.ok(['families/inotify.js', 'raw/inotify.js', 'high/inotify.js', 'high/watch.js'].every((p) => steps[2].includes(p)), steps[2].join(' '));
  assert.ok(!steps[2].some((p) => /fanotify|eventfd|timerfd|signals|host/.test(p)), steps[2].join(' '));
});

test('import loads only the core and the process family until a family is used', () => {
  const steps = child(`
    const butter = await import('butter');
    const steps = [loaded()];
    butter.getpid();
    steps.push(loaded());
    new butter.EventFd().close();
    steps.push(loaded());
    console.log(JSON.stringify(steps));
  `);
  assert.deepEqual(steps[0], core);
  assert.deepEqual(steps[1], core);
  assert.ok(['families/eventfd.js', 'raw/eventfd.js', 'high/eventfd.js'].every((p) => steps[2].includes(p)), steps[2].join(' '));
  assert.ok(!steps[2].some((p) => /inotify|fanotify|timerfd|signals|watch|host/.test(p)), steps[2].join(' '));
});

test('an imported class used before its family loads constructs, is extended and matches instanceof as the real one', () => {
  const result = child(`
    const { Inotify, EventFd, TimerFd, AbortError } = await import('butter');
    const cjs = createRequire(import.meta.url)('butter');
    class Mine extends Inotify {
      tag() { return 'mine'; }
    }
    const mine = new Mine();
    const plain = new EventFd({ initval: 3 });
    const out = {
      mineIsInotify: mine instanceof Inotify && mine instanceof cjs.Inotify,
      mineProto: Object.getPrototypeOf(Mine.prototype) === cjs.Inotify.prototype,
      tag: mine.tag(),
      constructor: mine.constructor === Mine,
      read: String(plain.readEvent()),
      plainIsEventFd: plain instanceof cjs.EventFd,
      // Every operation of a stand-in reaches the real export, static and reflective ones too.
      name: TimerFd.name,
      // util.inspect shows a Proxy's target, which carries the export's name.
      inspected: createRequire(import.meta.url)('node:util').inspect(TimerFd).includes('TimerFd'),
      timerLength: TimerFd.length === cjs.TimerFd.length,
      keys: JSON.stringify(Reflect.ownKeys(AbortError)) === JSON.stringify(Reflect.ownKeys(cjs.AbortError)),
      abortIsError: new AbortError() instanceof Error,
    };
    mine.close();
    plain.close();
    console.log(JSON.stringify(out));
  `);
  assert.deepEqual(result, {
    mineIsInotify: true,
    mineProto: true,
    tag: 'mine',
    constructor: true,
    read: '3',
    plainIsEventFd: true,
    name: 'TimerFd',
    inspected: true,
    timerLength: true,
    keys: true,
    abortIsError: true,
  });
});

test('an imported function used before its family loads calls the real one, errors included, and is rebound to it', () => {
  const result = child(`
    const esm = await import('butter');
    const { inotifyAddWatch, inotifyInit, uname } = esm;
    const cjs = createRequire(import.meta.url)('butter');
    const before = esm.inotifyInit === cjs.inotifyInit;
    let error;
    try {
      inotifyAddWatch('not an fd', '/', 1);
    } catch (err) {
      error = { name: err.name, code: err.code };
    }
    const fd = inotifyInit();
    const after = esm.inotifyInit === cjs.inotifyInit && esm.inotifyAddWatch === cjs.inotifyAddWatch;
    createRequire(import.meta.url)('node:fs').closeSync(fd);
    console.log(JSON.stringify({ error, before, after, stale: inotifyInit !== cjs.inotifyInit, sysname: uname().sysname }));
  `);
  // The binding is the real export once its family has loaded; a copy taken before stays a working stand-in.
  assert.deepEqual(result, { error: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, before: false, after: true, stale: true, sysname: 'Linux' });
});

test('without the addon, require() and import fail at once, not at first use', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'butter-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A copy of the package with no build/ at all: what a failed install leaves.
  for (const part of ['dist', 'package.json']) cpSync(join(root, part), join(dir, part), { recursive: true });
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    const out = {};
    try { createRequire(${JSON.stringify(join(dir, 'x.js'))})(${JSON.stringify(dir)}); } catch (e) { out.require = e.code; }
    try { await import(${JSON.stringify(join(dir, 'dist', 'esm', 'index.mjs'))}); } catch (e) { out.import = e.code; }
    console.log(JSON.stringify(out));`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { require: 'MODULE_NOT_FOUND', import: 'MODULE_NOT_FOUND' });
});
