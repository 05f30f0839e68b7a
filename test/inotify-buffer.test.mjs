// inotify's buffering mode: a thread of Butter's own keeps reading the kernel's
// queue while the event loop is stalled, so a burst bigger than the kernel's
// queue (fs.inotify.max_queued_events) is delivered whole; past the buffer's
// bound the kernel's overflow is reported as usual. Each scenario runs in a
// child process whose loop is blocked on purpose while a writer (another
// process) creates files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const QUEUE = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
const FILES = Math.max(3 * QUEUE, 40_000);

/** Blocks the loop while a writer creates `files` files; then counts creates and overflows. */
function stalled({ files, buffer, backend }) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { Inotify } from 'butter';
    import { spawn } from 'node:child_process';
    import { mkdtempSync, rmSync, existsSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dir = mkdtempSync(join(base, 'butter-buffer-'));
    const ino = new Inotify(${buffer ? `{ buffer: ${buffer} }` : ''});
    ino.add(dir, ['create']);
    let creates = 0, overflows = 0;
    ino.on('event', (ev) => { if (ev.type === 'create') creates++; else if (ev.type === 'overflow') overflows++; });
    const writer = spawn(process.execPath, ['-e', \`
      const { closeSync, openSync } = require('node:fs');
      for (let i = 0; i < ${files}; i++) closeSync(openSync(require('node:path').join(process.argv[1], 'f' + i), 'w'));
    \`, dir], { stdio: 'inherit' });
    const done = new Promise((resolve) => writer.on('exit', resolve));
    // Stall the loop while the writer runs (it cannot be seen exiting meanwhile).
    const until = Date.now() + 1500;
    while (Date.now() < until);
    await done;
    const quiet = () => new Promise((r) => setTimeout(r, 300));
    let last = -1;
    while (creates + overflows !== last) { last = creates + overflows; await quiet(); }
    ino.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify({ creates, overflows }));
  `], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, BUTTER_READINESS: backend } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * watch() with `events: ['close_write']` while the loop is blocked: a writer
 * makes a directory, waits, then writes a file in it. Its close_write events,
 * as `path:scanned`.
 */
function newDirStalled({ buffer, backend }) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { watch } from 'butter';
    import { spawn } from 'node:child_process';
    import { mkdtempSync, rmSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join, relative } from 'node:path';
    const dir = mkdtempSync(join(tmpdir(), 'butter-buffer-'));
    const w = watch(dir, { recursive: true, events: ['close_write']${buffer ? `, buffer: ${buffer}` : ''} });
    await w.ready;
    const got = [];
    w.on('event', (e) => got.push(relative(dir, e.path) + ':' + (e.scanned ?? false)));
    const writer = spawn('sh', ['-c', 'mkdir a && sleep 0.3 && echo x > a/f'], { cwd: dir, stdio: 'inherit' });
    const done = new Promise((resolve) => writer.on('exit', resolve));
    const until = Date.now() + 1000;
    while (Date.now() < until);
    await done;
    await new Promise((r) => setTimeout(r, 300));
    w.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify(got.sort()));
  `], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, BUTTER_READINESS: backend } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

for (const backend of ['uv', 'epoll']) {
  test(`[${backend}] buffering mode: a new directory is watched by the reading thread while the loop is blocked, so a file written in it after has its own close_write`, () => {
    assert.deepEqual(newDirStalled({ buffer: 1 << 20, backend }), ['a/f:false', 'a/f:true']);
    // Without the thread nothing is watched until the loop runs: the scan alone reports the file.
    assert.deepEqual(newDirStalled({ backend }), ['a/f:true']);
  });

  test(`[${backend}] buffering mode: a directory the thread watched that leaves the tree before the scan gets to it is unwatched at its first event`, () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { watch } from 'butter';
      import { spawn } from 'node:child_process';
      import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const base = mkdtempSync(join(tmpdir(), 'butter-buffer-'));
      const dir = join(base, 'w');
      mkdirSync(dir);
      const w = watch(dir, { recursive: true, buffer: 1 << 20 });
      await w.ready;
      w.on('event', () => {});
      const writer = spawn('sh', ['-c', 'mkdir -p w/a/b && sleep 0.3 && mv w/a/b out && sleep 0.1 && touch out/g'], { cwd: base, stdio: 'inherit' });
      const done = new Promise((resolve) => writer.on('exit', resolve));
      const until = Date.now() + 1000;
      while (Date.now() < until);
      await done;
      await new Promise((r) => setTimeout(r, 300));
      const kernel = readFileSync('/proc/self/fdinfo/' + w.inotify.fd, 'utf8').split('\\n').filter((l) => l.startsWith('inotify wd:')).length;
      console.log(JSON.stringify({ watches: w.inotify.watches().length, kernel }));
      w.close();
      rmSync(base, { recursive: true, force: true });
    `], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, BUTTER_READINESS: backend } });
    assert.equal(r.status, 0, r.stderr);
    // The root and a; b went out with a watch of the thread's, removed when its first event came.
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()), { watches: 2, kernel: 2 });
  });

  test(`[${backend}] default mode: a burst past the kernel's queue during a stall is an overflow, not a silent loss`, () => {
    const { creates, overflows } = stalled({ files: FILES, backend });
    assert.ok(creates < FILES, `some creates were lost (${creates} of ${FILES})`);
    assert.ok(overflows >= 1, 'and the loss was reported');
  });

  test(`[${backend}] buffering mode: the same burst arrives whole, no overflow`, () => {
    const { creates, overflows } = stalled({ files: FILES, buffer: 64 * 1024 * 1024, backend });
    assert.deepEqual({ creates, overflows }, { creates: FILES, overflows: 0 });
  });

  test(`[${backend}] buffering mode past its bound: the kernel's overflow is reported again`, () => {
    const { creates, overflows } = stalled({ files: FILES, buffer: 64 * 1024, backend });
    assert.ok(overflows >= 1, `an overflow was reported (${creates} creates)`);
    assert.ok(creates < FILES);
  });
}

