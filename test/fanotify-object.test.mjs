// Fanotify, the object: events with the acting pid and resolved paths, and
// permission events that are always answered (by the handler, after it throws,
// at the deadline, at close).
//
// Safety: every mark is on a private tmpfs in a child's own mount namespace
// (support/private-tmpfs.mjs). Permission events come only from processes the
// child starts; the child never opens a marked file itself while a permission
// mark is on (it would wait for its own answer), and a child killed at its
// timeout releases every event it had not answered.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Fanotify, FanotifyEvent, fanotifyDenyErrno, constants as C } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';
import { BUTTER_ESM, isRoot, noNamespace, inPrivateTmpfs } from './support/private-tmpfs.mjs';

/** Child code: `opener(file)` opens and closes `file` in another process; resolves `{ pid, code }` ('OK' or the errno code). */
const OPENER = `
const { execFile } = await import('node:child_process');
const opener = (file) => new Promise((resolve) => {
  const child = execFile(process.execPath, ['-e', 'const fs = require("fs"); try { fs.closeSync(fs.openSync(process.argv[1])); console.log("OK") } catch (e) { console.log(e.code) }', file],
    (err, out) => resolve({ pid: child.pid, code: err ? 'FAILED ' + err.message : out.trim() }));
});
const timed = async (file) => { const t0 = performance.now(); const r = await opener(file); return { ...r, ms: performance.now() - t0 }; };
`;

const catchErr = (f) => {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('did not throw');
};

for (const backend of ['uv', 'epoll']) {
  describe(`notification events (${backend} backend)`, { skip: noNamespace }, () => {
    const env = { BUTTER_READINESS: backend };

    test('a mount mark: open, modify, close_write with the acting pid and the path; event fds closed', () => {
      const r = inPrivateTmpfs(`
        const { spawn } = await import('node:child_process');
        fs.writeFileSync(mnt + '/f', 'x');
        const fdsBefore = fs.readdirSync('/proc/self/fd').length;
        const fan = new B.Fanotify();
        fan.mark(mnt, { mount: true, events: ['open', 'modify', 'close_write', 'close_nowrite'] });
        result.fd = fan.fd;
        const got = [];
        const done = new Promise((resolve) => fan.on('event', (e) => {
          got.push({ names: e.names, path: e.path, pid: e.pid, fd: e.fd, permission: e.permission, overflow: e.overflow, isDir: e.isDir, answer: e.answer, isEvent: e instanceof B.FanotifyEvent });
          if (e.names.includes('close_write')) resolve();
        }));
        const child = spawn('sh', ['-c', 'echo hi >> "$0"', mnt + '/f'], { stdio: 'ignore' });
        result.pid = child.pid;
        await Promise.all([done, new Promise((resolve) => child.on('exit', resolve))]);
        result.got = got;
        fan.close();
        result.fdLeak = fs.readdirSync('/proc/self/fd').length - fdsBefore;
      `, { env });
      assert.ok(r.fd >= 0);
      const names = r.got.flatMap((e) => e.names);
      for (const n of ['open', 'modify', 'close_write']) assert.ok(names.includes(n), `${n} in ${JSON.stringify(names)}`);
      for (const e of r.got) {
        assert.equal(e.pid, r.pid);
        assert.equal(e.path.endsWith('/f'), true, e.path);
        assert.equal(e.fd, -1, 'notification fds are closed by Butter');
        assert.deepEqual([e.permission, e.overflow, e.isDir, e.answer, e.isEvent], [false, false, false, null, true]);
      }
      assert.equal(r.fdLeak, 0);
    });
  });
}

