// watch(): recursive watching on one Inotify, against a real temp tree. Run once
// per readiness backend: watch-epoll.test.mjs imports this file with the
// portable backend forced.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { watch, globToRegExp, readinessBackend } from 'butter';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';
import { runChild } from './support/child.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const expectedBackend = process.env.BUTTER_READINESS === 'epoll' ? 'epoll' : 'uv';

let tmp;
let n = 0;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-watch-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tree(...dirs) {
  const d = path.join(tmp, `t${n++}`);
  fs.mkdirSync(d);
  for (const x of dirs) fs.mkdirSync(path.join(d, x), { recursive: true });
  return d;
}

/** Events via a listener, until `done(events)` or the deadline. */
async function collect(w, done, ms = 10_000) {
  const events = [];
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const onEvent = (e) => {
    events.push(e);
    if (done(events)) finish();
  };
  w.on('event', onEvent);
  const timer = setTimeout(finish, ms);
  try {
    await finished;
  } finally {
    clearTimeout(timer);
    w.off('event', onEvent);
  }
  return events;
}

const quiet = (w, ms = 300) => collect(w, () => false, ms);
const brief = (events, root) => events.map((e) => `${e.type}:${path.relative(root, e.path)}${e.oldPath ? `<-${path.relative(root, e.oldPath)}` : ''}`);
const watchCount = (w) => w.inotify.watches().length;
const fdinfoWatches = (fd) => fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;