test('buffer option: validated, and at least one read\'s worth', async () => {
  const { Inotify } = await import('butter');
  assert.throws(() => new Inotify({ buffer: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new Inotify({ buffer: '1' }), { code: 'ERR_INVALID_ARG_TYPE' });
  const ino = new Inotify({ buffer: 1 }); // rounded up to 64 KiB
  ino.close();
});

for (const backend of ['uv', 'epoll']) {
  test(`[${backend}] 100,000-file churn (create, append, delete) from another process: every event, no overflow, default queue`, () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { Inotify } from 'butter';
      import { spawn } from 'node:child_process';
      import { mkdtempSync, rmSync, existsSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'butter-churn-'));
      const ino = new Inotify();
      ino.add(dir, ['create', 'modify', 'delete']);
      const counts = { create: 0, modify: 0, delete: 0, overflow: 0 };
      const seen = new Set();
      ino.on('event', (ev) => { counts[ev.type]++; if (ev.type === 'delete') seen.add(ev.name); });
      const writer = spawn(process.execPath, ['-e', \`
        const fs = require('node:fs'), p = require('node:path');
        for (let i = 0; i < 100000; i++) { const f = p.join(process.argv[1], 'f' + i); fs.writeFileSync(f, ''); fs.appendFileSync(f, 'x'); fs.unlinkSync(f); }
      \`, dir], { stdio: 'inherit' });
      await new Promise((r) => writer.on('exit', r));
      const total = () => counts.create + counts.modify + counts.delete + counts.overflow;
      let last = -1;
      while (total() !== last) { last = total(); await new Promise((r) => setTimeout(r, 300)); }
      ino.close();
      rmSync(dir, { recursive: true, force: true });
      console.log(JSON.stringify({ ...counts, distinct: seen.size }));
    `], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, BUTTER_READINESS: backend } });
    assert.equal(r.status, 0, r.stderr);
    // modify is one per append: writeFileSync of '' truncates without writing, so it may add none.
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(out.overflow, 0);
    assert.equal(out.create, 100_000);
    assert.equal(out.delete, 100_000);
    assert.equal(out.distinct, 100_000, 'every file, by name');
    assert.ok(out.modify >= 100_000);
  });
}

for (const backend of ['uv', 'epoll']) {
  // The thread reads as records arrive, a few per read() under a trickle: a
  // wake that took one such read and then paused for the coalescing crawled.
  test(`[${backend}] buffering mode with the default coalescing keeps up with a churn from another process`, () => {
    const FILES = 20_000;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { Inotify } from 'butter';
      import { spawn } from 'node:child_process';
      import { mkdtempSync, rmSync, existsSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'butter-trickle-'));
      const ino = new Inotify({ buffer: 64 * 1024 * 1024 });
      ino.add(dir, ['create', 'delete']);
      let events = 0;
      ino.on('event', () => events++);
      const writer = spawn(process.execPath, ['-e', \`
        const fs = require('node:fs'), p = require('node:path');
        for (let i = 0; i < ${FILES}; i++) { const f = p.join(process.argv[1], 'f' + i); fs.closeSync(fs.openSync(f, 'w')); fs.unlinkSync(f); }
      \`, dir], { stdio: 'inherit' });
      await new Promise((r) => writer.on('exit', r));
      const atExit = events;
      // Generous: delivering what is left takes milliseconds; a crawl of one read per wake takes seconds.
      const until = Date.now() + 3000;
      while (events < ${2 * FILES} && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      ino.close();
      rmSync(dir, { recursive: true, force: true });
      console.log(JSON.stringify({ atExit, events }));
    `], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, BUTTER_READINESS: backend } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(out.events, 2 * FILES, `delivered within 3 s of the churn's end (${out.atExit} when it ended)`);
  });
}

for (const backend of ['uv', 'epoll']) {
  test(`[${backend}] Workers with buffered Inotifys (one reading) that exit or are terminated leave no fd and no thread behind`, async () => {
    const { Worker } = await import('node:worker_threads');
    const { readdirSync } = await import('node:fs');
    const { once } = await import('node:events');
    const fds = () => readdirSync('/proc/self/fd').length;
    const threads = () => readdirSync('/proc/self/task').length;
    const before = { fds: fds(), threads: threads() };
    for (let i = 0; i < 10; i++) {
      const w = new Worker(`
        const { Inotify } = require('butter');
        const { parentPort } = require('node:worker_threads');
        const a = new Inotify({ buffer: 1 << 20 }); a.add(require('node:os').tmpdir(), ['create']); a.read().catch(() => {});
        const b = new Inotify({ buffer: 1 << 20 }); b.add(require('node:os').tmpdir(), ['create']);
        parentPort.postMessage('ready');
        ${i % 2 ? 'process.exit(0)' : 'setInterval(() => {}, 1000)'};`, { eval: true, env: { ...process.env, BUTTER_READINESS: backend } });
      await once(w, 'message');
      await w.terminate();
    }
    assert.equal(fds(), before.fds);
    for (let i = 0; i < 50 && threads() > before.threads; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(threads(), before.threads, 'every drain thread joined');
  });
}