describe('FID events', { skip: noNamespace }, () => {
  test('report dfid_name: create, rename, moves, delete with paths, names and oldPath; a deleted object has no path', () => {
    const r = inPrivateTmpfs(`
      const fan = new B.Fanotify({ report: ['dfid_name_target'] });
      fan.mark(mnt, { filesystem: true, events: ['create', 'delete', 'moved_from', 'moved_to', 'rename', 'attrib', 'ondir'] });
      // Read after each step: the kernel merges queued events on the same object.
      const events = [];
      const step = (f) => {
        f();
        for (const e of fan.readEvents()) events.push({ names: e.names, path: e.path, name: e.name, oldPath: e.oldPath, isDir: e.isDir, pid: e.pid, fd: e.fd });
      };
      step(() => fs.mkdirSync(mnt + '/d'));
      step(() => fs.writeFileSync(mnt + '/f', ''));
      step(() => fs.renameSync(mnt + '/f', mnt + '/d/g'));
      step(() => fs.chmodSync(mnt + '/d/g', 0o600));
      step(() => fs.unlinkSync(mnt + '/d/g'));
      step(() => fs.rmdirSync(mnt + '/d'));
      result.events = events;
      result.pid = process.pid;
      fan.close();
    `);
    const m = (p) => p && p.replace(/^\/.*?butter-fanotify-[^/]+/, '<mnt>');
    const seen = r.events.map((e) => [e.names.join('|'), m(e.path), e.name, m(e.oldPath), e.isDir]);
    assert.deepEqual(seen, [
      ['create|ondir', '<mnt>/d', 'd', null, true],
      ['create', '<mnt>/f', 'f', null, false],
      ['rename', '<mnt>/d/g', 'g', '<mnt>/f', false],
      ['moved_from', '<mnt>/f', 'f', null, false],
      ['moved_to', '<mnt>/d/g', 'g', null, false],
      ['attrib', '<mnt>/d/g', 'g', null, false],
      ['attrib', null, null, null, false], // unlink's link count change: the file's handle is stale by the read
      ['delete', '<mnt>/d/g', 'g', null, false],
      ['delete|ondir', '<mnt>/d', 'd', null, true],
    ]);
    for (const e of r.events) assert.deepEqual([e.pid, e.fd], [r.pid, -1]);
  });

  test('paths that are not UTF-8: rawPath keeps their bytes, from event fds and from file handles', () => {
    const r = inPrivateTmpfs(`
      const dir = Buffer.concat([Buffer.from(mnt + '/d'), Buffer.from([0xff])]);
      const file = Buffer.concat([dir, Buffer.from('/f'), Buffer.from([0xfe, 0x41])]);
      fs.mkdirSync(dir);
      const fan = new B.Fanotify();
      fan.mark(mnt, { mount: true, events: ['close_write'] });
      const fid = new B.Fanotify({ report: ['dfid_name'] });
      fid.mark(mnt, { filesystem: true, events: ['create'] });
      fs.writeFileSync(file, '');
      const show = (e) => ({ path: e.path, raw: e.rawPath?.toString('hex'), name: e.name });
      result.fd = fan.readEvents().map(show);
      result.fid = fid.readEvents().map(show);
      result.file = file.toString('hex');
      result.text = file.toString('utf8');
      fan.close();
      fid.close();
    `);
    assert.deepEqual(r.fd, [{ path: r.text, raw: r.file, name: null }]);
    assert.equal(r.fid.length, 1);
    assert.deepEqual([r.fid[0].path, r.fid[0].raw], [r.text, r.file]);
  });

  test('overflow is an event: no path, no fd, and reading goes on after it', () => {
    const r = inPrivateTmpfs(`
      const fan = new B.Fanotify({ report: ['dfid_name'] });
      fan.mark(mnt, { filesystem: true, events: ['create'] });
      for (let i = 0; i < 16_500; i++) fs.writeFileSync(mnt + '/' + i, '');
      let creates = 0;
      const overflows = [];
      for (let batch; (batch = fan.readEvents()).length > 0; ) {
        for (const e of batch) {
          if (e.overflow) overflows.push({ names: e.names, path: e.path, fd: e.fd, pid: e.pid, permission: e.permission, index: creates });
          else creates++;
        }
      }
      fs.writeFileSync(mnt + '/after', '');
      result.after = fan.readEvents().map((e) => e.name);
      result.creates = creates;
      result.overflows = overflows;
      fan.close();
    `);
    assert.equal(r.overflows.length, 1);
    assert.deepEqual(r.overflows[0], { names: ['q_overflow'], path: null, fd: -1, pid: 0, permission: false, index: r.creates });
    assert.ok(r.creates >= 16_000 && r.creates < 16_500, String(r.creates));
    assert.deepEqual(r.after, ['after']);
  });
});

describe('marks', { skip: noNamespace }, () => {
  test('ignore marks, unmark and flush', () => {
    const r = inPrivateTmpfs(`
      fs.writeFileSync(mnt + '/loud', '');
      fs.writeFileSync(mnt + '/quiet', '');
      fs.writeFileSync(mnt + '/quiet-surv', '');
      const fan = new B.Fanotify();
      const paths = () => fan.readEvents().map((e) => e.path.slice(mnt.length + 1) + ':' + e.names.join('|'));
      const touch = (name) => fs.closeSync(fs.openSync(mnt + '/' + name, 'r+'));
      fan.mark(mnt, { mount: true, events: ['open', 'modify'] });
      // An ignore mask on one inode: its opens are not reported, the others' are.
      fan.mark(mnt + '/quiet', { ignore: true, events: ['open'] });
      fan.mark(mnt + '/quiet-surv', { ignore: true, ignoreSurviveModify: true, events: ['open'] });
      touch('loud'); touch('quiet'); touch('quiet-surv');
      result.ignored = paths();
      // A modification clears an ignore mask unless it survives modifications.
      fs.appendFileSync(mnt + '/quiet', 'x');
      fs.appendFileSync(mnt + '/quiet-surv', 'x');
      fan.readEvents();
      touch('quiet'); touch('quiet-surv');
      result.afterModify = paths();
      // unmark takes events out of a mark; flush removes every mount mark.
      fan.unmark(mnt, { mount: true, events: ['modify'] });
      fs.appendFileSync(mnt + '/loud', 'x');
      result.unmarked = paths();
      fan.flush({ mount: true });
      touch('loud');
      result.flushed = paths();
      fan.close();
    `);
    assert.deepEqual(r.ignored, ['loud:open']);
    assert.deepEqual(r.afterModify, ['quiet:open']);
    assert.deepEqual(r.unmarked, ['loud:open']);
    assert.deepEqual(r.flushed, []);
  });
});

