// timerfd: the 1:1 calls and the TimerFd object. Run once per readiness backend:
// timerfd-epoll.test.mjs imports this file with the portable backend forced.
//
// Timing: no assertion here depends on how fast this VM is. Lower bounds hold
// because the kernel never fires early; "no drift" is checked exactly, against
// the kernel's own grid, by bracketing a synchronous read with clock readings.
//
// The realtime clock is global state: the cancel-on-set tests only ever set it
// to its own current value (which still counts as a change), from a child
// process, and skip when that is not permitted. The other run of this file may
// do the same at the same time, so those tests accept extra clock changes.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { nobodyUnavailable } from './support/nobody.mjs';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { fdinfo, runChild, root } from './support/child.mjs';
import {
  timerfdCreate,
  timerfdSettime,
  timerfdGettime,
  timerfdSetTicks,
  timerfdRead,
  TimerFd,
  eventfd,
  constants as C,
  readinessBackend,
  AbortError,
} from 'butter';

const expectedBackend = process.env.BUTTER_READINESS === 'epoll' ? 'epoll' : 'uv';
const KTIME_MAX = 2n ** 63n - 1n;
const MS = 1_000_000n;
const isRoot = process.getuid?.() === 0;


function hasCapability(bit) {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s*([0-9a-f]+)$/m);
  return line !== null && ((BigInt(`0x${line[1]}`) >> BigInt(bit)) & 1n) === 1n;
}
const CAP_WAKE_ALARM = 35;


/** Runs `fn` with a new TimerFd, closed afterwards (Node 20 has no `using`). */
async function withTimer(options, fn) {
  const timer = new TimerFd(options);
  try {
    return await fn(timer);
  } finally {
    timer.close();
  }
}

/** Number of grid points start, start + period, … at or before t. */
const gridCount = (t, start, period) => (t < start ? 0n : (t - start) / period + 1n);

/** Polls `read` (a non-blocking read) every millisecond until it stops throwing EAGAIN. */
async function readSoon(read, timeoutMs = 10_000) {
  for (const t0 = Date.now(); ; await sleep(1)) {
    try {
      return read();
    } catch (e) {
      if (e.code !== 'EAGAIN' || Date.now() - t0 > timeoutMs) throw e;
    }
  }
}

