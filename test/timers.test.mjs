// butter/timers and butter/timers/promises: Node's timer API on timerfds. Run
// once per readiness backend: timers-epoll.test.mjs imports this file with the
// portable backend forced.
//
// Timing: nothing here asserts how fast the VM is. Lower bounds hold because the
// kernel never fires early; orderings hold because timers run in deadline order
// (checked only between deadlines the clock readings around their creation
// tell apart). "No drift" and "missed ticks counted" are checked exactly by
// bracketing the kernel's count with clock readings: tick k of an interval is
// due at start + k*d (`start` itself lies between readings taken around the
// call), so a count read after the clock showed `t` is at least
// floor((t - start) / d), and one read before `t` at most that. A timer that
// lost ticks or drifted would fall below the lower bound, by whole periods,
// after a few blocked ones.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AsyncLocalStorage } from 'node:async_hooks';
import { promisify } from 'node:util';
import * as nodeTimers from 'node:timers';
import * as nodePromises from 'node:timers/promises';
import fc from 'fast-check';
import * as timers from 'butter/timers';
import * as promises from 'butter/timers/promises';
import { runChild } from './support/child.mjs';

const { setTimeout, setInterval, clearTimeout, clearInterval } = timers;
const require = createRequire(import.meta.url);
const hr = () => process.hrtime.bigint();
const MS = 1_000_000n;

/** Blocks the event loop until CLOCK_MONOTONIC reaches `t` (ns); returns the reading that passed it. */
function blockUntil(t) {
  let now;
  while ((now = hr()) < t);
  return now;
}

/** Open timerfds of this process. */
function timerfds() {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[timerfd]') n++;
    } catch {}
  }
  return n;
}

/** A promise for the next call of the returned callback, with its `this` and arguments. */
function deferred() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits for a Butter timeout: every timer due earlier has fired (or been dropped) by then. */
const barrier = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


/**
 * Runs `source` with `MODULE` standing for node:timers and for butter/timers
 * (or the two `modules` given): both must exit cleanly with the same output
 * (only the lines `keep` keeps, when given).
 */
function sameAsNode(source, { modules = ['node:timers', 'butter/timers'], keep = () => true } = {}) {
  const [node, butter] = modules.map((m) => runChild(source.replaceAll('MODULE', m)));
  assert.equal(node.status, 0, node.stderr);
  assert.equal(butter.status, 0, butter.stderr);
  const lines = (out) => out.split('\n').filter(keep).join('\n');
  assert.equal(lines(butter.stdout), lines(node.stdout));
  return lines(butter.stdout);
}

/** What a call throws or rejects with, as comparable data. */
async function outcome(fn) {
  try {
    const r = fn();
    if (r && typeof r.then === 'function') {
      await r;
      return { ok: 'resolved' };
    }
    return { ok: typeof r };
  } catch (err) {
    return { name: err.name, code: err.code, message: err.message, cause: err.cause, sync: true };
  }
}

async function rejection(promise) {
  try {
    await promise;
    return { ok: 'resolved' };
  } catch (err) {
    return { name: err.name, code: err.code, message: err.message, cause: err.cause };
  }
}

const BAD_CALLBACKS = [undefined, null, 1, 'x', {}, [], Symbol('s'), 1n, true];

describe('the modules', () => {
  test('butter/timers has node:timers names; import and require give the same objects', async () => {
    for (const name of ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate', 'clearImmediate', 'promises']) {
      assert.ok(name in timers, name);
    }
    const cjs = require('butter/timers');
    for (const name of Object.keys(cjs)) assert.equal(timers[name], cjs[name], name);
    assert.equal(timers.default, cjs);
    assert.equal(timers.setImmediate, nodeTimers.setImmediate, "immediates are Node's own");
    assert.equal(cjs.promises, require('butter/timers/promises'), 'as require(\'timers\').promises');
    assert.equal(timers.promises.setTimeout, promises.setTimeout);
    assert.equal(timers.promises.setInterval, promises.setInterval);
    assert.notEqual(timers.setTimeout, nodeTimers.setTimeout);
  });

  test('butter/timers/promises has node:timers/promises names', () => {
    const cjs = require('butter/timers/promises');
    for (const name of Object.keys(nodePromises)) if (name !== 'default') assert.ok(name in promises, name);
    for (const name of Object.keys(cjs)) assert.equal(promises[name], cjs[name], name);
    assert.equal(promises.setImmediate, nodePromises.setImmediate);
  });

  test('util.promisify(setTimeout) is the promise version, as in Node', async () => {
    assert.equal(promisify(setTimeout), promises.setTimeout);
    assert.equal(await promisify(setTimeout)(1, 'v'), 'v');
  });
});