describe('mount namespace marks', { skip: noNamespace }, () => {
  test('mntns: mounts attached to and detached from the child\'s own namespace, with their mount ids', () => {
    const r = inPrivateTmpfs(`
      fs.mkdirSync(mnt + '/sub');
      const fan = new B.Fanotify({ report: ['mnt'] });
      // /proc/self/ns/mnt is the child's own, new mount namespace.
      fan.mark('/proc/self/ns/mnt', { mntns: true, events: ['mnt_attach', 'mnt_detach'] });
      execFileSync('mount', ['-t', 'tmpfs', 'butter-fanotify-inner', mnt + '/sub']);
      execFileSync('umount', [mnt + '/sub']);
      result.events = fan.readEvents().map((e) => ({ names: e.names, path: e.path, fd: e.fd, info: e.info.map((i) => ({ type: i.type, id: typeof i.mntId })) }));
      fan.close();
    `);
    assert.deepEqual(r.events, [
      { names: ['mnt_attach'], path: null, fd: -1, info: [{ type: 'mnt', id: 'bigint' }] },
      { names: ['mnt_detach'], path: null, fd: -1, info: [{ type: 'mnt', id: 'bigint' }] },
    ]);
  });
});

describe('permission events', { skip: noNamespace }, () => {
  test('deny one file (the opener gets EPERM), allow another; the event fd and pidfd live until the answer', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/secret', 's');
      fs.writeFileSync(mnt + '/public', 'p');
      const fan = new B.Fanotify({ permission: true, report: ['pidfd'], deadline: 60_000 });
      fan.mark(mnt, { mount: true, events: ['open_perm'] });
      const seen = [];
      fan.on('event', (e) => {
        const s = { path: e.path, pid: e.pid, permission: e.permission, names: e.names, fdTarget: fs.readlinkSync('/proc/self/fd/' + e.fd), pidfdOpen: e.pidfd >= 0, pendingBefore: fan.pendingAnswers };
        s.first = e.path.endsWith('/secret') ? e.deny() : e.allow();
        Object.assign(s, { answer: e.answer, fd: e.fd, pidfd: e.pidfd, again: e.allow(), againDeny: e.deny(), pendingAfter: fan.pendingAnswers });
        seen.push(s);
      });
      result.secret = await opener(mnt + '/secret');
      result.public = await opener(mnt + '/public');
      result.seen = seen;
      fan.close();
    `);
    assert.equal(r.secret.code, 'EPERM');
    assert.equal(r.public.code, 'OK');
    assert.equal(r.seen.length, 2);
    const [secret, pub] = r.seen;
    assert.equal(secret.pid, r.secret.pid);
    assert.equal(pub.pid, r.public.pid);
    for (const [s, name, answer] of [[secret, 'secret', 'deny'], [pub, 'public', 'allow']]) {
      assert.ok(s.path.endsWith('/' + name));
      assert.equal(s.fdTarget, s.path, 'the event fd is open on the file while unanswered');
      assert.deepEqual([s.permission, s.names, s.pidfdOpen, s.pendingBefore], [true, ['open_perm'], true, 1]);
      assert.deepEqual([s.first, s.answer, s.fd, s.pidfd, s.again, s.againDeny, s.pendingAfter], [true, answer, -1, -1, false, false, 0]);
    }
  });

  test('a handler that throws still answers (the default), and the throw reaches uncaughtException', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const uncaught = [];
      process.on('uncaughtException', (err) => uncaught.push(err.message));
      for (const defaultAnswer of ['allow', 'deny']) {
        const fan = new B.Fanotify({ permission: true, deadline: 60_000, defaultAnswer });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        let event;
        fan.on('event', (e) => { event = e; throw new Error('handler failed ' + defaultAnswer); });
        const o = await timed(mnt + '/f');
        result[defaultAnswer] = { code: o.code, ms: o.ms, answer: event.answer, fd: event.fd, pending: fan.pendingAnswers };
        fan.close();
      }
      result.uncaught = uncaught;
    `);
    assert.deepEqual(r.uncaught, ['handler failed allow', 'handler failed deny']);
    assert.deepEqual([r.allow.code, r.allow.answer, r.allow.fd, r.allow.pending], ['OK', 'allow', -1, 0]);
    assert.deepEqual([r.deny.code, r.deny.answer, r.deny.fd, r.deny.pending], ['EPERM', 'deny', -1, 0]);
    assert.ok(r.allow.ms < 30_000 && r.deny.ms < 30_000, 'answered at the throw, not at the deadline');
  });

  test('an async handler that rejects: the default answer at once, and the rejection as an error event', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const fan = new B.Fanotify({ permission: true, deadline: 60_000 });
      fan.mark(mnt, { mount: true, events: ['open_perm'] });
      let event;
      const errors = [];
      fan.on('error', (err) => errors.push(err.message));
      fan.on('event', async (e) => { event = e; await null; throw new Error('async handler failed'); });
      const o = await timed(mnt + '/f');
      Object.assign(result, { code: o.code, ms: o.ms, answer: event.answer, errors });
      fan.close();
    `);
    assert.deepEqual([r.code, r.answer, r.errors], ['OK', 'allow', ['async handler failed']]);
    assert.ok(r.ms < 30_000);
  });

  test('the deadline answers an event nobody answers, with the default answer', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      for (const defaultAnswer of ['allow', 'deny']) {
        const fan = new B.Fanotify({ permission: true, deadline: 300, defaultAnswer });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        const events = [];
        fan.on('event', (e) => events.push(e));
        const [o, p] = await Promise.all([timed(mnt + '/f'), timed(mnt + '/f')]);
        result[defaultAnswer] = { codes: [o.code, p.code], ms: Math.min(o.ms, p.ms), answers: events.map((e) => e.answer), late: events.map((e) => e.allow()), pending: fan.pendingAnswers };
        fan.close();
      }
    `);
    assert.deepEqual(r.allow.codes, ['OK', 'OK']);
    assert.deepEqual(r.deny.codes, ['EPERM', 'EPERM']);
    for (const d of [r.allow, r.deny]) {
      assert.ok(d.ms >= 290, `waited for the deadline: ${d.ms}`);
      assert.deepEqual([d.late, d.pending], [[false, false], 0]);
    }
    assert.deepEqual(r.allow.answers, ['allow', 'allow']);
    assert.deepEqual(r.deny.answers, ['deny', 'deny']);
  });

  test('with nobody consuming (no listener, or a loop that broke off), events are still read and answered at the deadline', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const fan = new B.Fanotify({ permission: true, deadline: 200 });
      fan.mark(mnt, { mount: true, events: ['open_perm'] });
      const first = await timed(mnt + '/f');
      const queued = fan.readEvents();
      const opening = timed(mnt + '/f');
      for await (const e of fan) {
        e.allow();
        break;
      }
      const second = await opening;
      const third = await timed(mnt + '/f');
      result.codes = [first.code, second.code, third.code];
      result.ms = [first.ms, third.ms];
      result.queued = queued.map((e) => e.answer);
      result.last = fan.readEvents().map((e) => e.answer);
      fan.close();
    `);
    assert.deepEqual(r.codes, ['OK', 'OK', 'OK']);
    assert.ok(r.ms.every((ms) => ms >= 190), String(r.ms));
    assert.deepEqual(r.queued, ['allow']);
    assert.deepEqual(r.last, ['allow']);
  });

  for (const backend of ['uv', 'epoll']) {
    test(`a listener that comes after an event was read ahead gets it, with no other event to wake the group [${backend}]`, () => {
      const r = inPrivateTmpfs(`${OPENER}
        fs.writeFileSync(mnt + '/f', '');
        const fan = new B.Fanotify({ permission: true, deadline: 5000 });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        const opening = timed(mnt + '/f');
        while (fan.pendingAnswers === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        const got = [];
        fan.on('event', (e) => {
          got.push(e.path);
          e.deny();
        });
        const o = await opening;
        result.got = got.map((p) => p === mnt + '/f');
        result.code = o.code;
        result.ms = o.ms;
        fan.close();
      `, { env: { BUTTER_READINESS: backend } });
      assert.deepEqual([r.got, r.code], [[true], 'EPERM'], 'the listener answered it, not the deadline');
      assert.ok(r.ms < 4000, `answered before the deadline: ${r.ms} ms`);
    });
  }

  test('close() answers every pending event (read or still queued) and closes their fds', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const fdsBefore = fs.readdirSync('/proc/self/fd').length;
      const fan = new B.Fanotify({ permission: true, deadline: Infinity });
      fan.mark(mnt, { mount: true, events: ['open_perm'] });
      const it = fan.events();
      const opens = [timed(mnt + '/f'), timed(mnt + '/f'), timed(mnt + '/f')];
      const { value: ev } = await it.next();
      const fd = ev.fd;
      await new Promise((resolve) => setTimeout(resolve, 300)); // the other two open() calls wait in the kernel
      result.before = { pending: fan.pendingAnswers, fdTarget: fs.readlinkSync('/proc/self/fd/' + fd) };
      fan.close();
      result.after = { answer: ev.answer, fd: ev.fd, pending: fan.pendingAnswers, allow: ev.allow(), done: (await it.next()).done };
      result.codes = (await Promise.all(opens)).map((o) => o.code);
      result.fdLeak = fs.readdirSync('/proc/self/fd').length - fdsBefore;
    `);
    assert.ok(r.before.pending >= 1);
    assert.ok(r.before.fdTarget.endsWith('/f'));
    assert.deepEqual(r.after, { answer: 'allow', fd: -1, pending: 0, allow: false, done: true });
    assert.deepEqual(r.codes, ['OK', 'OK', 'OK']);
    assert.equal(r.fdLeak, 0);
  });

  // Closing a group has the kernel allow every event still in its queue
  // (fanotify_release), so close() reads and denies them itself.
  for (const backend of ['uv', 'epoll']) {
    test(`close() gives defaultAnswer to the events the kernel still queues while the loop is busy: deny denies them, allow allows [${backend}]`, () => {
      const r = inPrivateTmpfs(`${OPENER}
        fs.writeFileSync(mnt + '/f', '');
        const fdsBefore = fs.readdirSync('/proc/self/fd').length;
        for (const defaultAnswer of ['deny', 'allow']) {
          const fan = new B.Fanotify({ permission: true, deadline: Infinity, defaultAnswer });
          fan.mark(mnt, { mount: true, events: ['open_perm'] });
          fan.on('event', () => {}); // never answers
          const first = timed(mnt + '/f');
          while (fan.pendingAnswers === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          // From here the loop never turns until close(): the next openers' events stay in the kernel's queue.
          const opens = [first, timed(mnt + '/f'), timed(mnt + '/f'), timed(mnt + '/f')];
          const until = performance.now() + 20_000;
          while (B.fanotifyQueued(fan.fd) < 3 * C.FAN_EVENT_METADATA_LEN && performance.now() < until);
          const before = { read: fan.pendingAnswers, queued: B.fanotifyQueued(fan.fd) / C.FAN_EVENT_METADATA_LEN };
          fan.close();
          result[defaultAnswer] = { before, codes: (await Promise.all(opens)).map((o) => o.code) };
        }
        result.fdLeak = fs.readdirSync('/proc/self/fd').length - fdsBefore;
      `, { env: { BUTTER_READINESS: backend } });
      assert.deepEqual(r.deny.before, { read: 1, queued: 3 }, 'one event read, three waiting in the kernel at close()');
      assert.deepEqual(r.deny.codes, ['EPERM', 'EPERM', 'EPERM', 'EPERM'], 'every opener denied, read or still queued');
      assert.deepEqual(r.allow.before, { read: 1, queued: 3 });
      assert.deepEqual(r.allow.codes, ['OK', 'OK', 'OK', 'OK']);
      assert.equal(r.fdLeak, 0);
    });

    test(`close() with no fd free still denies every queued event: each read that fails with EMFILE took one, denied [${backend}]`, () => {
      const r = inPrivateTmpfs(`${OPENER}
        fs.writeFileSync(mnt + '/f', '');
        execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=512:']);
        const fdsBefore = fs.readdirSync('/proc/self/fd').length;
        const fan = new B.Fanotify({ permission: true, deadline: Infinity, defaultAnswer: 'deny' });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        // The loop never turns until close(): every event stays in the kernel's queue.
        const opens = [timed(mnt + '/f'), timed(mnt + '/f'), timed(mnt + '/f')];
        const until = performance.now() + 20_000;
        while (B.fanotifyQueued(fan.fd) < 3 * C.FAN_EVENT_METADATA_LEN && performance.now() < until);
        result.queued = B.fanotifyQueued(fan.fd) / C.FAN_EVENT_METADATA_LEN;
        const hog = [];
        try { for (;;) hog.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
        fan.close();
        for (const fd of hog) fs.closeSync(fd);
        result.codes = (await Promise.all(opens)).map((o) => o.code);
        result.fdLeak = fs.readdirSync('/proc/self/fd').length - fdsBefore;
      `, { env: { BUTTER_READINESS: backend } });
      assert.equal(r.queued, 3);
      assert.deepEqual(r.codes, ['EPERM', 'EPERM', 'EPERM']);
      assert.equal(r.fdLeak, 0);
    });
  }

  test('an fd the group released (answered, or a notification\'s) is never closed again: files that reuse the numbers stay open after close()', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const fan = new B.Fanotify({ permission: true, report: ['pidfd'], deadline: 60_000 });
      fan.mark(mnt, { mount: true, events: ['open_perm', 'close_nowrite'] });
      const released = [];
      let closes = 0;
      fan.on('event', (e) => {
        if (e.permission) {
          released.push(e.fd, e.pidfd);
          e.allow();
        } else closes++;
      });
      result.code = (await opener(mnt + '/f')).code;
      while (closes === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // The lowest free numbers: the ones the answer (and the notification's path read) just closed.
      const reusers = Array.from({ length: 4 }, () => fs.openSync('/dev/null', 'r'));
      result.reused = released.every((fd) => reusers.includes(fd));
      fan.close();
      result.open = reusers.map((fd) => { try { fs.fstatSync(fd); return true; } catch (e) { return e.code; } });
      for (const fd of reusers) fs.closeSync(fd);
    `);
    assert.equal(r.code, 'OK');
    assert.equal(r.reused, true, 'the new files got the released numbers');
    assert.deepEqual(r.open, [true, true, true, true]);
  });

  // The event fds (and pidfds) of events read but not answered belong to the
  // group's native handle: a Worker ending with them closes them with its group
  // (whose release has the kernel allow the waiting openers).
  for (const backend of ['uv', 'epoll']) {
    test(`a Worker terminated with unanswered permission events leaves none of their fds open, and the openers are answered [${backend}]`, () => {
      const r = inPrivateTmpfs(`${OPENER}
        const { Worker } = await import('node:worker_threads');
        const B_URL = ${JSON.stringify(BUTTER_ESM)};
        fs.writeFileSync(mnt + '/f', '');
        const fds = () => fs.readdirSync('/proc/self/fd');
        const targets = (list) => list.map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return fd; } });
        await opener(mnt + '/f'); // the first child spawned opens libuv's signal pipe for good
        const before = new Set(fds());
        const code = 'import { parentPort, workerData } from "node:worker_threads";'
          + 'import * as B from ' + JSON.stringify(B_URL) + ';'
          + 'const fan = new B.Fanotify({ permission: true, report: ["pidfd"], deadline: Infinity });'
          + 'fan.mark(workerData, { mount: true, events: ["open_perm"] });'
          + 'fan.on("event", () => parentPort.postMessage(fan.pendingAnswers));' // and never answers
          + 'parentPort.postMessage("ready");';
        const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), { workerData: mnt });
        await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        const read = new Promise((resolve) => w.on('message', (n) => n === 3 && resolve()));
        const opens = [opener(mnt + '/f'), opener(mnt + '/f'), opener(mnt + '/f')];
        await read;
        const during = targets(fds().filter((fd) => !before.has(fd)));
        result.during = { eventFds: during.filter((t) => t === mnt + '/f').length, pidfds: during.filter((t) => t === 'anon_inode:[pidfd]').length };
        await w.terminate();
        result.codes = (await Promise.all(opens)).map((o) => o.code);
        result.left = targets(fds().filter((fd) => !before.has(fd)));
      `, { env: { BUTTER_READINESS: backend } });
      assert.deepEqual(r.during, { eventFds: 3, pidfds: 3 }, 'read and unanswered: their fds are open');
      assert.deepEqual(r.codes, ['OK', 'OK', 'OK'], 'the group went with the Worker, and the kernel allowed what waited');
      assert.deepEqual(r.left, [], 'no fd of the Worker left open');
    });

    test(`Workers terminated in the middle of batches of notification events leave none of their fds open [${backend}]`, () => {
      const r = inPrivateTmpfs(`
        const { spawn } = await import('node:child_process');
        const { Worker } = await import('node:worker_threads');
        const B_URL = ${JSON.stringify(BUTTER_ESM)};
        fs.writeFileSync(mnt + '/f', '');
        const fds = () => fs.readdirSync('/proc/self/fd');
        const churn = spawn(process.execPath, ['-e', 'const fs = require("fs"); for (;;) fs.closeSync(fs.openSync(process.argv[1]));', mnt + '/f'], { stdio: 'ignore' });
        const before = new Set(fds());
        // Each read brings hundreds of events, whose fds the batch then closes one by one in JS.
        const code = 'import { parentPort, workerData } from "node:worker_threads";'
          + 'import * as B from ' + JSON.stringify(B_URL) + ';'
          + 'const fan = new B.Fanotify({ unlimitedQueue: true });'
          + 'fan.mark(workerData, { mount: true, events: ["open", "close_nowrite"] });'
          + 'let n = 0;'
          + 'fan.on("event", () => { if (++n === 1000) parentPort.postMessage("busy"); });';
        result.left = [];
        try {
          for (let round = 0; round < 8; round++) {
            const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), { workerData: mnt });
            await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
            await w.terminate();
            const left = fds().filter((fd) => !before.has(fd)).map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return fd; } });
            result.left.push(left.length);
          }
        } finally {
          churn.kill('SIGKILL');
        }
      `, { env: { BUTTER_READINESS: backend } });
      assert.deepEqual(r.left, [0, 0, 0, 0, 0, 0, 0, 0], 'fds left open after each termination');
    });
  }

  // The kernel opens an fd for every event it reads out; when it cannot (EMFILE),
  // that read fails and the event is denied. The group must keep reading.
  for (const backend of ['uv', 'epoll']) {
    test(`a read that fails with EMFILE under an open storm is reported and reading goes on: later openers are answered [${backend}]`, () => {
      const r = inPrivateTmpfs(`
        const { spawn, execFileSync } = await import('node:child_process');
        const STORM = 40;
        for (let i = 0; i < STORM; i++) fs.writeFileSync(mnt + '/f' + i, '');
        fs.writeFileSync(mnt + '/after', '');
        execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=512:']);
        const fan = new B.Fanotify({ permission: true, deadline: 400 });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        const errors = [];
        fan.on('error', (e) => errors.push(e.code + ' ' + e.syscall));
        fan.on('event', () => {}); // never answers: the deadline does
        const within = (p, ms) => new Promise((resolve) => { const t = setTimeout(resolve, ms, 'TIMEOUT'); p.then((v) => { clearTimeout(t); resolve(v); }); });
        const children = [];
        const run = (script) => {
          const c = spawn('sh', ['-c', script, mnt], { stdio: ['pipe', 'pipe', 'ignore'] });
          children.push(c);
          let out = '';
          c.stdout.on('data', (d) => (out += d));
          return { stdin: c.stdin, exited: new Promise((resolve) => c.on('exit', () => resolve(out))) };
        };
        try {
          // Started now (spawning takes fds), let go once this process has all but a few in use.
          const storm = run('read go; for i in $(seq 0 ' + (STORM - 1) + '); do (cat "$0/f$i" >/dev/null 2>&1 && echo OK || echo DENIED) & done; wait');
          const hog = [];
          try { for (;;) hog.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
          for (const fd of hog.splice(0, 4)) fs.closeSync(fd);
          storm.stdin.end('go\\n');
          await new Promise((resolve) => setTimeout(resolve, 300));
          for (const fd of hog) fs.closeSync(fd);
          const out = await within(storm.exited, 8000);
          result.storm = out === 'TIMEOUT' ? out : { ok: out.split('OK').length - 1, denied: out.split('DENIED').length - 1 };
          result.after = await within(run('cat "$0/after" && echo OK').exited, 4000);
          result.errors = [...new Set(errors)];
        } finally {
          fan.close(); // answers whatever is still queued, so no opener is left waiting
          for (const c of children) c.kill('SIGKILL');
        }
      `, { env: { BUTTER_READINESS: backend } });
      assert.deepEqual(r.errors, ['EMFILE read'], 'the failed reads were reported');
      assert.notEqual(r.storm, 'TIMEOUT', 'every opener of the storm was answered');
      assert.equal(r.storm.ok + r.storm.denied, 40);
      assert.ok(r.storm.denied >= 1, 'the kernel denies an event it could not make an fd for');
      assert.equal(r.after, 'OK\n', 'an opener after the storm is answered (at the deadline)');
    });
  }

  test('under churn every event fd and pidfd is closed once: 5,000 answered opens, 200 marked groups made and closed', () => {
    const r = inPrivateTmpfs(`
      const { execFile } = await import('node:child_process');
      fs.writeFileSync(mnt + '/f', '');
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const before = count();
      // Each closed marked group costs the kernel an SRCU grace period (some 6 ms here): 200, not more.
      for (let i = 0; i < 200; i++) {
        const g = new B.Fanotify({ report: ['dfid_name'] });
        g.mark(mnt, { filesystem: true, events: ['create'] });
        g.close();
      }
      result.groupsLeak = count() - before;
      const fan = new B.Fanotify({ permission: true, report: ['pidfd'] });
      fan.mark(mnt, { mount: true, events: ['open_perm', 'close_nowrite'] });
      const counts = { open_perm: 0, close_nowrite: 0 };
      fan.on('event', (e) => {
        for (const n of e.names) counts[n]++;
        if (e.permission) e.allow();
      });
      const loop = 'const fs = require("fs"); for (let i = 0; i < 5000; i++) fs.closeSync(fs.openSync(process.argv[1]));';
      await new Promise((resolve, reject) => execFile(process.execPath, ['-e', loop, mnt + '/f'], (err) => (err ? reject(err) : resolve())));
      while (counts.close_nowrite < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
      result.counts = counts;
      result.pending = fan.pendingAnswers;
      fan.close();
      result.leak = count() - before;
    `, { timeout: 60_000 });
    assert.equal(r.groupsLeak, 0);
    assert.deepEqual(r.counts, { open_perm: 5000, close_nowrite: 5000 });
    assert.equal(r.pending, 0);
    assert.equal(r.leak, 0);
  });

  test('audit answers, FAN_INFO audit rules, deny with an errno (pre-content groups), and their errors', () => {
    const r = inPrivateTmpfs(`${OPENER}
      fs.writeFileSync(mnt + '/f', '');
      const run = async (options, answer) => {
        const fan = new B.Fanotify({ permission: true, deadline: 60_000, ...options });
        fan.mark(mnt, { mount: true, events: ['open_perm'] });
        const out = {};
        fan.on('event', (e) => {
          out.error = errorOf(() => answer(e));
          out.answer = e.answer;
          if (e.answer === null) e.allow();
        });
        out.code = (await opener(mnt + '/f')).code;
        fan.close();
        return out;
      };
      result.auditNoGroup = await run({}, (e) => e.allow({ audit: true }));
      result.audit = await run({ audit: true }, (e) => e.allow({ audit: true }));
      result.auditRule = await run({ audit: true }, (e) => e.deny({ audit: { ruleNumber: 7, subjTrust: 1, objTrust: 0 } }));
      result.errnoContent = await run({}, (e) => e.deny({ errno: 'EIO' }));
      result.errnoPreContent = await run({ class: 'pre_content' }, (e) => e.deny({ errno: 'EIO' }));
      // A response for an fd no event of this group waits on.
      const fan = new B.Fanotify({ permission: true });
      result.enoent = errorOf(() => B.fanotifyRespond(fan.fd, 999, C.FAN_ALLOW));
      fan.close();
    `);
    assert.deepEqual([r.auditNoGroup.answer, r.auditNoGroup.code], [null, 'OK']);
    assertSysError(r.auditNoGroup.error, 'EINVAL', 'write');
    assert.deepEqual(r.audit, { error: { name: 'none' }, answer: 'allow', code: 'OK' });
    assert.deepEqual(r.auditRule, { error: { name: 'none' }, answer: 'deny', code: 'EPERM' });
    assertSysError(r.errnoContent.error, 'EINVAL', 'write');
    assert.deepEqual([r.errnoContent.answer, r.errnoContent.code], [null, 'OK']);
    assert.deepEqual(r.errnoPreContent, { error: { name: 'none' }, answer: 'deny', code: 'EIO' });
    assertSysError(r.enoent, 'ENOENT', 'write');
  });
});

describe('errors', { skip: noNamespace }, () => {
  test('fanotify_mark: ENOENT and ENOTDIR with the path, EINVAL for a permission event on a notification group', () => {
    const r = inPrivateTmpfs(`
      fs.writeFileSync(mnt + '/file', '');
      const fan = new B.Fanotify();
      result.enoent = errorOf(() => fan.mark(mnt + '/missing', { events: ['open'] }));
      result.enotdir = errorOf(() => fan.mark(mnt + '/file', { events: ['open'], onlyDir: true }));
      result.einval = errorOf(() => fan.mark(mnt, { mount: true, events: ['open_perm'] }));
      // Directory-entry events need FID reporting.
      result.einvalFid = errorOf(() => fan.mark(mnt, { events: ['create'] }));
      fan.close();
      result.ebadf = errorOf(() => fan.mark(mnt, { events: ['open'] }));
      result.mnt = mnt;
    `);
    assertSysError(r.enoent, 'ENOENT', 'fanotify_mark', `${r.mnt}/missing`);
    assertSysError(r.enotdir, 'ENOTDIR', 'fanotify_mark', `${r.mnt}/file`);
    assertSysError(r.einval, 'EINVAL', 'fanotify_mark', r.mnt);
    assertSysError(r.einvalFid, 'EINVAL', 'fanotify_mark', r.mnt);
    assertSysError(r.ebadf, 'EBADF', 'fanotify_mark');
  });

  test('fanotify_init: EINVAL for FID reporting with a permission class', { skip: !isRoot && 'needs CAP_SYS_ADMIN' }, () => {
    assertSysError(catchErr(() => new Fanotify({ permission: true, report: ['fid'] })), 'EINVAL', 'fanotify_init');
    assertSysError(catchErr(() => new Fanotify({ report: ['pidfd', 'tid'] })), 'EINVAL', 'fanotify_init');
  });

  test('fanotify_init: EPERM without CAP_SYS_ADMIN', { skip: nobodyUnavailable }, () => {
    const code = `import * as B from ${JSON.stringify(BUTTER_ESM)};
      try { new B.Fanotify(); console.log('{}'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
    assertSysError(JSON.parse(r.stdout), 'EPERM', 'fanotify_init');
  });
});