async function waitUntil(condition, timeoutMs = 10_000) {
  for (const t0 = Date.now(); !condition(); await sleep(1)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${condition}`);
  }
}

/**
 * Reads a periodic timer synchronously, between two readings of its clock, until
 * a read succeeds; returns { before, ev, after }. The kernel counts expirations
 * up to the moment of the read, so the count is exact for some time in [before, after].
 */
async function bracketedRead(timer) {
  for (let i = 0; i < 10_000; i++) {
    const before = timer.now();
    const ev = timer.readEvent();
    const after = timer.now();
    if (ev !== null) return { before, ev, after };
    await sleep(1);
  }
  throw new Error('the timer never expired');
}

// ---- setting the realtime clock to its own current value, from a child ----

const workdir = mkdtempSync(join(tmpdir(), 'butter-timerfd-'));
after(() => rmSync(workdir, { recursive: true, force: true }));

/** A command that sets the realtime clock to its own current value, or a reason why there is none. */
function findClockSetter() {
  if (!isRoot) return { skip: 'needs root (CAP_SYS_TIME) to set the realtime clock' };
  const src = join(workdir, 'setclock.c');
  const bin = join(workdir, 'setclock');
  // Reads the clock and sets it to what it read: the smallest change there is.
  writeFileSync(src, `#include <stdio.h>
#include <time.h>
int main(void) {
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) != 0 || clock_settime(CLOCK_REALTIME, &now) != 0) {
    perror("clock_settime");
    return 1;
  }
  return 0;
}
`);
  const candidates = [];
  if (spawnSync('cc', ['-O', '-o', bin, src], { stdio: 'ignore', timeout: 60_000 }).status === 0) candidates.push([bin]);
  candidates.push(['python3', '-c', 'import time; time.clock_settime_ns(time.CLOCK_REALTIME, time.clock_gettime_ns(time.CLOCK_REALTIME))']);
  for (const command of candidates) {
    if (spawnSync(command[0], command.slice(1), { stdio: 'ignore', timeout: 10_000 }).status === 0) return { command };
  }
  return { skip: 'neither a C compiler nor python3 could set the realtime clock here (CAP_SYS_TIME?)' };
}
const clockSetter = findClockSetter();

function setClockToItself() {
  const [cmd, ...args] = clockSetter.command;
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
}

test('the readiness backend in force is the one asked for', () => {
  assert.equal(readinessBackend(), expectedBackend);
});

describe('timerfd, 1:1', () => {
  test('constants carry the C values', () => {
    assert.deepEqual(
      [C.CLOCK_REALTIME, C.CLOCK_MONOTONIC, C.CLOCK_BOOTTIME, C.CLOCK_REALTIME_ALARM, C.CLOCK_BOOTTIME_ALARM],
      [0, 1, 7, 8, 9],
    );
    assert.deepEqual([C.TFD_TIMER_ABSTIME, C.TFD_TIMER_CANCEL_ON_SET], [1, 2]);
    assert.deepEqual([C.TFD_CLOEXEC, C.TFD_NONBLOCK], [0o2000000, 0o4000]);
    assert.equal(C.TFD_IOC_SET_TICKS, 0x40085400); // _IOW('T', 0, __u64)
  });

  test('defaults to a non-blocking, close-on-exec, disarmed timer', () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      const info = fdinfo(fd);
      const flags = parseInt(info.flags, 8);
      assert.ok(flags & 0o4000, 'O_NONBLOCK');
      assert.ok(flags & 0o2000000, 'O_CLOEXEC');
      assert.equal(info.clockid, String(C.CLOCK_MONOTONIC));
      assert.deepEqual(timerfdGettime(fd), { interval: 0n, value: 0n });
    } finally {
      closeSync(fd);
    }
  });

  test('explicit flags are passed through as given', () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC, C.TFD_CLOEXEC);
    try {
      assert.equal(parseInt(fdinfo(fd).flags, 8) & 0o4000, 0, 'blocking when TFD_NONBLOCK is not given');
    } finally {
      closeSync(fd);
    }
  });

  test('every clock timerfd accepts (the alarm clocks with CAP_WAKE_ALARM)', () => {
    for (const name of ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_BOOTTIME']) {
      const fd = timerfdCreate(C[name]);
      assert.equal(fdinfo(fd).clockid, String(C[name]), name);
      closeSync(fd);
    }
    for (const name of ['CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM']) {
      if (hasCapability(CAP_WAKE_ALARM)) {
        const fd = timerfdCreate(C[name]);
        assert.equal(fdinfo(fd).clockid, String(C[name]), name);
        closeSync(fd);
      } else {
        assert.throws(() => timerfdCreate(C[name]), (e) => assertSysError(e, 'EPERM', 'timerfd_create'));
      }
    }
  });

  test('settime returns the old setting; times are split into tv_sec/tv_nsec exactly', () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      const first = { interval: 1_999_999_999n, value: 3_600_000_000_001n };
      assert.deepEqual(timerfdSettime(fd, 0, first), { interval: 0n, value: 0n });
      const info = fdinfo(fd);
      assert.equal(info.it_interval, '(1, 999999999)');
      assert.equal(info['settime flags'], '00');
      const old = timerfdSettime(fd, 0, { value: 10_000n * MS });
      assert.equal(old.interval, first.interval, 'the interval comes back to the nanosecond');
      assert.ok(old.value > 3_500_000n * MS && old.value <= first.value, `time left ${old.value}`);
      const now = timerfdGettime(fd);
      assert.equal(now.interval, 0n, 'an omitted interval is 0n (one-shot)');
      assert.ok(now.value > 0n && now.value <= 10_000n * MS);
      // The kernel's whole range, to the nanosecond, and one past it refused.
      timerfdSettime(fd, 0, { interval: KTIME_MAX, value: 1_000_000_000n * MS });
      assert.equal(timerfdGettime(fd).interval, KTIME_MAX);
      assert.equal(fdinfo(fd).it_interval, '(9223372036, 854775807)');
      timerfdSettime(fd, 0, { interval: 1n, value: KTIME_MAX });
      assert.equal(timerfdGettime(fd).interval, 1n);
      assert.deepEqual(timerfdSettime(fd, 0, { interval: 0n, value: 0n }).interval, 1n, 'value 0n disarms');
      assert.deepEqual(timerfdGettime(fd), { interval: 0n, value: 0n });
    } finally {
      closeSync(fd);
    }
  });

  test('TFD_TIMER_ABSTIME: the value is a time on the clock; read back as time left', async () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      const now = process.hrtime.bigint(); // CLOCK_MONOTONIC
      timerfdSettime(fd, C.TFD_TIMER_ABSTIME, { value: now + 60_000n * MS });
      assert.equal(fdinfo(fd)['settime flags'], '01');
      const left = timerfdGettime(fd).value;
      assert.ok(left > 50_000n * MS && left <= 60_000n * MS, `time left ${left}`);
      // A deadline already past expires at once.
      timerfdSettime(fd, C.TFD_TIMER_ABSTIME, { value: 1n });
      assert.equal(await readSoon(() => timerfdRead(fd)), 1n);
    } finally {
      closeSync(fd);
    }
  });

  test('one-shot: one expiration, then EAGAIN, and the timer is disarmed', async () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      timerfdSettime(fd, 0, { value: 2n * MS });
      assert.equal(await readSoon(() => timerfdRead(fd)), 1n);
      assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'EAGAIN', 'read') && e.errno === -11);
      assert.deepEqual(timerfdGettime(fd), { interval: 0n, value: 0n });
    } finally {
      closeSync(fd);
    }
  });

  test('periodic: expirations accumulate while nobody reads, exactly on the grid', async () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      const period = 2n * MS;
      const start = process.hrtime.bigint() + period;
      timerfdSettime(fd, C.TFD_TIMER_ABSTIME, { value: start, interval: period });
      await sleep(30);
      const before = process.hrtime.bigint();
      const n = timerfdRead(fd);
      const after = process.hrtime.bigint();
      assert.ok(n >= gridCount(before, start, period) && n <= gridCount(after, start, period), `${n} expirations`);
      assert.ok(n >= 10n);
    } finally {
      closeSync(fd);
    }
  });

  test('EAGAIN: reading a timer with nothing expired without blocking', () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'EAGAIN', 'read'));
      timerfdSettime(fd, 0, { value: 60_000n * MS });
      assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'EAGAIN', 'read'));
    } finally {
      closeSync(fd);
    }
  });

  test('TFD_IOC_SET_TICKS sets what the next read returns (or ENOTTY without checkpoint/restore)', () => {
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      try {
        timerfdSetTicks(fd, 5n);
      } catch (e) {
        // Kernels built without CONFIG_CHECKPOINT_RESTORE have no such ioctl.
        assertSysError(e, 'ENOTTY', 'ioctl');
        return;
      }
      assert.equal(fdinfo(fd).ticks, '5');
      assert.equal(timerfdRead(fd), 5n);
      timerfdSetTicks(fd, 2n ** 64n - 1n);
      assert.equal(timerfdRead(fd), 2n ** 64n - 1n, 'the full 64 bits');
      timerfdSetTicks(fd, 7);
      assert.equal(timerfdRead(fd), 7n);
      assert.throws(() => timerfdSetTicks(fd, 0n), (e) => assertSysError(e, 'EINVAL', 'ioctl') && e.errno === -22);
    } finally {
      closeSync(fd);
    }
  });

  test('EINVAL: clocks timerfd does not accept', () => {
    // CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, the coarse clocks, TAI, unknown.
    for (const clockid of [2, 3, 4, 5, 6, 11, 12, 100, -1, -6]) {
      assert.throws(() => timerfdCreate(clockid), (e) => assertSysError(e, 'EINVAL', 'timerfd_create') && e.errno === -22, `clockid ${clockid}`);
    }
  });

  test('EINVAL: unknown flags to timerfd_create and timerfd_settime', () => {
    assert.throws(() => timerfdCreate(C.CLOCK_MONOTONIC, 0x40000000), (e) => assertSysError(e, 'EINVAL', 'timerfd_create'));
    assert.throws(() => timerfdCreate(C.CLOCK_MONOTONIC, C.TFD_TIMER_ABSTIME), (e) => assertSysError(e, 'EINVAL', 'timerfd_create'), 'a settime flag');
    const fd = timerfdCreate(C.CLOCK_MONOTONIC);
    try {
      for (const flags of [4, -(2 ** 31), C.TFD_NONBLOCK]) {
        assert.throws(() => timerfdSettime(fd, flags, { value: MS }), (e) => assertSysError(e, 'EINVAL', 'timerfd_settime'), `flags ${flags}`);
      }
      assert.deepEqual(timerfdGettime(fd), { interval: 0n, value: 0n }, 'nothing was armed');
    } finally {
      closeSync(fd);
    }
  });

  test('TFD_TIMER_CANCEL_ON_SET without TFD_TIMER_ABSTIME, or on a clock that is not realtime, is accepted and ignored', () => {
    // The kernel only arms cancel-on-set for an absolute timer on CLOCK_REALTIME(_ALARM); see the clock tests below.
    const mono = timerfdCreate(C.CLOCK_MONOTONIC);
    const real = timerfdCreate(C.CLOCK_REALTIME);
    try {
      timerfdSettime(mono, C.TFD_TIMER_ABSTIME | C.TFD_TIMER_CANCEL_ON_SET, { value: KTIME_MAX });
      timerfdSettime(real, C.TFD_TIMER_CANCEL_ON_SET, { value: 60_000n * MS });
      assert.equal(fdinfo(mono)['settime flags'], '03');
      assert.equal(fdinfo(real)['settime flags'], '02');
    } finally {
      closeSync(mono);
      closeSync(real);
    }
  });

  test('EINVAL: settime and gettime on an fd that is not a timerfd; ENOTTY for the ioctl', () => {
    const fd = eventfd(0);
    try {
      assert.throws(() => timerfdSettime(fd, 0, { value: MS }), (e) => assertSysError(e, 'EINVAL', 'timerfd_settime'));
      assert.throws(() => timerfdGettime(fd), (e) => assertSysError(e, 'EINVAL', 'timerfd_gettime'));
      assert.throws(() => timerfdSetTicks(fd, 1n), (e) => assertSysError(e, 'ENOTTY', 'ioctl') && e.errno === -25);
    } finally {
      closeSync(fd);
    }
  });

  test('EBADF: every call on an fd that is not open', () => {
    const fd = 2 ** 31 - 1;
    assert.throws(() => timerfdSettime(fd, 0, { value: MS }), (e) => assertSysError(e, 'EBADF', 'timerfd_settime') && e.errno === -9);
    assert.throws(() => timerfdGettime(fd), (e) => assertSysError(e, 'EBADF', 'timerfd_gettime'));
    assert.throws(() => timerfdSetTicks(fd, 1n), (e) => assertSysError(e, 'EBADF', 'ioctl'));
    assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'EBADF', 'read'));
  });

  const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
  const canDropToNobody = !nobodyUnavailable && spawnSync(NOBODY[0], [...NOBODY.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  // Without root the test above has already seen EPERM in this process.
  const noNobody = !canDropToNobody && (nobodyUnavailable || 'needs setpriv(1) to run a child as nobody without capabilities');

  test('EPERM: the alarm clocks without CAP_WAKE_ALARM (in a child running as nobody)', { skip: noNobody }, () => {
    const r = runChild(
      `import { timerfdCreate, TimerFd, constants as C } from ${JSON.stringify(import.meta.resolve('butter'))};
       const copy = ${copySysErrorSource};
       const out = [];
       for (const c of ['CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM']) {
         try { timerfdCreate(C[c]); out.push('created'); } catch (e) { out.push(copy(e)); }
       }
       try { new TimerFd({ clock: 'boottime_alarm' }); } catch (e) { out.push(copy(e)); }
       out.push(typeof timerfdCreate(C.CLOCK_MONOTONIC));
       console.log(JSON.stringify(out));`,
      { prefix: NOBODY },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.length, 4, r.stdout);
    for (const e of out.slice(0, 3)) assertSysError(e, 'EPERM', 'timerfd_create');
    assert.equal(out[3], 'number');
  });

  test('EMFILE: out of file descriptors (in a child with a low RLIMIT_NOFILE)', () => {
    const r = spawnSync(
      'bash',
      ['-c', `ulimit -n 64 && exec "${process.execPath}" --input-type=module -e "$0"`, `
        import { timerfdCreate, TimerFd } from 'butter';
        const copy = ${copySysErrorSource};
        // A family loads on first use, reading its files: load it while fds are left.
        void TimerFd.prototype;
        const out = {};
        try { for (;;) timerfdCreate(1); } catch (e) { out.raw = copy(e); }
        // Filled again: the runtime may have closed an fd of its own meanwhile.
        const keep = [];
        try { for (;;) keep.push(new TimerFd()); } catch (e) { out.object = copy(e); }
        console.log(JSON.stringify(out));`],
      { cwd: root, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.raw, 'EMFILE', 'timerfd_create');
    assertSysError(out.object, 'EMFILE', 'timerfd_create');
  });

  test('bad arguments are refused before any syscall', () => {
    const code = (c, Ctor) => (e) => e.code === c && e.constructor === Ctor;
    const range = code('ERR_OUT_OF_RANGE', RangeError);
    const type = code('ERR_INVALID_ARG_TYPE', TypeError);
    assert.throws(() => timerfdCreate('1'), type);
    assert.throws(() => timerfdCreate(), type);
    assert.throws(() => timerfdCreate(1.5), range);
    assert.throws(() => timerfdCreate(2 ** 31), range);
    assert.throws(() => timerfdCreate(1, 2 ** 31), range);
    assert.throws(() => timerfdSettime(-1, 0, { value: 1n }), range);
    assert.throws(() => timerfdSettime(0, '0', { value: 1n }), type);
    assert.throws(() => timerfdSettime(0, 0), type);
    assert.throws(() => timerfdSettime(0, 0, null), type);
    assert.throws(() => timerfdSettime(0, 0, 5n), type);
    assert.throws(() => timerfdSettime(0, 0, {}), type);
    assert.throws(() => timerfdSettime(0, 0, { value: 1 }), type, 'numbers are refused: nanoseconds are bigints');
    assert.throws(() => timerfdSettime(0, 0, { value: -1n }), range);
    assert.throws(() => timerfdSettime(0, 0, { value: KTIME_MAX + 1n }), range);
    assert.throws(() => timerfdSettime(0, 0, { value: 1n, interval: -1n }), range);
    assert.throws(() => timerfdSettime(0, 0, { value: 1n, interval: 2n ** 64n }), range);
    assert.throws(() => timerfdSettime(0, 0, { value: 1n, interval: null }), type);
    assert.throws(() => timerfdGettime('0'), type);
    assert.throws(() => timerfdRead(-1), range);
    assert.throws(() => timerfdSetTicks(0, -1n), range);
    assert.throws(() => timerfdSetTicks(0, 2n ** 64n), range);
    assert.throws(() => timerfdSetTicks(0, 0.5), range);
    assert.throws(() => timerfdSetTicks(0, '1'), type);
  });

  test('argument errors read like Node\'s', () => {
    assert.throws(() => timerfdSettime(0, 0, { value: -1n }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "newValue.value" is out of range. It must be >= 0 && <= 9223372036854775807. Received -1n',
    });
    assert.throws(() => timerfdSettime(0, 0, { value: 5 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "newValue.value" property must be of type bigint. Received type number (5)',
    });
  });
});

describe('TimerFd', () => {
  test('one-shot: one expire event, then nothing; get() shows it disarmed', () =>
    withTimer({}, async (timer) => {
      assert.equal(timer.clock, 'monotonic');
      assert.equal(fdinfo(timer.fd).clockid, String(C.CLOCK_MONOTONIC));
      const t0 = timer.now();
      timer.set(5);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
      assert.ok(timer.now() - t0 >= 5n * MS, 'never early');
      assert.deepEqual(timer.get(), { interval: 0n, value: 0n });
      assert.equal(timer.readEvent(), null);
    }));

  test('a delay of 0 expires at once (the kernel would read 0 as "disarm")', () =>
    withTimer({}, async (timer) => {
      timer.set(0);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
      timer.set(0n);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
    }));

  test('times: milliseconds as numbers (fractional too), nanoseconds as bigints', () =>
    withTimer({}, async (timer) => {
      timer.set(60_000.5, { interval: 2.25 });
      assert.equal(timer.get().interval, 2_250_000n);
      assert.ok(timer.get().value > 59_000n * MS && timer.get().value <= 60_000_500_000n);
      timer.set(60_000_000_000n, { interval: 1n });
      assert.equal(timer.get().interval, 1n);
      timer.set(1e3, { interval: 0.000001 });
      assert.equal(timer.get().interval, 1n, '0.000001 ms is 1 ns');
      timer.set(1e3, { interval: 2.0000006 });
      assert.equal(timer.get().interval, 2_000_001n, 'rounded to the nearest nanosecond, not truncated');
      timer.set(9_223_372_036_854, { interval: KTIME_MAX });
      assert.equal(timer.get().interval, KTIME_MAX);
    }));

  test('missed expirations are counted across a blocked event loop', () =>
    withTimer({}, async (timer) => {
      timer.set(5, { interval: 5 });
      const pending = timer.read();
      const t0 = timer.now();
      while (timer.now() - t0 < 50n * MS); // the loop is blocked: nothing is read
      const ev = await pending;
      assert.equal(ev.type, 'expire');
      assert.ok(ev.expirations >= 9n, `${ev.expirations} expirations in one event`);
    }));

  test('absolute deadlines do not drift over many periods', () =>
    withTimer({}, async (timer) => {
      const period = 5n * MS;
      const start = timer.now() + period;
      timer.set(start, { interval: period, absolute: true });
      assert.equal(fdinfo(timer.fd)['settime flags'], '01');
      let total = 0n;
      let events = 0;
      for await (const ev of timer) {
        assert.equal(ev.type, 'expire');
        total += ev.expirations;
        // The k-th expiration never arrives before start + (k - 1) * period.
        assert.ok(total <= gridCount(timer.now(), start, period), `expiration ${total} early`);
        if (++events === 40) break;
      }
      await sleep(20);
      // Exactly: every grid point up to the moment of the read, not one more or less.
      const { before, ev, after } = await bracketedRead(timer);
      total += ev.expirations;
      assert.ok(total >= gridCount(before, start, period), `${total} < ${gridCount(before, start, period)}: lost or drifted`);
      assert.ok(total <= gridCount(after, start, period), `${total} > ${gridCount(after, start, period)}: early`);
      // And the next expiration, somewhere in [lo, hi], is a grid point. (The kernel
      // says 0n left in the instant between a grid point and its interrupt: ask again.)
      let lo, hi, left;
      do {
        if (left === 0n) await sleep(1);
        const t0 = timer.now();
        left = timer.get().value;
        [lo, hi] = [t0 + left, timer.now() + left];
      } while (left === 0n);
      const k = (lo - start + period - 1n) / period;
      assert.ok(start + k * period <= hi, `no grid point in [${lo}, ${hi}]`);
    }));

  test('a relative periodic timer keeps its own grid too', () =>
    withTimer({ clock: 'boottime' }, async (timer) => {
      const period = 3n * MS;
      const lo = timer.now();
      timer.set(period, { interval: period });
      const hi = timer.now();
      await sleep(30);
      const { before, ev, after } = await bracketedRead(timer);
      // The grid starts somewhere in [lo + period, hi + period].
      assert.ok(ev.expirations >= gridCount(before, hi + period, period), `${ev.expirations} too few`);
      assert.ok(ev.expirations <= gridCount(after, lo + period, period), `${ev.expirations} too many`);
    }));

  test('absolute deadlines on the realtime clock take Date.now() milliseconds', () =>
    withTimer({ clock: 'realtime' }, async (timer) => {
      assert.equal(fdinfo(timer.fd).clockid, String(C.CLOCK_REALTIME));
      const deadline = Date.now() + 20;
      timer.set(deadline, { absolute: true });
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
      assert.ok(timer.now() >= BigInt(deadline) * MS, 'not before the deadline');
      timer.set(Date.now() - 1000, { absolute: true });
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n }, 'a past deadline expires at once');
    }));

  test('now() reads the timer\'s own clock', async () => {
    await withTimer({}, (mono) => {
      const a = process.hrtime.bigint();
      const m = mono.now();
      const b = process.hrtime.bigint();
      assert.ok(a <= m && m <= b, 'CLOCK_MONOTONIC, as process.hrtime');
    });
    await withTimer({ clock: 'realtime' }, (real) => {
      const d0 = BigInt(Date.now());
      const r = real.now() / MS;
      const d1 = BigInt(Date.now());
      assert.ok(d0 <= r && r <= d1, 'CLOCK_REALTIME, as Date.now()');
    });
    await withTimer({ clock: 'boottime' }, (boot) => {
      const m = process.hrtime.bigint();
      assert.ok(boot.now() >= m, 'CLOCK_BOOTTIME counts what CLOCK_MONOTONIC does, and time suspended');
    });
  });

  test('disarm() stops it and discards expirations not yet read', () =>
    withTimer({}, async (timer) => {
      timer.set(1, { interval: 1 });
      await sleep(20);
      assert.equal(timer.disarm(), timer);
      assert.deepEqual(timer.get(), { interval: 0n, value: 0n });
      assert.equal(timer.readEvent(), null);
      await sleep(10);
      assert.equal(timer.readEvent(), null);
    }));

  test('set() again re-arms: the new setting replaces the old one and its count', () =>
    withTimer({}, async (timer) => {
      timer.set(1, { interval: 1 });
      await sleep(20);
      assert.equal(timer.set(60_000), timer);
      assert.equal(timer.readEvent(), null, 'expirations of the old setting are gone');
      const spec = timer.get();
      assert.equal(spec.interval, 0n);
      assert.ok(spec.value > 50_000n * MS && spec.value <= 60_000n * MS);
      timer.set(2);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
    }));

  test('every clock by name', () => {
    const clocks = { monotonic: 1, realtime: 0, boottime: 7, realtime_alarm: 8, boottime_alarm: 9 };
    for (const [clock, id] of Object.entries(clocks)) {
      if (id >= 8 && !hasCapability(CAP_WAKE_ALARM)) {
        assert.throws(() => new TimerFd({ clock }), (e) => assertSysError(e, 'EPERM', 'timerfd_create'));
        continue;
      }
      const timer = new TimerFd({ clock });
      assert.equal(timer.clock, clock);
      assert.equal(fdinfo(timer.fd).clockid, String(id));
      const flags = parseInt(fdinfo(timer.fd).flags, 8);
      timer.close();
      assert.ok(flags & 0o4000 && flags & 0o2000000, 'non-blocking and close-on-exec');
    }
  });

  test('async iteration yields events; break leaves the timer usable', () =>
    withTimer({}, async (timer) => {
      timer.set(2, { interval: 2 });
      let total = 0n;
      for await (const ev of timer) {
        total += ev.expirations;
        if (total >= 5n) break;
      }
      assert.ok(total >= 5n);
      timer.set(1);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n });
    }));

  test('\'event\' listeners see every expiration', () =>
    withTimer({}, async (timer) => {
      const seen = [];
      timer.on('event', (ev) => seen.push(ev));
      timer.set(2, { interval: 2 });
      while (seen.reduce((n, ev) => n + ev.expirations, 0n) < 5n) await sleep(5);
      assert.ok(seen.every((ev) => ev.type === 'expire' && ev.expirations >= 1n));
      timer.removeAllListeners('event');
    }));

  test('AbortSignal: an aborted read rejects with AbortError and consumes nothing', () =>
    withTimer({}, async (timer) => {
      const ac = new AbortController();
      const p = timer.read({ signal: ac.signal });
      ac.abort(new Error('why'));
      await assert.rejects(p, (e) => e instanceof AbortError && e.code === 'ABORT_ERR' && e.cause.message === 'why');
      await assert.rejects(timer.read({ signal: AbortSignal.abort() }), { name: 'AbortError' });
      timer.set(1);
      await sleep(10);
      assert.deepEqual(await timer.read(), { type: 'expire', expirations: 1n }, 'the expiration was still there');
    }));

  test('AbortSignal: AbortSignal.timeout() ends the wait of an unarmed timer', () =>
    withTimer({}, async (timer) => {
      const it = timer.events({ signal: AbortSignal.timeout(20) });
      await assert.rejects(it.next(), { name: 'AbortError' });
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    }));

  test('close: pending reads reject with EBADF, iterations end, the fd is closed', async () => {
    const timer = new TimerFd();
    const fd = timer.fd;
    timer.set(60_000);
    const read = timer.read();
    const next = timer.events().next();
    timer.close();
    await assert.rejects(read, (e) => assertSysError(e, 'EBADF', 'read'));
    assert.deepEqual(await next, { value: undefined, done: true });
    assert.equal(timer.fd, -1);
    assert.throws(() => fdinfo(fd), { code: 'ENOENT' });
  });

  test('use after close throws EBADF and never touches the fd number', async () => {
    const timer = new TimerFd();
    timer.close();
    const other = timerfdCreate(C.CLOCK_MONOTONIC); // likely reuses the number
    try {
      assert.throws(() => timer.set(1), (e) => assertSysError(e, 'EBADF', 'timerfd_settime'));
      assert.throws(() => timer.disarm(), (e) => assertSysError(e, 'EBADF', 'timerfd_settime'));
      assert.throws(() => timer.get(), (e) => assertSysError(e, 'EBADF', 'timerfd_gettime'));
      assert.throws(() => timer.now(), (e) => assertSysError(e, 'EBADF', 'clock_gettime'));
      assert.throws(() => timer.readEvent(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.throws(() => timer.readEvents(), (e) => assertSysError(e, 'EBADF', 'read'));
      await assert.rejects(timer.read(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.deepEqual(timerfdGettime(other), { interval: 0n, value: 0n }, 'the other timer was never armed');
    } finally {
      closeSync(other);
    }
  });

  test('a TimerFd inside a Worker', async () => {
    const worker = new Worker(
      `const { TimerFd, readinessBackend } = require('butter');
       const { parentPort } = require('node:worker_threads');
       (async () => {
         const timer = new TimerFd();
         timer.set(2, { interval: 2 });
         const ev = await timer.read();
         timer.close();
         parentPort.postMessage({ type: ev.type, backend: readinessBackend() });
       })();`,
      { eval: true },
    );
    const [msg] = await once(worker, 'message');
    assert.deepEqual(msg, { type: 'expire', backend: expectedBackend });
  });

  test('bad options and arguments are refused', () => {
    const code = (c) => ({ code: c });
    assert.throws(() => new TimerFd(5), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => new TimerFd({ clock: 'CLOCK_MONOTONIC' }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: "The property 'options.clock' must be one of: 'monotonic', 'realtime', 'boottime', 'realtime_alarm', 'boottime_alarm'. Received 'CLOCK_MONOTONIC'",
    });
    assert.throws(() => new TimerFd({ clock: 1 }), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => new TimerFd({ clock: 'toString' }), code('ERR_INVALID_ARG_VALUE'));
    const timer = new TimerFd();
    assert.throws(() => timer.set(), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set('5'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set(-1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(-1n), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(NaN), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(Infinity), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(9_223_372_036_855), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(KTIME_MAX + 1n), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(1, 5), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set(1, { interval: '1' }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set(1, { interval: -0.5 }), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => timer.set(1, { absolute: 1 }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set(1, { cancelOnSet: 'yes' }), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => timer.set(-1), {
      name: 'RangeError',
      message: 'The value of "value" is out of range. It must be >= 0 && <= 9223372036854. Received -1',
    });
    assert.deepEqual(timer.get(), { interval: 0n, value: 0n }, 'nothing was armed');
    timer.close();
  });

  test('cancelOnSet is refused where the kernel would silently ignore it', async () => {
    await withTimer({}, (mono) => {
      assert.throws(() => mono.set(1e9, { absolute: true, cancelOnSet: true }), {
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: "The property 'options.cancelOnSet' needs absolute: true and a 'realtime' or 'realtime_alarm' clock. Received true",
      });
    });
    await withTimer({ clock: 'realtime' }, (real) => {
      assert.throws(() => real.set(1e3, { cancelOnSet: true }), { code: 'ERR_INVALID_ARG_VALUE' });
      real.set(Date.now() + 60_000, { absolute: true, cancelOnSet: true });
      assert.equal(fdinfo(real.fd)['settime flags'], '03');
      real.set(Date.now() + 60_000, { absolute: true, cancelOnSet: false });
      assert.equal(fdinfo(real.fd)['settime flags'], '01');
    });
    if (!hasCapability(CAP_WAKE_ALARM)) return;
    await withTimer({ clock: 'realtime_alarm' }, (alarm) => {
      alarm.set(Date.now() + 60_000, { absolute: true, cancelOnSet: true });
      assert.equal(fdinfo(alarm.fd)['settime flags'], '03');
    });
  });
});

describe('cancel-on-set: the realtime clock set to its own current value', () => {
  const skip = clockSetter.skip ?? false;

  test('1:1: the next read fails with ECANCELED, and the pending deadline stays armed', { skip }, () => {
    const fd = timerfdCreate(C.CLOCK_REALTIME);
    const mono = timerfdCreate(C.CLOCK_MONOTONIC);
    const relative = timerfdCreate(C.CLOCK_REALTIME);
    try {
      const now = BigInt(Date.now()) * MS;
      timerfdSettime(fd, C.TFD_TIMER_ABSTIME | C.TFD_TIMER_CANCEL_ON_SET, { value: now + 60_000n * MS });
      // The kernel ignores the flag on these: no ECANCELED for them.
      timerfdSettime(mono, C.TFD_TIMER_ABSTIME | C.TFD_TIMER_CANCEL_ON_SET, { value: process.hrtime.bigint() + 60_000n * MS });
      timerfdSettime(relative, C.TFD_TIMER_CANCEL_ON_SET, { value: 60_000n * MS });
      setClockToItself();
      assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'ECANCELED', 'read') && e.errno === -125);
      assert.throws(() => timerfdRead(mono), (e) => assertSysError(e, 'EAGAIN', 'read'));
      assert.throws(() => timerfdRead(relative), (e) => assertSysError(e, 'EAGAIN', 'read'));
      const left = timerfdGettime(fd).value;
      assert.ok(left > 50_000n * MS && left <= 60_000n * MS, 'a deadline not yet reached stays armed');
    } finally {
      closeSync(fd);
      closeSync(mono);
      closeSync(relative);
    }
  });

  test('1:1: a periodic timer with an expiration unread when the clock is set stops; TFD_IOC_SET_TICKS gives ECANCELED', { skip }, async () => {
    const fd = timerfdCreate(C.CLOCK_REALTIME);
    try {
      const now = BigInt(Date.now()) * MS;
      // Already past: it expires at once, and nobody reads it.
      timerfdSettime(fd, C.TFD_TIMER_ABSTIME | C.TFD_TIMER_CANCEL_ON_SET, { value: now - 1000n * MS, interval: 3_600_000n * MS });
      await waitUntil(() => fdinfo(fd).ticks !== '0');
      setClockToItself();
      assert.throws(() => timerfdRead(fd), (e) => assertSysError(e, 'ECANCELED', 'read'));
      // The kernel dropped the expiration and did not re-arm: this is why TimerFd users re-arm after 'clockset'.
      assert.deepEqual(timerfdGettime(fd), { interval: 3_600_000n * MS, value: 0n });

      timerfdSettime(fd, C.TFD_TIMER_ABSTIME | C.TFD_TIMER_CANCEL_ON_SET, { value: now + 60_000n * MS });
      setClockToItself();
      try {
        timerfdSetTicks(fd, 1n);
        assert.fail('TFD_IOC_SET_TICKS succeeded after a clock change');
      } catch (e) {
        if (e.code !== 'ENOTTY') assertSysError(e, 'ECANCELED', 'ioctl');
      }
    } finally {
      closeSync(fd);
    }
  });

  test('TimerFd: a { type: \'clockset\' } event; re-arming works as before', { skip }, async () => {
    await withTimer({ clock: 'realtime' }, async (timer) => {
      timer.set(Date.now() + 60_000, { absolute: true, cancelOnSet: true });
      const pending = timer.read();
      await sleep(5);
      setClockToItself();
      assert.deepEqual(await pending, { type: 'clockset' });
      assert.ok(timer.get().value > 0n, 'the deadline not yet reached stays armed');
      // The documented pattern: on 'clockset', compute the deadline again on the new clock
      // (the other run of this file may set the clock meanwhile, hence the loop).
      let ev;
      do {
        timer.set(Date.now() + 5, { absolute: true, cancelOnSet: true });
        ev = await timer.read();
      } while (ev.type === 'clockset');
      assert.deepEqual(ev, { type: 'expire', expirations: 1n });
    });
  });
});

describe('event loop liveness', () => {
  test('an armed TimerFd nobody reads does not keep the process alive', () => {
    const r = runChild(`import { TimerFd } from 'butter'; globalThis.t = new TimerFd().set(60_000, { interval: 1 }); console.log('done');`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'done');
  });

  test('a pending read keeps it alive until the timer expires, as setTimeout would', () => {
    const r = runChild(`
      import { TimerFd } from 'butter';
      const t0 = process.hrtime.bigint();
      const timer = new TimerFd().set(150);
      timer.read().then((ev) => { console.log(ev.type, process.hrtime.bigint() - t0 >= 150_000_000n); timer.close(); });`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'expire true');
  });

  test('unref() lets the process exit with a read pending', () => {
    const r = runChild(`
      import { TimerFd } from 'butter';
      const timer = new TimerFd().set(60_000);
      timer.read().then(() => console.log('never'));
      timer.unref();
      console.log(timer.hasRef());`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'false');
  });
});