describe('setTimeout', () => {
  test('calls once with the arguments, this is the Timeout, never early', async () => {
    const d = deferred();
    const calls = [];
    const before = hr();
    const t = setTimeout(function (...args) {
      calls.push({ at: hr(), self: this, args });
      d.resolve();
    }, 5, 'a', 2, null);
    await d.promise;
    await barrier(20);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].self, t);
    assert.deepEqual(calls[0].args, ['a', 2, null]);
    assert.ok(calls[0].at - before >= 5n * MS, 'not before its delay');
    assert.ok(before <= t.start && t.start <= calls[0].at);
    assert.ok(calls[0].at - t.start >= 5n * MS, 'the kernel fires at start + delay, never before');
    assert.equal(t.expirations, 1);
    assert.equal(t.overrun, 0);
    assert.equal(t.missed, 0);
  });

  test('a Timeout has the methods of Node\'s, returning what they return', () => {
    const t = setTimeout(() => assert.fail('cleared'), 1000);
    const n = nodeTimers.setTimeout(() => {}, 1000);
    nodeTimers.clearTimeout(n);
    for (const m of ['ref', 'unref', 'hasRef', 'refresh', 'close']) assert.equal(typeof t[m], 'function', m);
    for (const s of [Symbol.toPrimitive, Symbol.dispose]) assert.equal(typeof t[s], 'function');
    assert.equal(t.hasRef(), true);
    assert.equal(t.unref(), t);
    assert.equal(t.hasRef(), false);
    assert.equal(t.ref(), t);
    assert.equal(t.hasRef(), true);
    assert.equal(t.refresh(), t);
    assert.equal(typeof +t, 'number');
    assert.ok(Number.isInteger(+t) && +t > 0);
    assert.notEqual(+t, +n, 'ids are async ids, shared with Node\'s timers, so never the same');
    assert.equal(t.close(), t);
  });

  test('delays are coerced as Node does; fractions are kept', async () => {
    const order = [];
    const at = {};
    const before = hr();
    const mark = (name) => () => {
      order.push(name);
      at[name] = hr() - before;
    };
    // Made in the order of their coerced delays, so the order holds however slow the making.
    setTimeout(mark('NaN'), NaN);
    setTimeout(mark('-5'), -5);
    setTimeout(mark('undefined'));
    setTimeout(mark('null'), null);
    setTimeout(mark('2.5'), 2.5);
    setTimeout(mark('{valueOf}'), { valueOf: () => 20 });
    setTimeout(mark('"30"'), '30');
    await barrier(40);
    assert.deepEqual(order, ['NaN', '-5', 'undefined', 'null', '2.5', '{valueOf}', '"30"']);
    assert.ok(at['2.5'] >= 2_500_000n);
    assert.ok(at['{valueOf}'] >= 20n * MS);
    assert.ok(at['"30"'] >= 30n * MS);
  });

  test('a delay above 2^31 - 1 ms is 1 ms, with Node\'s TimeoutOverflowWarning', async () => {
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      nodeTimers.clearTimeout(nodeTimers.setTimeout(() => {}, 2 ** 31));
      const order = [];
      setTimeout(() => order.push('overflow'), 2 ** 31);
      setTimeout(() => order.push('5 ms'), 5);
      await barrier(20);
      assert.deepEqual(order, ['overflow', '5 ms']);
      await new Promise((r) => nodeTimers.setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1].name, warnings[0].name);
    assert.equal(warnings[1].name, 'TimeoutOverflowWarning');
    assert.equal(warnings[1].message, warnings[0].message);
  });

  test('argument errors are Node\'s', async () => {
    for (const [ours, theirs] of [[setTimeout, nodeTimers.setTimeout], [setInterval, nodeTimers.setInterval]]) {
      for (const bad of BAD_CALLBACKS) {
        const a = await outcome(() => ours(bad, 1));
        const b = await outcome(() => theirs(bad, 1));
        assert.equal(a.code, 'ERR_INVALID_ARG_TYPE');
        assert.deepEqual(a, b);
      }
      for (const bad of [1n, Symbol('d')]) {
        const a = await outcome(() => ours(() => assert.fail('not armed'), bad));
        const b = await outcome(() => theirs(() => assert.fail('not armed'), bad));
        assert.equal(a.name, 'TypeError');
        assert.deepEqual(a, b);
      }
    }
  });

  test('any delay and any arguments: the same outcome as Node\'s (property)', { timeout: 120_000 }, async () => {
    const noWarning = (v) => {
      try {
        return !(v * 1 > 2 ** 31 - 1); // no TimeoutOverflowWarning noise (tested above)
      } catch {
        return true;
      }
    };
    const fds = timerfds();
    await fc.assert(
      fc.asyncProperty(fc.anything().filter(noWarning), fc.anything(), fc.array(fc.anything(), { maxLength: 4 }), async (delay, cb, args) => {
        for (const [ours, theirs] of [[setTimeout, nodeTimers.setTimeout], [setInterval, nodeTimers.setInterval]]) {
          const made = [];
          const run = (f, callback) => outcome(() => made.push(f(callback, delay, ...args)));
          assert.deepEqual(await run(ours, cb), await run(theirs, cb));
          assert.deepEqual(await run(ours, () => {}), await run(theirs, () => {}));
          for (const t of made) clearTimeout(t);
        }
      }),
      { numRuns: 300 },
    );
    assert.equal(timerfds(), fds);
  });

  test('timers fire in deadline order, equal delays in the order made', async () => {
    const order = [];
    const made = [];
    let prev = hr();
    for (const [name, ms] of [['a', 12], ['b', 3], ['c', 6], ['d', 3], ['e', 9], ['f', 3], ['g', 1]]) {
      setTimeout(() => order.push(name), ms);
      const now = hr();
      // The deadline is somewhere in [prev + ms, now + ms].
      made.push({ name, ms, lo: prev + BigInt(ms) * MS, hi: now + BigInt(ms) * MS });
      prev = now;
    }
    // Every deadline passes while the loop is blocked: the order must survive one wake.
    blockUntil(hr() + 15n * MS);
    await barrier(5);
    assert.equal(order.length, made.length);
    const pos = (name) => order.indexOf(name);
    let compared = 0;
    for (const [i, x] of made.entries()) {
      for (const y of made.slice(i + 1)) {
        if (x.ms === y.ms || x.hi < y.lo) {
          assert.ok(pos(x.name) < pos(y.name), `${x.name} (${x.ms} ms) before ${y.name} (${y.ms} ms): ${order}`);
          compared++;
        } else if (y.hi < x.lo) {
          assert.ok(pos(y.name) < pos(x.name), `${y.name} (${y.ms} ms) before ${x.name} (${x.ms} ms): ${order}`);
          compared++;
        }
      }
    }
    assert.ok(compared >= 3 + 3, 'at least the equal delays were compared');
  });

  test('clearTimeout by object, by numeric or string id; clearInterval clears a timeout and vice versa; close()', async () => {
    const fired = [];
    const mk = (name) => setTimeout(() => fired.push(name), 3);
    clearTimeout(mk('object'));
    clearTimeout(+mk('number'));
    clearTimeout(`${mk('string')}`);
    clearInterval(mk('clearInterval'));
    mk('close').close();
    mk('dispose')[Symbol.dispose]();
    const iv = setInterval(() => fired.push('interval'), 2);
    clearTimeout(iv);
    mk('kept');
    await barrier(15);
    assert.deepEqual(fired, ['kept']);
  });

  test("Node's clearTimeout clears a Butter timer, and Butter's clears Node's", async () => {
    const fired = [];
    nodeTimers.clearTimeout(setTimeout(() => fired.push('butter via node'), 2));
    clearTimeout(nodeTimers.setTimeout(() => fired.push('node via butter'), 2));
    clearTimeout(+nodeTimers.setTimeout(() => fired.push('node id via butter'), 2));
    clearInterval(nodeTimers.setInterval(() => fired.push('node interval via butter'), 2));
    await barrier(15);
    await new Promise((r) => nodeTimers.setTimeout(r, 15));
    assert.deepEqual(fired, []);
    for (const junk of [undefined, null, {}, 'nope', 123456789, NaN, () => {}]) clearTimeout(junk);
  });

  test('a callback can clear a timer due in the same wake; it never runs', async () => {
    const fired = [];
    const a = setTimeout(() => {
      fired.push('a');
      clearTimeout(b);
    }, 1);
    const b = setTimeout(() => fired.push('b'), 1);
    void a;
    blockUntil(hr() + 5n * MS); // both are due before the loop looks again
    await barrier(10);
    assert.deepEqual(fired, ['a']);
  });

  test('an interval that clears itself in its third call is called three times', async () => {
    let calls = 0;
    setInterval(function () {
      if (++calls === 3) clearInterval(this);
    }, 1);
    await barrier(30);
    assert.equal(calls, 3);
  });

  test('refresh() restarts the delay from now; re-arms a fired timeout; is ignored once cleared', async () => {
    let firedAt = 0n;
    let calls = 0;
    const t = setTimeout(() => {
      calls++;
      firedAt = hr();
    }, 40);
    await promises.setTimeout(10);
    const refreshed = hr();
    assert.equal(t.refresh(), t);
    while (calls === 0) await barrier(5);
    assert.ok(firedAt - refreshed >= 40n * MS, 'the delay counts from refresh()');

    const again = hr();
    t.refresh();
    while (calls === 1) await barrier(5);
    assert.ok(firedAt - again >= 40n * MS);
    assert.equal(t.expirations, 2);

    clearTimeout(t);
    t.refresh();
    await barrier(60);
    assert.equal(calls, 2);
  });

  test('refresh() inside the callback fires the timeout again', async () => {
    let calls = 0;
    setTimeout(function () {
      if (++calls < 3) this.refresh();
    }, 1);
    await barrier(30);
    assert.equal(calls, 3);
  });

  test('the fd of a timeout is closed when it fires or is cleared; an interval\'s when cleared', async () => {
    const before = timerfds();
    let fired = 0;
    const pending = [];
    for (let i = 0; i < 200; i++) setTimeout(() => fired++, 1 + (i % 5));
    for (let i = 0; i < 200; i++) pending.push(setTimeout(() => assert.fail('cleared'), 1000));
    const intervals = Array.from({ length: 50 }, () => setInterval(() => {}, 1));
    assert.equal(timerfds(), before + 450);
    for (const t of pending) clearTimeout(t);
    for (const t of intervals) clearInterval(t);
    assert.equal(timerfds(), before + 200);
    await barrier(20);
    assert.equal(fired, 200);
    assert.equal(timerfds(), before);
  });

  test('callbacks run in the async context where the timer was made', async () => {
    const als = new AsyncLocalStorage();
    const seen = [];
    await als.run('ctx', async () => {
      setTimeout(() => seen.push(als.getStore()), 1);
      setInterval(function () {
        seen.push(als.getStore());
        clearInterval(this);
      }, 1);
    });
    await barrier(10);
    assert.deepEqual(seen, ['ctx', 'ctx']);
  });
});