describe('bad arguments are refused before any syscall', { skip: !isRoot && 'needs CAP_SYS_ADMIN' }, () => {
  const code = (f, c) => assert.throws(f, (e) => e.code === c, c);

  test('constructor options', () => {
    code(() => new Fanotify(1), 'ERR_INVALID_ARG_TYPE');
    code(() => new Fanotify({ permission: 'yes' }), 'ERR_INVALID_ARG_TYPE');
    code(() => new Fanotify({ class: 'content2' }), 'ERR_INVALID_ARG_VALUE');
    code(() => new Fanotify({ report: 'fid' }), 'ERR_INVALID_ARG_TYPE');
    code(() => new Fanotify({ report: ['fid', 'nope'] }), 'ERR_INVALID_ARG_VALUE');
    code(() => new Fanotify({ report: ['fid', { x: 1n }] }), 'ERR_INVALID_ARG_VALUE');
    code(() => new Fanotify({ deadline: 0 }), 'ERR_OUT_OF_RANGE');
    code(() => new Fanotify({ deadline: NaN }), 'ERR_OUT_OF_RANGE');
    code(() => new Fanotify({ deadline: '1' }), 'ERR_INVALID_ARG_TYPE');
    code(() => new Fanotify({ defaultAnswer: 'maybe' }), 'ERR_INVALID_ARG_VALUE');
    code(() => new Fanotify({ eventFlags: -1 }), 'ERR_OUT_OF_RANGE');
    code(() => new Fanotify({ unlimitedQueue: 1 }), 'ERR_INVALID_ARG_TYPE');
  });

  test('mark, unmark, flush', () => {
    const fan = new Fanotify();
    try {
      code(() => fan.mark('/nonexistent'), 'ERR_INVALID_ARG_TYPE');
      code(() => fan.mark('/nonexistent', { events: 'open' }), 'ERR_INVALID_ARG_TYPE');
      code(() => fan.mark('/nonexistent', { events: ['open', 'opened'] }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.mark('/nonexistent', { events: ['q_overflow'] }), 'ERR_INVALID_ARG_VALUE');
      // A name that is no string, even one JSON cannot write (a BigInt inside), is named in the message.
      code(() => fan.mark('/nonexistent', { events: [{ '': 0n }] }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.mark('/nonexistent', { events: -1 }), 'ERR_OUT_OF_RANGE');
      code(() => fan.mark('/nonexistent', { events: 2n ** 64n }), 'ERR_OUT_OF_RANGE');
      code(() => fan.mark('/nonexistent', { events: ['open'], mount: true, filesystem: true }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.mark('/nonexistent', { events: ['open'], mount: 'yes' }), 'ERR_INVALID_ARG_TYPE');
      code(() => fan.mark('/nonexistent', { events: ['open'], ignoreSurviveModify: true }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.mark('/nonexistent', { events: ['open'], dirfd: 2 ** 31 }), 'ERR_OUT_OF_RANGE');
      code(() => fan.mark(null, { events: ['open'] }), 'ERR_INVALID_ARG_TYPE');
      code(() => fan.mark('a\0b', { events: ['open'] }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.unmark(42, { events: ['open'] }), 'ERR_INVALID_ARG_TYPE');
      code(() => fan.flush({ mount: true, inode: true }), 'ERR_INVALID_ARG_VALUE');
      code(() => fan.flush(7), 'ERR_INVALID_ARG_TYPE');
    } finally {
      fan.close();
    }
  });

  test('answers', () => {
    assert.throws(() => fanotifyDenyErrno('ENOPE'), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fanotifyDenyErrno(256), { code: 'ERR_OUT_OF_RANGE' });
    assert.equal(fanotifyDenyErrno('EIO'), (C.FAN_DENY | (5 << C.FAN_ERRNO_SHIFT)) >>> 0);
    assert.equal(typeof FanotifyEvent, 'function');
  });
});
