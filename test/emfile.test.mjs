// Out of file descriptors: every constructor's EMFILE names the call that
// failed, leaks nothing, and a process one fd short of its limit still blocks
// signals in every thread. Each case runs in a child under a low fd limit
// (prlimit) that first opens fds until EMFILE, then frees as many as the case
// needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runChild } from './support/child.mjs';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { isRoot } from './support/private-tmpfs.mjs';

const noPrlimit = spawnSync('prlimit', ['--nofile=64', 'true']).status === 0 ? false : 'prlimit (util-linux) is not available';

/**
 * Runs `body` in a child with 64 fds at most (`fill(free)` opens all but
 * `free` of them, `unfill()` closes them again); returns its JSON output.
 */
function underLimit(body) {
  const r = runChild(`
    import * as b from 'butter';
    import { openSync, closeSync, readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
    const copy = ${copySysErrorSource};
    const held = [];
    const unfill = () => { while (held.length) closeSync(held.pop()); };
    const fill = (free) => {
      unfill();
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
      for (let i = 0; i < free; i++) closeSync(held.pop());
    };
    const fds = () => readdirSync('/proc/self/fd').length;
    const attempt = (make) => {
      try { const o = make(); (o.close ?? o.release).call(o); return 'ok'; } catch (e) { return copy(e); }
    };
    const out = (v) => console.log(JSON.stringify(v));
    ${body}`, { prefix: ['prlimit', '--nofile=64'] });
  assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('each constructor\'s EMFILE names its own call and leaks no fd', { skip: noPrlimit }, () => {
  const r = underLimit(`
    const dir = mkdtempSync('/tmp/butter-emfile-');
    const makers = {
      EventFd: () => new b.EventFd(),
      TimerFd: () => new b.TimerFd(),
      SignalFd: () => new b.SignalFd('SIGUSR1'),
      blockSignals: () => b.blockSignals('SIGUSR1'),
      Inotify: () => new b.Inotify(),
      InotifyBuffer: () => new b.Inotify({ buffer: 1 << 20 }),
      Fanotify: () => new b.Fanotify(),
      watch: () => b.watch(dir),
    };
    // Each family's modules load at its first use, and loading opens files: load them first.
    for (const make of Object.values(makers)) attempt(make);
    const got = {};
    const before = fds();
    for (const free of [0, 1, 2]) {
      for (const [name, make] of Object.entries(makers)) {
        fill(free);
        got[free + ' ' + name] = attempt(make);
        unfill();
        got[free + ' ' + name + ' leaked'] = fds() - before;
      }
    }
    // A signal held already needs no broadcast: the signalfd itself is what fails.
    const block = b.blockSignals('SIGUSR2');
    fill(0);
    got.heldSignalFd = attempt(() => new b.SignalFd('SIGUSR2'));
    block.release();
    fill(1);
    const w = b.watch(dir);
    got.watchScan = await new Promise((resolve) => w.on('event', (ev) => ev.type === 'error' && resolve(copy(ev.error))));
    w.close();
    unfill();
    rmSync(dir, { recursive: true });
    out(got);`);
  for (const [key, value] of Object.entries(r)) if (key.endsWith('leaked')) assert.equal(value, 0, key);
  const at0 = {
    EventFd: 'eventfd',
    TimerFd: 'timerfd_create',
    Inotify: 'inotify_init1',
    InotifyBuffer: 'inotify_init1',
    Fanotify: 'fanotify_init',
    watch: 'inotify_init1',
  };
  for (const [name, syscall] of Object.entries(at0)) {
    if (name === 'Fanotify' && !isRoot) assertSysError(r['0 Fanotify'], 'EPERM', 'fanotify_init');
    else assertSysError(r[`0 ${name}`], 'EMFILE', syscall);
  }
  assertSysError(r['0 SignalFd'], 'EMFILE', 'opendir', '/proc/self/task');
  assertSysError(r['0 blockSignals'], 'EMFILE', 'opendir', '/proc/self/task');
  assertSysError(r.heldSignalFd, 'EMFILE', 'signalfd');
  // The drain's own eventfds come after inotify's fd.
  assertSysError(r['1 InotifyBuffer'], 'EMFILE', 'eventfd');
  assertSysError(r['2 InotifyBuffer'], 'EMFILE', 'eventfd');
  for (const name of ['EventFd', 'TimerFd', 'SignalFd', 'blockSignals', 'Inotify', 'watch']) assert.equal(r[`1 ${name}`], 'ok', name);
  assertSysError(r.watchScan, 'EMFILE', 'scandir', r.watchScan.path);
});

test('one fd short of the limit, signals are still blocked in every thread (or refused), never in some', { skip: noPrlimit }, () => {
  const r = underLimit(`
    await new Promise((resolve) => setTimeout(resolve, 20));
    const blocked = (t) => BigInt('0x' + readFileSync('/proc/self/task/' + t + '/status', 'utf8').match(/SigBlk:\\s*(\\S+)/)[1]);
    fill(1);
    const block = b.blockSignals('SIGHUP');
    unfill();
    const threads = readdirSync('/proc/self/task');
    const missed = threads.filter((t) => (blocked(t) & 1n) === 0n).length;
    fill(1);
    block.release();
    unfill();
    const still = readdirSync('/proc/self/task').filter((t) => (blocked(t) & 1n) !== 0n && blocked(t) !== 0xfffffffe7ffbfeffn).length;
    out({ threads: threads.length, missed, still });`);
  assert.ok(r.threads > 4, `threads to reach (${r.threads})`);
  assert.equal(r.missed, 0, 'every thread blocks SIGHUP');
  assert.equal(r.still, 0, 'released in every thread');
});