describe('liveness and exceptions, compared with node:timers in child processes', () => {
  test('unref() lets the process exit; ref() keeps it alive', () => {
    const out = sameAsNode(`
      import { setTimeout, setInterval, clearInterval } from 'MODULE';
      setTimeout(() => console.log('never'), 60_000).unref();
      setInterval(() => {}, 1).unref();
      let n = 0;
      const i = setInterval(() => {
        if (++n < 3) return;
        clearInterval(i);
        console.log('interval', n);
        const t = setTimeout(() => console.log('refed', t.hasRef()), 5);
        t.unref();
        t.ref();
      }, 2);
      process.on('exit', () => console.log('exit'));
    `);
    assert.equal(out, 'interval 3\nrefed true\nexit\n');
  });

  test('promise reactions and nextTicks of one callback run before the next timer, even in one wake', () => {
    const out = sameAsNode(`
      import { setTimeout, setInterval, clearInterval } from 'MODULE';
      const log = (s) => console.log(s);
      setTimeout(() => {
        Promise.resolve().then(() => log('a: microtask')).then(() => log('a: chained microtask'));
        process.nextTick(() => log('a: nextTick'));
        log('a');
      }, 2);
      const i = setInterval(() => { log('b'); clearInterval(i); Promise.resolve().then(() => log('b: microtask')); }, 2);
      setTimeout(() => log('c'), 2);
      const until = process.hrtime.bigint() + 20_000_000n;
      while (process.hrtime.bigint() < until); // all three are due before the loop looks
    `);
    assert.equal(out, 'a\na: nextTick\na: microtask\na: chained microtask\nb\nb: microtask\nc\n');
  });

  test('an unref()ed timer still fires while something else keeps the loop alive', () => {
    const out = sameAsNode(`
      import { setTimeout } from 'MODULE';
      setTimeout(() => console.log('unrefed fired'), 5).unref();
      setTimeout(() => console.log('done'), 100);
    `);
    assert.equal(out, 'unrefed fired\ndone\n');
  });

  test("a throwing callback reaches 'uncaughtException'; the interval goes on", () => {
    const out = sameAsNode(`
      import { setTimeout, setInterval, clearInterval } from 'MODULE';
      process.on('uncaughtException', (e) => console.log('caught', e.message));
      let n = 0;
      const i = setInterval(() => {
        if (++n === 3) {
          clearInterval(i);
          setTimeout(() => { throw new Error('timeout'); }, 5);
        }
        throw new Error('interval ' + n);
      }, 3);
    `);
    assert.equal(out, 'caught interval 1\ncaught interval 2\ncaught interval 3\ncaught timeout\n');
  });

  test('without a handler, a throwing callback ends the process as in Node', () => {
    const r = runChild(`import { setTimeout } from 'butter/timers'; setTimeout(() => { throw new Error('boom'); }, 1);`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Error: boom/);
  });
});