describe('watch()', () => {
  test('runs on the expected readiness backend', () => {
    assert.equal(readinessBackend(), expectedBackend);
  });

  test('ready resolves once the tree is watched; exactly one watch per directory', async () => {
    const d = tree('a/b/c', 'd', 'e');
    for (let i = 0; i < 20; i++) fs.writeFileSync(`${d}/a/b/f${i}`, '');
    const w = watch(d, { recursive: true });
    try {
      await w.ready;
      assert.equal(watchCount(w), 6);
      assert.equal(fdinfoWatches(w.inotify.fd), 6, 'never a watch per file');
      assert.deepEqual(w.inotify.watches().map((x) => x.path).sort(), [d, `${d}/a`, `${d}/a/b`, `${d}/a/b/c`, `${d}/d`, `${d}/e`]);
    } finally {
      w.close();
    }
    const flat = watch(d);
    try {
      await flat.ready;
      assert.equal(watchCount(flat), 1, 'without recursive, the root only');
    } finally {
      flat.close();
    }
  });

  test('the root must exist: thrown, as fs.watch does', () => {
    assert.throws(() => watch(path.join(tmp, 'nope')), { code: 'ENOENT' });
    assert.throws(() => watch(42), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => watch(tmp, { events: ['nope'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('create, modify, close_write, rename, delete: full paths, deep in the tree', async () => {
    const d = tree('a/b', 'c');
    const w = watch(d, { recursive: true });
    try {
      await w.ready;
      const got = collect(w, (ev) => ev.some((e) => e.type === 'delete'));
      fs.writeFileSync(`${d}/a/b/f`, 'x');
      fs.renameSync(`${d}/a/b/f`, `${d}/c/g`);
      fs.unlinkSync(`${d}/c/g`);
      const events = await got;
      assert.deepEqual(brief(events, d), ['create:a/b/f', 'modify:a/b/f', 'close_write:a/b/f', 'rename:c/g<-a/b/f', 'delete:c/g']);
      assert.ok(events.every((e) => e.isDir === false));
      assert.equal(events[3].oldPath, `${d}/a/b/f`);
    } finally {
      w.close();
    }
  });

  test('events filter', async () => {
    const d = tree();
    const w = watch(d, { events: ['close_write'] });
    try {
      await w.ready;
      const got = collect(w, (ev) => ev.length >= 1);
      fs.writeFileSync(`${d}/f`, 'x');
      assert.deepEqual(brief(await got, d), ['close_write:f']);
    } finally {
      w.close();
    }
  });

  test('mkdir -p a/b/c && touch a/b/c/f: every level reported as a create, once', async () => {
    const d = tree();
    const w = watch(d, { recursive: true, events: ['create'] });
    try {
      await w.ready;
      const got = collect(w, (ev) => ev.length >= 4);
      spawnSync('sh', ['-c', 'mkdir -p a/b/c && touch a/b/c/f'], { cwd: d });
      const events = await got;
      events.push(...(await quiet(w)));
      assert.deepEqual(brief(events, d), ['create:a', 'create:a/b', 'create:a/b/c', 'create:a/b/c/f']);
      assert.deepEqual(events.map((e) => e.isDir), [true, true, true, false]);
      assert.equal(watchCount(w), 4);
    } finally {
      w.close();
    }
  });

  test("events: ['close_write'] only: a file written into a freshly created nested directory is reported, in each of 50 trials (scanned: true when the scan found it)", { timeout: 60_000 }, async () => {
    const d = tree();
    const w = watch(d, { recursive: true, events: ['close_write'] });
    try {
      await w.ready;
      const seen = new Map();
      w.on('event', (e) => seen.set(e.path, e));
      for (let k = 0; k < 50; k++) {
        const child = spawn('sh', ['-c', `mkdir -p t${k}/a/b/c && echo x > t${k}/a/b/c/f`], { cwd: d });
        assert.equal((await once(child, 'exit'))[0], 0);
        const f = path.join(d, `t${k}/a/b/c/f`);
        for (let waited = 0; !seen.has(f) && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
        const e = seen.get(f);
        assert.ok(e, `trial ${k}: no close_write for ${f}`);
        assert.equal(e.type, 'close_write');
        assert.equal(e.isDir, false);
        assert.ok(e.scanned === undefined || e.scanned === true);
      }
      assert.ok([...seen.values()].every((e) => e.type === 'close_write' && !e.isDir), 'no other event type, no directory');
    } finally {
      w.close();
    }
  });

  test('a scan of a new directory: its create and close_write say scanned: true; events the kernel reports carry no scanned', async () => {
    const d = tree();
    fs.mkdirSync(path.join(tmp, `src${n}/sub`), { recursive: true });
    fs.writeFileSync(path.join(tmp, `src${n}/sub/f`), 'x');
    const w = watch(d, { recursive: true, events: ['create', 'close_write'] });
    try {
      await w.ready;
      const got = collect(w, (ev) => ev.some((e) => e.path.endsWith('/late')));
      // Moved in whole: everything in it is found by the scan, none of it by the kernel.
      fs.renameSync(path.join(tmp, `src${n}`), path.join(d, 'm'));
      await new Promise((r) => setTimeout(r, 100));
      fs.writeFileSync(path.join(d, 'm/sub/late'), 'y');
      const events = await got;
      events.push(...(await quiet(w)));
      const by = (p, type) => events.filter((e) => e.path === path.join(d, p) && e.type === type);
      assert.deepEqual(by('m/sub', 'create').map((e) => e.scanned), [true]);
      assert.deepEqual(by('m/sub', 'close_write'), [], 'no close_write for a directory');
      assert.deepEqual(by('m/sub/f', 'create').map((e) => e.scanned), [true]);
      assert.deepEqual(by('m/sub/f', 'close_write').map((e) => e.scanned), [true]);
      assert.deepEqual(by('m/sub/late', 'create').map((e) => e.scanned), [undefined]);
      assert.deepEqual(by('m/sub/late', 'close_write').map((e) => e.scanned), [undefined]);
    } finally {
      w.close();
    }
  });

  test('100 directories, each filled right after its mkdir by another process: every file seen, once', async () => {
    const d = tree();
    const w = watch(d, { recursive: true, events: ['create'] });
    try {
      await w.ready;
      const files = new Map();
      const got = collect(w, (ev) => {
        const e = ev[ev.length - 1];
        if (!e.isDir) files.set(e.path, (files.get(e.path) ?? 0) + 1);
        return files.size >= 500;
      }, 20_000);
      const child = spawn(process.execPath, ['-e', `
        const fs = require('fs');
        for (let i = 0; i < 100; i++) {
          fs.mkdirSync(process.argv[1] + '/d' + i);
          for (let j = 0; j < 5; j++) fs.writeFileSync(process.argv[1] + '/d' + i + '/f' + j, '');
        }`, d]);
      assert.equal((await once(child, 'exit'))[0], 0);
      await got;
      await quiet(w, 200);
      assert.equal(files.size, 500, '100% of the files');
      assert.ok([...files.values()].every((c) => c === 1), 'no duplicates');
      assert.equal(watchCount(w), 101);
    } finally {
      w.close();
    }
  });

  test('a directory moved within the tree keeps its watches, under the new path (whole subtree)', async () => {
    const d = tree('a/sub/deep', 'b');
    const w = watch(d, { recursive: true, events: ['create', 'rename'] });
    try {
      await w.ready;
      const count = watchCount(w);
      const got = collect(w, (ev) => ev.length >= 3);
      fs.renameSync(`${d}/a/sub`, `${d}/b/moved`);
      fs.writeFileSync(`${d}/b/moved/f`, '');
      fs.writeFileSync(`${d}/b/moved/deep/g`, '');
      const events = await got;
      assert.deepEqual(brief(events, d), ['rename:b/moved<-a/sub', 'create:b/moved/f', 'create:b/moved/deep/g']);
      assert.equal(events[0].isDir, true);
      assert.equal(watchCount(w), count, 'same watches, none added or dropped');
      assert.ok(w.inotify.watches().some((x) => x.path === `${d}/b/moved/deep`));
      assert.ok(!w.inotify.watches().some((x) => x.path.startsWith(`${d}/a/sub`)));
    } finally {
      w.close();
    }
  });

  test('moved out of the tree: a moved_out event, its watches retired, no more events from it', async () => {
    const d = tree('in/x/y');
    const outside = tree();
    const w = watch(d, { recursive: true });
    try {
      await w.ready;
      assert.equal(watchCount(w), 4);
      const got = collect(w, (ev) => ev.length >= 1);
      fs.renameSync(`${d}/in`, `${outside}/in`);
      assert.deepEqual(brief(await got, d), ['moved_out:in']);
      fs.writeFileSync(`${outside}/in/f`, '');
      fs.writeFileSync(`${outside}/in/x/y/f`, '');
      assert.deepEqual(await quiet(w), []);
      assert.equal(watchCount(w), 1);
      // And moved back in: watched again, its contents reported.
      const back = collect(w, (ev) => ev.length >= 7);
      fs.renameSync(`${outside}/in`, `${d}/again`);
      const events = await back;
      assert.equal(brief(events, d)[0], 'moved_in:again');
      // Found by the scan, the files complete as far as anyone can tell: a close_write each, as for a new directory.
      assert.deepEqual(brief(events, d).slice(1).sort(), ['close_write:again/f', 'close_write:again/x/y/f', 'create:again/f', 'create:again/x', 'create:again/x/y', 'create:again/x/y/f']);
      assert.ok(events.slice(1).every((e) => e.scanned === true));
      assert.equal(watchCount(w), 4);
    } finally {
      w.close();
    }
  });

  test('a deleted directory is retired', async () => {
    const d = tree('gone/inner');
    const w = watch(d, { recursive: true, events: ['delete'] });
    try {
      await w.ready;
      const got = collect(w, (ev) => ev.some((e) => e.path === `${d}/gone`));
      fs.rmSync(`${d}/gone`, { recursive: true });
      assert.deepEqual(brief(await got, d), ['delete:gone/inner', 'delete:gone']);
      await quiet(w, 100);
      assert.equal(watchCount(w), 1);
    } finally {
      w.close();
    }
  });

  test('ignore: globs (** * ?) and a predicate; ignored directories are not watched', async () => {
    assert.ok(globToRegExp('**/node_modules/**').test('/x/node_modules/a/b'));
    assert.ok(globToRegExp('**/*.log').test('/x/y.log'));
    assert.ok(!globToRegExp('/x/*.log').test('/x/y/z.log'));
    assert.ok(globToRegExp('/x/?.c').test('/x/a.c'));
    assert.ok(!globToRegExp('/x/?.c').test('/x/ab.c'));

    const d = tree('src/node_modules/pkg', 'src/lib');
    const w = watch(d, { recursive: true, ignore: ['**/node_modules/**', '**/*.log'], events: ['create'] });
    try {
      await w.ready;
      assert.equal(watchCount(w), 3, 'root, src, src/lib');
      const got = collect(w, (ev) => ev.some((e) => e.path.endsWith('end')));
      fs.writeFileSync(`${d}/src/node_modules/pkg/x.js`, '');
      fs.writeFileSync(`${d}/src/lib/debug.log`, '');
      fs.mkdirSync(`${d}/src/lib/node_modules`);
      fs.writeFileSync(`${d}/src/lib/node_modules/y`, '');
      fs.writeFileSync(`${d}/src/lib/end`, '');
      assert.deepEqual(brief(await got, d), ['create:src/lib/end']);
      assert.equal(watchCount(w), 3);
    } finally {
      w.close();
    }

    const p = watch(d, { recursive: true, ignore: (x) => path.basename(x) === 'lib', events: ['create'] });
    try {
      await p.ready;
      assert.equal(watchCount(p), 4, 'root, src, node_modules, pkg');
      const got = collect(p, (ev) => ev.length >= 1);
      fs.writeFileSync(`${d}/src/lib/skipped`, '');
      fs.writeFileSync(`${d}/src/node_modules/pkg/seen`, '');
      assert.deepEqual(brief(await got, d), ['create:src/node_modules/pkg/seen']);
    } finally {
      p.close();
    }
  });

  test('an ignore predicate that throws: ready settles, the path is watched and reported, after an error event with the throw', { timeout: 20_000 }, async () => {
    const d = tree('bad/deep', 'ok');
    const boom = new Error('predicate failed');
    const ignore = (p) => {
      const name = path.basename(p);
      if (name.startsWith('bad')) throw boom;
      if (name === 'odd') throw 'not an Error'; // eslint-disable-line no-throw-literal
      return name.endsWith('.skip');
    };
    const w = watch(d, { recursive: true, ignore, events: ['create'] });
    try {
      const walk = collect(w, (ev) => ev.length >= 1);
      await w.ready;
      const [walkError] = await walk;
      assert.deepEqual(walkError, { type: 'error', path: `${d}/bad`, isDir: true, error: boom });
      assert.deepEqual(w.inotify.watches().map((x) => x.path).sort(), [d, `${d}/bad`, `${d}/bad/deep`, `${d}/ok`]);

      const got = collect(w, (ev) => ev.some((e) => e.path.endsWith('/end')));
      fs.mkdirSync(`${d}/ok/bad2`);
      fs.writeFileSync(`${d}/ok/x.skip`, '');
      fs.writeFileSync(`${d}/ok/odd`, '');
      await quiet(w, 100);
      fs.writeFileSync(`${d}/ok/bad2/f`, '');
      fs.writeFileSync(`${d}/ok/end`, '');
      const events = await got;
      assert.deepEqual(events.map((e) => `${e.type}:${path.relative(d, e.path)}`), [
        'error:ok/bad2', 'create:ok/bad2', 'error:ok/odd', 'create:ok/odd', 'create:ok/bad2/f', 'create:ok/end',
      ]);
      assert.equal(events[0].error, boom);
      assert.equal(events[0].isDir, true);
      assert.equal(events[2].isDir, false);
      assert.equal(events[2].error.cause, 'not an Error');
    } finally {
      w.close();
    }
  });

  test('a listener that throws: the new directory is watched and scanned all the same, every event is delivered, each throw reaches uncaughtException', { timeout: 30_000 }, () => {
    const d = tree();
    const r = runChild(`
      import fs from 'node:fs';
      import { watch } from 'butter';
      const d = ${JSON.stringify(d)};
      const thrown = [];
      process.on('uncaughtException', (err) => thrown.push(err.message));
      const w = watch(d, { recursive: true, events: ['create'] });
      await w.ready;
      const seen = [];
      let wake = () => {};
      w.on('event', (e) => {
        seen.push(e.path.slice(d.length));
        wake();
        throw new Error('listener ' + seen.length);
      });
      const until = (path) => new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        wake = () => { if (seen.includes(path)) { clearTimeout(timer); resolve(); } };
        wake();
      });
      fs.mkdirSync(d + '/new');
      await until('/new');
      fs.writeFileSync(d + '/new/f', '');
      await until('/new/f');
      await new Promise((resolve) => setImmediate(resolve));
      console.log(JSON.stringify({ seen, thrown, watches: w.inotify.watches().map((x) => x.path.slice(d.length)).sort() }));
      w.close();`);
    assert.equal(r.status, 0, r.stderr);
    const { seen, thrown, watches } = JSON.parse(r.stdout);
    assert.deepEqual(seen, ['/new', '/new/f']);
    assert.deepEqual(thrown, ['listener 1', 'listener 2']);
    assert.deepEqual(watches, ['', '/new']);
  });

  test('async iteration, close() ends it, AbortSignal closes the watcher', async () => {
    const d = tree();
    const ac = new AbortController();
    const w = watch(d, { signal: ac.signal });
    await w.ready;
    fs.writeFileSync(`${d}/f`, '');
    const seen = [];
    for await (const e of w) {
      seen.push(e.type);
      if (e.type === 'close_write') break;
    }
    assert.equal(seen[0], 'create');
    assert.equal(seen.at(-1), 'close_write');
    const it = w[Symbol.asyncIterator]();
    const pending = it.next();
    ac.abort();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.equal(w.closed, true);
    assert.equal(w.inotify.closed, true);
  });

  test('an iterator ended while its next() waits: that next() resolves done and takes no event from the other consumers', { timeout: 20_000 }, async () => {
    const d = tree();
    const w = watch(d, { events: ['create'] });
    try {
      await w.ready;
      const first = w.events();
      const stale = first.next();
      await first.return();
      const next = w.events().next();
      fs.writeFileSync(`${d}/f`, '');
      let timer;
      const timeout = new Promise((resolve) => (timer = setTimeout(resolve, 5000, 'no event in 5 s')));
      const got = await Promise.race([next, timeout]);
      clearTimeout(timer);
      assert.equal(got.value?.path, `${d}/f`, String(got));
      assert.deepEqual(await stale, { value: undefined, done: true });
    } finally {
      w.close();
    }
  });

  test("an error its Inotify reports: pending next()s reject with it; with an 'event' listener it is emitted as 'error', thrown when nobody listens for that (as every source's)", async () => {
    const d = tree();
    const w = watch(d);
    try {
      await w.ready;
      const err = new Error('a failed read');
      const next = w.events().next();
      w.inotify.emit('error', err);
      await assert.rejects(next, err);
      w.on('event', () => {});
      assert.throws(() => w.inotify.emit('error', err), err);
      const errors = [];
      w.on('error', (e) => errors.push(e));
      w.inotify.emit('error', err);
      assert.deepEqual(errors, [err]);
    } finally {
      w.close();
    }
  });

  test('followSymlinks: a symlinked directory is descended, a loop is watched once', async () => {
    const d = tree('real/inner');
    fs.symlinkSync(`${d}/real`, `${d}/link`);
    fs.symlinkSync(d, `${d}/real/loop`);
    const plain = watch(d, { recursive: true });
    try {
      await plain.ready;
      assert.equal(watchCount(plain), 3, 'symlinks not followed by default');
    } finally {
      plain.close();
    }
    const w = watch(d, { recursive: true, followSymlinks: true, events: ['create'] });
    try {
      await w.ready;
      assert.equal(watchCount(w), 3, 'each directory once, whatever the paths to it');
      // Under the first path the walk reached it by (readdir order: link or real).
      const paths = w.inotify.watches().map((x) => path.relative(d, x.path)).sort();
      const via = paths[1];
      assert.ok(via === 'link' || via === 'real', via);
      assert.deepEqual(paths, ['', via, `${via}/inner`]);
      const got = collect(w, (ev) => ev.length >= 1);
      fs.writeFileSync(`${d}/real/inner/f`, '');
      assert.deepEqual(brief(await got, d), [`create:${via}/inner/f`]);
    } finally {
      w.close();
    }
  });

  test('permission denied on one subtree: an error event, the rest still watched', { skip: nobodyUnavailable }, async () => {
    const d = tree('open/sub', 'secret/inner');
    fs.chmodSync(tmp, 0o755);
    fs.chmodSync(d, 0o777);
    fs.chmodSync(`${d}/open`, 0o777);
    fs.chmodSync(`${d}/open/sub`, 0o777);
    fs.chmodSync(`${d}/secret`, 0o700);
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import { watch } from 'butter';
      const w = watch(process.argv[1], { recursive: true });
      w.on('event', (e) => {
        console.log(JSON.stringify({ type: e.type, path: e.path, code: e.error?.code }));
        if (e.path.endsWith('/last')) process.exit(0);
      });
      await w.ready;
      console.log(JSON.stringify({ ready: w.inotify.watches().length }));`, d], { cwd: repo, uid: NOBODY, gid: NOBODY });
    let out = '';
    child.stdout.setEncoding('utf8');
    const lines = [];
    const readyLine = new Promise((resolve) => {
      child.stdout.on('data', (s) => {
        out += s;
        const parts = out.split('\n');
        out = parts.pop();
        for (const l of parts) {
          const j = JSON.parse(l);
          lines.push(j);
          if (j.ready !== undefined) resolve();
        }
      });
    });
    await readyLine;
    fs.writeFileSync(`${d}/open/sub/f`, '');
    fs.writeFileSync(`${d}/open/last`, '');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.deepEqual(lines.find((l) => l.type === 'error'), { type: 'error', path: `${d}/secret`, code: 'EACCES' });
    assert.equal(lines.find((l) => l.ready !== undefined).ready, 3, 'root, open, open/sub');
    assert.ok(lines.some((l) => l.type === 'create' && l.path === `${d}/open/sub/f`));
  });

  test('queue overflow while the loop is blocked: an overflow event with what the rescan found changed', async () => {
    const max = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    assert.ok(max > 0 && max <= 1 << 17, `max_queued_events = ${max}`);
    const d = tree('keep', 'old/deep');
    fs.writeFileSync(`${d}/keep/gone`, '');
    const w = watch(d, { recursive: true });
    try {
      await w.ready;
      const count = watchCount(w);
      // spawnSync blocks this loop while the child fills the queue; alternating
      // create and delete cannot be merged by the kernel.
      const r = spawnSync(process.execPath, ['-e', `
        const fs = require('fs');
        const d = process.argv[1];
        for (let i = 0; i < ${Math.ceil(max / 2) + 200}; i++) { fs.writeFileSync(d + '/keep/x', ''); fs.unlinkSync(d + '/keep/x'); }
        fs.unlinkSync(d + '/keep/gone');
        fs.rmSync(d + '/old', { recursive: true });
        fs.mkdirSync(d + '/new/deeper', { recursive: true });
        fs.writeFileSync(d + '/new/deeper/f', '');
        fs.writeFileSync(d + '/keep/made', '');`, d]);
      assert.equal(r.status, 0, String(r.stderr));
      const events = await collect(w, (ev) => ev.some((e) => e.type === 'overflow'), 20_000);
      const overflow = events.find((e) => e.type === 'overflow');
      assert.ok(overflow, 'an overflow event');
      assert.equal(w.inotify.overflows, 1);
      assert.equal(overflow.path, d);
      const created = overflow.changes.created.map((p) => path.relative(d, p)).sort();
      const deleted = overflow.changes.deleted.map((p) => path.relative(d, p)).filter((p) => p !== 'keep/x').sort();
      assert.deepEqual(created, ['keep/made', 'new', 'new/deeper', 'new/deeper/f']);
      assert.deepEqual(deleted, ['keep/gone', 'old', 'old/deep']);
      assert.equal(watchCount(w), count, 'old and old/deep retired, new and new/deeper watched');
      assert.ok(w.inotify.watches().some((x) => x.path === `${d}/new/deeper`));
      // Events flow again, deduplicated against the rescan's state.
      const after = collect(w, (ev) => ev.some((e) => e.type === 'close_write'));
      fs.writeFileSync(`${d}/new/deeper/g`, '');
      assert.deepEqual(brief(await after, d), ['create:new/deeper/g', 'close_write:new/deeper/g']);
    } finally {
      w.close();
    }
  });
});