describe('setInterval: the absolute grid', () => {
  test('tick k is due at t0 + k*delay: counts stay between clock brackets over a run with a blocked loop', async () => {
    const d = 2n * MS;
    const calls = [];
    let prevEnd = 0n;
    let prevExpirations = 0;
    let last;
    const done = deferred();
    const before = hr();
    const iv = setInterval(function () {
      const now = hr();
      const e = this.expirations;
      // The count was read after the previous callback returned (at prevEnd).
      calls.push({ now, e, overrun: this.overrun, since: e - prevExpirations, lower: (prevEnd - this.start) / d });
      prevExpirations = e;
      // Block the loop for 2.5 periods every 10th call: ticks pass with nobody reading.
      if (calls.length % 10 === 0) blockUntil(now + (5n * d) / 2n);
      if (calls.length === 150) {
        clearInterval(this);
        last = { missed: this.missed, expirations: this.expirations };
        done.resolve();
      }
      prevEnd = hr();
    }, 2);
    const after = hr();
    prevEnd = after;
    await done.promise;
    // The grid's origin is the clock when setInterval() ran; tick k is due at start + k*d.
    assert.ok(before <= iv.start && iv.start <= after, 'start is a CLOCK_MONOTONIC reading taken in the call');
    assert.equal(iv.expirations, last.expirations);
    for (const [i, c] of calls.entries()) {
      const upper = (c.now - iv.start) / d; // ticks due by the time the callback ran, at most
      assert.ok(BigInt(c.e) <= upper, `call ${i}: ${c.e} expirations, but only ${upper} ticks were due`);
      assert.ok(BigInt(c.e) >= c.lower, `call ${i}: ${c.e} expirations, but ${c.lower} ticks were due before the read`);
      assert.equal(c.overrun, c.since - 1, `call ${i}: overrun is the ticks of this wake beyond one`);
    }
    // Each blocked call is followed by at least two ticks in one wake (the bounds force it).
    for (let i = 10; i < 150; i += 10) assert.ok(calls[i].since >= 2, `call ${i} follows a blocked one`);
    assert.ok(last.missed >= 14, 'the blocked periods show up as missed ticks');
    assert.equal(last.missed, last.expirations - 150);
  });

  test('ticks missed across a blocked loop are counted exactly, and the callback runs once for them', async () => {
    const d = 5n * MS;
    const seen = deferred();
    let blockedUntil;
    const before = hr();
    const iv = setInterval(function () {
      seen.resolve({ now: hr(), e: this.expirations, overrun: this.overrun, missed: this.missed });
      clearInterval(this);
    }, 5);
    const after = hr();
    blockedUntil = blockUntil(after + 10n * d + d / 2n);
    const call = await seen.promise;
    assert.ok(before <= iv.start && iv.start <= after);
    assert.ok(BigInt(call.e) >= (blockedUntil - iv.start) / d, 'every tick due while blocked is counted');
    assert.ok(BigInt(call.e) <= (call.now - iv.start) / d, 'and no tick that was not due');
    assert.ok(call.e >= 10);
    assert.equal(call.overrun, call.e - 1);
    assert.equal(call.missed, call.e - 1);
    assert.equal(iv.expirations, call.e);
  });

  test('after a late call the next tick is still due on the grid: a timeout due a little later runs after it', async () => {
    // setInterval(A, d), then setTimeout(B, 2d) made a quarter period later, and
    // the loop blocked until A's first tick is half a period late. On the grid A
    // is next due at start + 2d, before B (start + 2.25d): AABA. A tick re-armed
    // from the late call would be due at start + 2.5d, after B: ABAA, the order
    // Node's own timers give here (they re-arm from the clock). The margins are
    // a quarter period; an attempt the machine's load pushed past one (the
    // timeout made late, or the first call so late that it took two ticks)
    // says nothing, and is made again.
    const d = 100n * MS;
    for (let attempt = 0; attempt < 3; attempt++) {
      const order = [];
      const done = deferred();
      let firstTicks = 0;
      const a = setInterval(function () {
        order.push('A');
        if (order.length === 1) firstTicks = this.expirations;
        if (order.length === 4) {
          clearInterval(this);
          done.resolve();
        }
      }, Number(d / MS));
      blockUntil(a.start + d / 4n);
      setTimeout(() => order.push('B'), Number((2n * d) / MS));
      const timeoutMade = hr();
      blockUntil(a.start + (3n * d) / 2n);
      await done.promise;
      if (timeoutMade - a.start >= d / 2n || firstTicks !== 1) continue;
      assert.equal(order.join(''), 'AABA');
      return;
    }
    assert.fail('three attempts, all too late to tell the grid from the clock: is the machine overloaded?');
  });

  test('refresh() moves the grid to now; counts go on', async () => {
    const d = 3n * MS;
    const seen = [];
    const done = deferred();
    let refreshedAt = 0n;
    const iv = setInterval(function () {
      const now = hr();
      seen.push({ now, e: this.expirations });
      if (seen.length === 2) {
        refreshedAt = hr();
        this.refresh();
        blockUntil(hr() + (5n * d) / 2n);
      }
      if (seen.length === 3) {
        clearInterval(this);
        done.resolve();
      }
    }, 3);
    await done.promise;
    assert.ok(iv.start >= refreshedAt, 'refresh() moved the grid');
    // The call after refresh() counts the ticks of the new grid only: two passed while blocked.
    assert.ok(seen[2].now - refreshedAt >= 2n * d);
    assert.ok(seen[2].e - seen[1].e >= 2);
    assert.ok(BigInt(seen[2].e - seen[1].e) <= (seen[2].now - refreshedAt) / d);
    assert.equal(iv.missed, iv.expirations - 3);
  });
});

describe('timers/promises setTimeout', () => {
  test('resolves with the value, never early; undefined without one', async () => {
    const before = hr();
    assert.equal(await promises.setTimeout(4, 'v'), 'v');
    assert.ok(hr() - before >= 4n * MS);
    assert.equal(await promises.setTimeout(1), undefined);
    assert.equal(await promises.setTimeout(), undefined);
    const obj = {};
    assert.equal(await promises.setTimeout(1, obj, {}), obj);
  });

  test('any options: the same outcome as Node\'s, never a throw (property)', { timeout: 120_000 }, async () => {
    // A signal-like object without addEventListener is refused by Butter up front and
    // fails later in Node: both reject, with other messages.
    const options = fc.oneof(
      fc.anything(),
      fc.record({ signal: fc.anything(), ref: fc.oneof(fc.boolean(), fc.anything()) }, { requiredKeys: [] }),
    ).filter((o) => !(o && typeof o === 'object' && o.signal && typeof o.signal === 'object' && 'aborted' in o.signal));
    // Valid delays stay short: every timer made here is awaited.
    const delays = fc.oneof(fc.constant(undefined), fc.double({ min: -5, max: 3 }), fc.anything().filter((d) => typeof d !== 'number' || !(d > 3)));
    const keepAlive = nodeTimers.setInterval(() => {}, 1000); // for the ref: false timers awaited here
    try {
      await fc.assert(
        fc.asyncProperty(delays, options, async (delay, opts) => {
          const a = promises.setTimeout(delay, 'v', opts);
          const b = nodePromises.setTimeout(delay, 'v', opts);
          assert.ok(a instanceof Promise);
          assert.deepEqual(await rejection(a), await rejection(b));
          const ia = promises.setInterval(delay, 'v', opts);
          const ib = nodePromises.setInterval(delay, 'v', opts);
          const [ra, rb] = [await rejection(ia.next()), await rejection(ib.next())];
          await ia.return();
          await ib.return();
          assert.deepEqual(ra, rb);
        }),
        { numRuns: 150 },
      );
    } finally {
      nodeTimers.clearInterval(keepAlive);
    }
  });

  test('argument errors reject, never throw, exactly as Node\'s', async () => {
    const cases = [
      [1, 1, null],
      [1, 1, 'x'],
      [1, 1, []],
      [1, 1, { signal: 1 }],
      [1, 1, { signal: {} }],
      [1, 1, { ref: 1 }],
      ['1', 1],
      [1n, 1],
      [null, 1],
    ];
    for (const args of cases) {
      const ours = promises.setTimeout(...args);
      const theirs = nodePromises.setTimeout(...args);
      assert.ok(ours instanceof Promise);
      const a = await rejection(ours);
      assert.equal(a.code, 'ERR_INVALID_ARG_TYPE', `${String(args)}`);
      assert.deepEqual(a, await rejection(theirs));
    }
  });

  test('an AbortSignal rejects with an AbortError carrying the reason; the fd is closed', async () => {
    const before = timerfds();
    const pre = await rejection(promises.setTimeout(1, 1, { signal: AbortSignal.abort('early') }));
    assert.deepEqual(pre, await rejection(nodePromises.setTimeout(1, 1, { signal: AbortSignal.abort('early') })));
    assert.deepEqual(pre, { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted', cause: 'early' });

    const ac = new AbortController();
    const p = promises.setTimeout(10_000, 1, { signal: ac.signal });
    assert.equal(timerfds(), before + 1);
    setTimeout(() => ac.abort('late'), 2);
    const mid = await rejection(p);
    assert.deepEqual(mid, { ...pre, cause: 'late' });
    assert.equal(timerfds(), before);
    // Aborting after it resolved changes nothing.
    const ac2 = new AbortController();
    assert.equal(await promises.setTimeout(1, 'done', { signal: ac2.signal }), 'done');
    ac2.abort();
  });

  test('ref: false lets the process exit, as in Node', () => {
    const out = sameAsNode(
      `
      import { setTimeout } from 'MODULE';
      setTimeout(60_000, 'x', { ref: false }).then(() => console.log('never'));
      setTimeout(5, 'refed').then(console.log);
      `,
      { modules: ['node:timers/promises', 'butter/timers/promises'] },
    );
    assert.equal(out, 'refed\n');
  });

  test('scheduler.wait and scheduler.yield', async () => {
    const before = hr();
    assert.equal(await promises.scheduler.wait(3), undefined);
    assert.ok(hr() - before >= 3n * MS);
    assert.equal(await promises.scheduler.yield(), undefined);
    const r = await rejection(promises.scheduler.wait(1000, { signal: AbortSignal.abort('no') }));
    assert.equal(r.cause, 'no');
  });
});

describe('timers/promises setInterval', () => {
  test('yields the value each step on the grid; break stops it and closes the fd', async () => {
    const fds = timerfds();
    const d = 2n * MS;
    const it = promises.setInterval(2, 'tick');
    const before = hr();
    assert.equal(it.start, undefined);
    let next = it.next(); // the grid starts at the first next(), as Node's timer does
    const after = hr();
    assert.ok(before <= it.start && it.start <= after);
    let prevEnd = after;
    for (let steps = 1; steps <= 40; steps++) {
      const { value } = await next;
      const now = hr();
      assert.equal(value, 'tick');
      const e = BigInt(it.expirations);
      assert.ok(e <= (now - it.start) / d, `step ${steps}: ${e} expirations, more than were due`);
      // Nothing was read while this body ran, so the count comes from a read after prevEnd.
      assert.ok(e >= (prevEnd - it.start) / d, `step ${steps}: ${e} expirations, fewer than were due`);
      if (steps % 10 === 3) blockUntil(now + 5n * d);
      prevEnd = hr();
      next = it.next();
    }
    assert.equal(it.missed, it.expirations - 41 + 1);
    assert.deepEqual(await it.return(), { value: undefined, done: true });
    assert.deepEqual(await next, { value: undefined, done: true });
    assert.equal(timerfds(), fds);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    let n = 0;
    for await (const v of promises.setInterval(1, 'for await')) {
      assert.equal(v, 'for await');
      if (++n === 3) break; // calls return(): the fd is closed
    }
    assert.equal(timerfds(), fds);
  });

  test('missed ticks across a blocked loop are counted exactly, in one step', async () => {
    const d = 5n * MS;
    const it = promises.setInterval(5, 1);
    const before = hr();
    const first = it.next(); // the grid starts at the first next(), as Node's timer does
    const after = hr();
    const blockedUntil = blockUntil(after + 10n * d + d / 2n);
    assert.deepEqual(await first, { value: 1, done: false });
    const now = hr();
    const e = it.expirations;
    assert.ok(before <= it.start && it.start <= after);
    assert.ok(BigInt(e) >= (blockedUntil - it.start) / d);
    assert.ok(BigInt(e) <= (now - it.start) / d);
    assert.equal(it.overrun, e - 1);
    assert.equal(it.missed, e - 1);
    await it.return();
  });

  test('a consumer slower than the period gets one step for all the ticks it missed, not a burst', async () => {
    const it = promises.setInterval(2, 'v');
    await it.next();
    const e1 = it.expirations;
    // Busy elsewhere with the loop free: the ticks go on being counted.
    while (it.expirations < e1 + 3) await new Promise((r) => nodeTimers.setTimeout(r, 5));
    const e2 = it.expirations;
    // One step for all of them, at once (no new tick needed), where Node's would yield one per tick.
    assert.deepEqual(await it.next(), { value: 'v', done: false });
    assert.equal(it.expirations, e2);
    assert.equal(it.overrun, e2 - e1 - 1);
    // The step after that waits for a fresh tick.
    assert.deepEqual(await it.next(), { value: 'v', done: false });
    assert.ok(it.expirations > e2);
    assert.equal(it.overrun, it.expirations - e2 - 1);
    assert.equal(it.missed, it.expirations - 3);
    await it.return();
  });

  test('concurrent next() calls resolve in order, one tick each', async () => {
    const it = promises.setInterval(1, 'x');
    const order = [];
    await Promise.all([0, 1, 2].map((i) => it.next().then((r) => order.push([i, r.value, it.expirations]))));
    assert.deepEqual(order.map((o) => o[0]), [0, 1, 2]);
    assert.ok(order[0][2] < order[1][2] && order[1][2] < order[2][2]);
    await it.return();
  });

  test('return() while next() waits: both end; then done', async () => {
    const it = promises.setInterval(1000, 1);
    const pending = it.next();
    assert.deepEqual(await it.return('r'), { value: 'r', done: true });
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  test('an abort while next() waits rejects it with an AbortError, as Node\'s; then done', async () => {
    const fds = timerfds();
    for (const impl of [promises, nodePromises]) {
      const ac = new AbortController();
      const it = impl.setInterval(1000, 1, { signal: ac.signal });
      const pending = it.next();
      nodeTimers.setTimeout(() => ac.abort('stop'), 2);
      assert.deepEqual(await rejection(pending), { name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted', cause: 'stop' });
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    }
    assert.equal(timerfds(), fds);
  });

  test('an abort between steps makes the next next() reject, once, as Node\'s', async () => {
    for (const impl of [promises, nodePromises]) {
      const ac = new AbortController();
      const it = impl.setInterval(1, 'v', { signal: ac.signal });
      assert.deepEqual(await it.next(), { value: 'v', done: false });
      ac.abort('between');
      const r = await rejection(it.next());
      assert.equal(r.name, 'AbortError');
      assert.equal(r.cause, 'between');
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    }
  });

  test('an aborted signal and bad arguments reject the first next(), not the call, as Node\'s', async () => {
    const cases = [
      [1, 1, { signal: AbortSignal.abort('pre') }],
      [1, 1, null],
      [1, 1, []],
      [1, 1, 'x'],
      [1, 1, { ref: 'x' }],
      [1, 1, { signal: 'x' }],
      ['1', 1],
      [1n, 1],
    ];
    const fds = timerfds();
    for (const args of cases) {
      const ours = promises.setInterval(...args);
      const theirs = nodePromises.setInterval(...args);
      const a = await rejection(ours.next());
      assert.ok(a.name === 'AbortError' || a.code === 'ERR_INVALID_ARG_TYPE', String(args));
      assert.deepEqual(a, await rejection(theirs.next()));
      assert.deepEqual(await ours.next(), { value: undefined, done: true });
    }
    assert.equal(timerfds(), fds);
  });

  test('ref: false lets the process exit, as in Node', () => {
    const out = sameAsNode(
      `
      import { setInterval } from 'MODULE';
      (async () => { for await (const v of setInterval(5, 'never', { ref: false })) console.log(v); })();
      (async () => { let n = 0; for await (const v of setInterval(2, 'refed')) { console.log(v); if (++n === 2) break; } })();
      `,
      // The unref'ed interval may tick while the ref'ed one runs: only the ref'ed one's steps are certain.
      { modules: ['node:timers/promises', 'butter/timers/promises'], keep: (l) => l === 'refed' },
    );
    assert.equal(out, 'refed\nrefed');
  });
});
