// What Node's own timers tests (test/parallel/test-timers*.js of Node 20 and 22)
// check, behaviour by behaviour, each run against node:timers and butter/timers
// side by side: in this process over the table IMPLS, or in two child processes
// whose outputs must match. Written from the facts those tests check; where
// Butter differs on purpose (docs/guide.md, "What changes, on purpose"), the
// test says so and checks each side's own behaviour. No timing assertions:
// delays only order events, and the kernel never fires early.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { getEventListeners } from 'node:events';
import * as nodeTimers from 'node:timers';
import * as nodePromises from 'node:timers/promises';
import * as butterTimers from 'butter/timers';
import * as butterPromises from 'butter/timers/promises';
import { runChild } from './support/child.mjs';

const require = createRequire(import.meta.url);

const IMPLS = [
  { name: 'node', timers: nodeTimers, promises: nodePromises },
  { name: 'butter', timers: butterTimers, promises: butterPromises },
];

/** A promise resolved after `ms` by the implementation's own timer (so every timer of it due earlier ran). */
const after = (impl, ms) => new Promise((resolve) => impl.timers.setTimeout(resolve, ms));

/**
 * Runs `source` in two children, with TIMERS standing for node:timers and for
 * butter/timers (PROMISES likewise for timers/promises): both must exit with
 * status 0 and print the same; returns what they printed.
 */
function sameInChildren(source) {
  const [node, butter] = [
    ['node:timers', 'node:timers/promises'],
    ['butter/timers', 'butter/timers/promises'],
  ].map(([t, p]) => runChild(source.replaceAll('PROMISES', p).replaceAll('TIMERS', t)));
  assert.equal(node.status, 0, node.stderr);
  assert.equal(butter.status, 0, butter.stderr);
  assert.equal(butter.stdout, node.stdout);
  return butter.stdout;
}

/** What calling `fn` gives, as comparable data (thrown errors by class, code and message). */
function outcome(fn) {
  try {
    return { value: fn() };
  } catch (err) {
    return { threw: err.constructor.name, code: err.code, message: err.message };
  }
}

describe('callbacks', () => {
  for (const impl of IMPLS) {
    test(`${impl.name}: get their arguments, and the timer as this, with any count of arguments and a 0 or absent delay`, async () => {
      const { setTimeout, setInterval, clearInterval } = impl.timers;
      const seen = [];
      const argLists = [[], ['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e'], Array.from({ length: 128 }, (_, i) => i)];
      for (const args of argLists) {
        for (const delay of [undefined, 0, 1]) {
          const t = setTimeout(function (...got) { seen.push(['timeout', this === t, got]); }, delay, ...args);
          const i = setInterval(function (...got) {
            clearInterval(i);
            seen.push(['interval', this === i, got]);
          }, delay, ...args);
        }
      }
      await after(impl, 20);
      const expected = argLists.flatMap((args) => [0, 1, 2].flatMap(() => [['timeout', true, args], ['interval', true, args]]));
      assert.deepEqual(seen.sort(), expected.sort());
    });

    test(`${impl.name}: are called without reading their call or apply (a Proxy that fails any read)`, async () => {
      let calls = 0;
      const fn = new Proxy(() => calls++, {
        get(_target, property) {
          throw new Error(`read .${String(property)}`);
        },
      });
      for (const args of [[], ['a'], ['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd']]) {
        impl.timers.setTimeout(fn, 1, ...args);
        const i = impl.timers.setInterval(
          new Proxy(() => {
            calls++;
            impl.timers.clearInterval(i);
          }, { get: () => assert.fail('read a property') }),
          1,
          ...args,
        );
      }
      await after(impl, 20);
      assert.equal(calls, 10);
    });

    test(`${impl.name}: a nextTick of one due timer can clear the next due ones; they never run`, async () => {
      const { setTimeout, clearTimeout } = impl.timers;
      const ran = [];
      setTimeout(() => {
        ran.push(1);
        process.nextTick(() => {
          clearTimeout(t2);
          clearTimeout(t3);
        });
      }, 1);
      const t2 = setTimeout(() => ran.push(2), 1);
      const t3 = setTimeout(() => ran.push(3), 1);
      setTimeout(() => ran.push(4), 1);
      const until = process.hrtime.bigint() + 5_000_000n;
      while (process.hrtime.bigint() < until); // all four are due at the next wake
      await after(impl, 10);
      assert.deepEqual(ran, [1, 4]);
    });

    test(`${impl.name}: a 0 ms interval with arguments runs until cleared; a chain of 1 ms timeouts runs in order, each at least 1 ms after the last`, async () => {
      const { setTimeout, setInterval, clearTimeout } = impl.timers;
      let calls = 0;
      const iv = setInterval((a, b, c) => {
        assert.deepEqual([a, b, c], ['foo', 'bar', 'baz']);
        if (++calls === 3) clearTimeout(iv);
      }, 0, 'foo', 'bar', 'baz');
      const order = [];
      await new Promise((done) => {
        let last = 0n;
        const f = (i) => {
          const now = process.hrtime.bigint();
          // Node's guarantee is on libuv's cached millisecond clock; Butter's deadlines are on this one.
          if (impl.name === 'butter') assert.ok(now - last >= 1_000_000n);
          last = now;
          order.push(i);
          if (i < 20) setTimeout(f, 1, i + 1);
          else done();
        };
        f(1);
      });
      assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(calls, 3);
    });

    test(`${impl.name}: a timer set in a callback with the same delay runs on a later turn, after the callback's nextTicks`, async () => {
      const log = [];
      for (const delay of [0, 20]) {
        impl.timers.setTimeout(() => {
          impl.timers.setTimeout(() => log.push(`nested ${delay}`), delay);
          const until = process.hrtime.bigint() + BigInt(delay) * 1_000_000n;
          while (process.hrtime.bigint() < until); // the nested one is due before this callback returns
          process.nextTick(() => log.push(`tick ${delay}`));
        }, delay);
      }
      await after(impl, 60);
      assert.ok(log.indexOf('tick 0') < log.indexOf('nested 0'), log.join());
      assert.ok(log.indexOf('tick 20') < log.indexOf('nested 20'), log.join());
    });
  }
});

describe('clearing', () => {
  for (const impl of IMPLS) {
    test(`${impl.name}: clearTimeout and clearInterval take anything without throwing, and clear either kind`, async () => {
      const { setTimeout, setInterval, clearTimeout, clearInterval } = impl.timers;
      for (const v of [null, undefined, 0, 1, '', 'x', {}, [], () => {}, Symbol('s'), 1n, true]) {
        clearTimeout(v);
        clearInterval(v);
      }
      let fired = 0;
      clearInterval(setTimeout(() => fired++, 1));
      clearTimeout(setInterval(() => fired++, 1));
      await after(impl, 20);
      assert.equal(fired, 0);
    });

    test(`${impl.name}: a timer's primitive is its id: +t, \`\${t}\`, an object key, and clearTimeout takes it as a number or a string`, async () => {
      const { setTimeout, setInterval, clearTimeout } = impl.timers;
      let fired = 0;
      for (const t of [setTimeout(() => fired++, 1), setInterval(() => fired++, 1)]) {
        assert.equal(Number.isNaN(+t), false);
        assert.equal(+t, t[Symbol.toPrimitive]());
        assert.equal(`${t}`, String(t[Symbol.toPrimitive]()));
        assert.deepEqual(Object.keys({ [t]: t }), [`${t}`]);
        clearTimeout(+t);
      }
      clearTimeout(`${setTimeout(() => fired++, 1)}`);
      await after(impl, 20);
      assert.equal(fired, 0);
    });

    test(`${impl.name}: clearing a fired timeout in its callback leaves a new timer of the same delay alive and clearable`, async () => {
      const { setTimeout, clearTimeout } = impl.timers;
      const log = [];
      const first = setTimeout(() => {
        clearTimeout(first);
        const second = setTimeout(() => log.push('second'), 10);
        setTimeout(() => clearTimeout(second), 1);
        setTimeout(() => log.push('third'), 10);
      }, 10);
      await after(impl, 40);
      assert.deepEqual(log, ['third']);
    });

    test(`${impl.name}: inside an interval's callback, clearTimeout, close(), unenroll(), _idleTimeout = -1, _onTimeout = null and _repeat = null each end it`, async () => {
      const { timers } = impl;
      const stops = {
        clearTimeout: (i) => timers.clearTimeout(i),
        close: (i) => i.close(),
        // Node 24 removed unenroll(); Butter keeps it.
        ...(timers.unenroll !== undefined && { unenroll: (i) => timers.unenroll(i) }),
        idleTimeout: (i) => (i._idleTimeout = -1),
        onTimeout: (i) => (i._onTimeout = null),
        repeat: (i) => (i._repeat = null),
      };
      const calls = {};
      for (const [name, stop] of Object.entries(stops)) {
        calls[name] = 0;
        const i = timers.setInterval(() => {
          calls[name]++;
          stop(i);
        }, 1).unref();
      }
      await after(impl, 30);
      assert.deepEqual(calls, Object.fromEntries(Object.keys(stops).map((name) => [name, 1])));
    });
  }
});

describe("Node's fields and methods", () => {
  /** The fields Node's tests read, at each point of a timer's life. */
  async function lifeStates(impl) {
    const { setTimeout, setInterval, clearTimeout, clearInterval } = impl.timers;
    const fields = (t) => ({ destroyed: t._destroyed, idleTimeout: t._idleTimeout, repeat: t._repeat, onTimeout: typeof t._onTimeout });
    const states = {};
    const fired = setTimeout(() => (states.inCallback = fields(fired)), 5);
    const cleared = setTimeout(() => {}, 5);
    const clearedById = setTimeout(() => {}, 5);
    const interval = setInterval(() => {}, 5);
    const disposed = setInterval(() => {}, 5);
    const unrefInterval = setInterval(() => {}, 1).unref();
    states.pending = fields(fired);
    states.pendingInterval = fields(interval);
    clearTimeout(cleared);
    clearTimeout(`${clearedById}`);
    clearInterval(interval);
    disposed[Symbol.dispose]();
    states.cleared = fields(cleared);
    states.clearedById = fields(clearedById);
    states.clearedInterval = fields(interval);
    states.disposed = fields(disposed);
    await after(impl, 20);
    states.fired = fields(fired);
    states.unrefInterval = fields(unrefInterval);
    clearTimeout(fired);
    states.clearedAfterFiring = fields(fired);
    clearInterval(unrefInterval);
    return states;
  }

  test('_destroyed, _idleTimeout, _repeat and _onTimeout: pending, in the callback, fired, cleared (by object, by id), disposed', async () => {
    const node = await lifeStates(IMPLS[0]);
    // A cleared timer's _onTimeout: null up to Node 22, undefined from Node 24.
    assert.deepEqual(node.cleared, { destroyed: true, idleTimeout: -1, repeat: null, onTimeout: Number(process.versions.node.split('.')[0]) < 24 ? 'object' : 'undefined' });
    assert.deepEqual(await lifeStates(IMPLS[1]), node);
  });

  test('Timeout methods called with another this do what Node\'s do: no throw for an object, Node\'s TypeError for null', () => {
    // In children: Node's own methods given a foreign this leave Node's timer
    // bookkeeping unbalanced (ref() counts a timer that never ends), which
    // would upset the timers of the tests after this one.
    const out = sameInChildren(`
      import { setTimeout, clearTimeout } from 'TIMERS';
      const t = setTimeout(() => {}, 1000);
      const methods = ['ref', 'unref', 'hasRef', 'close', 'refresh', Symbol.toPrimitive, Symbol.dispose];
      for (const m of methods) {
        for (const make of [() => ({}), () => ({ _idleStart: 0, _idleTimeout: 1 }), () => null, () => undefined, () => 1, () => 'x']) {
          const self = make();
          let r;
          try {
            const v = t[m].call(self);
            r = v === self ? 'this' : String(v);
          } catch (err) {
            r = err.constructor.name + ': ' + err.message;
          }
          const marks = typeof self === 'object' && self !== null ? Object.getOwnPropertySymbols(self).length : 0;
          console.log(String(m), String(self), r, marks);
        }
        const o = {};
        t[m].call(o);
        console.log(String(m), 'then hasRef', t.hasRef.call(o));
      }
      clearTimeout(t);
    `);
    assert.match(out, /^unref \[object Object\] this 0$/m);
    assert.match(out, /^ref null TypeError: Cannot read properties of null/m);
  });

  for (const impl of IMPLS) {
    test(`${impl.name}: ref(), unref() and refresh() return the timer; refresh() restarts the delay, so a timer set later fires first`, async () => {
      const { setTimeout, setInterval, clearInterval } = impl.timers;
      const log = [];
      const t = setTimeout(() => log.push('refreshed'), 10);
      assert.equal(t.unref().ref().unref(), t);
      setTimeout(() => log.push('later'), 10);
      const until = process.hrtime.bigint() + 2_000_000n;
      while (process.hrtime.bigint() < until);
      assert.equal(t.refresh(), t);
      let n = 0;
      let twice;
      const done = new Promise((resolve) => (twice = resolve));
      const i = setInterval(() => {
        if (++n === 2) clearInterval(i);
        log.push(`interval ${n}`);
        if (n === 2) twice();
      }, 10);
      assert.equal(i.refresh(), i);
      // Not a fixed wait: on a loaded machine the second tick may come late (the timeouts come before it either way).
      await done;
      assert.deepEqual(log.filter((s) => !s.startsWith('interval')), ['later', 'refreshed']);
      assert.deepEqual(log.filter((s) => s.startsWith('interval')), ['interval 1', 'interval 2']);
    });

    test(`${impl.name}: refresh() after _idleTimeout was set to anything arms with it, never throws`, async () => {
      let calls = 0;
      for (const v of [Infinity, 2 ** 40, NaN, 'x', -5, 2]) {
        const t = impl.timers.setTimeout(() => calls++, 1000);
        t._idleTimeout = v;
        assert.equal(t.refresh(), t);
        if (v !== 2) impl.timers.clearTimeout(t);
      }
      await after(impl, 20);
      assert.equal(calls, 1);
    });

    test(`${impl.name}: _repeat set in a timeout's callback makes it repeat`, async () => {
      let calls = 0;
      const t = impl.timers.setTimeout(() => {
        calls++;
        if (t._repeat) impl.timers.clearInterval(t);
        t._repeat = 1;
      }, 1);
      await after(impl, 30);
      assert.equal(calls, 2);
      assert.equal(t._destroyed, true);
    });
  }
});

const nodeHasDeprecated = typeof nodeTimers.enroll === 'function';

test("without Node's own deprecated functions (Node 24 removed them), Butter's act on Butter timers and refuse other objects", { skip: nodeHasDeprecated && 'this Node has its own (below)' }, async (t) => {
  t.mock.method(process, 'emitWarning', () => {}); // the deprecation warnings
  let calls = 0;
  const timer = butterTimers.setTimeout(() => calls++, 5);
  butterTimers.unenroll(timer);
  assert.deepEqual([timer._destroyed, timer._idleTimeout], [true, -1]);
  butterTimers.enroll(timer, 2);
  butterTimers.active(timer);
  await after(IMPLS[1], 15);
  assert.equal(calls, 1);
  for (const [name, call] of [['enroll', (o) => butterTimers.enroll(o, 1)], ['unenroll', butterTimers.unenroll], ['active', butterTimers.active], ['_unrefActive', butterTimers._unrefActive]]) {
    assert.throws(() => call({ _onTimeout() {} }), {
      code: 'ERR_INVALID_ARG_TYPE',
      message: `The "item" argument must be a Timeout of butter/timers (this Node has no timers.${name}() of its own). Received an instance of Object`,
    });
  }
});

describe('the deprecated enroll(), unenroll(), active() and _unrefActive()', { skip: !nodeHasDeprecated && 'Node 24 removed them from node:timers' }, () => {
  for (const impl of IMPLS) {
    test(`${impl.name}: enroll() checks msecs as Node does`, () => {
      for (const bad of [{}, [], 'foo', () => {}, Symbol('foo'), undefined, 1n]) {
        assert.throws(() => impl.timers.enroll({}, bad), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
      }
      for (const bad of [-1, Infinity, NaN]) {
        assert.throws(() => impl.timers.enroll({}, bad), {
          code: 'ERR_OUT_OF_RANGE',
          name: 'RangeError',
          message: `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${bad}`,
        });
      }
    });

    test(`${impl.name}: on a plain object: enroll sets _idleTimeout, active calls _onTimeout once with the object as this, unenroll stops it`, async () => {
      const { timers } = impl;
      const fired = [];
      const a = { _onTimeout() { fired.push(['a', this === a]); } };
      const b = { _onTimeout() { fired.push(['b', this === b]); } };
      timers.enroll(a, 1);
      assert.equal(a._idleTimeout, 1);
      timers.enroll(a, 5);
      assert.equal(a._idleTimeout, 5);
      timers.active(a);
      assert.ok(Number.isInteger(a._idleStart));
      assert.ok(a._idleNext && a._idlePrev);
      timers.enroll(b, 1);
      timers._unrefActive(b);
      timers.unenroll(b);
      assert.equal(b._idleTimeout, -1);
      const bogus = { _idleTimeout: -1 };
      timers.active(bogus);
      assert.deepEqual(bogus, { _idleTimeout: -1 });
      await after(impl, 30);
      assert.deepEqual(fired, [['a', true]]);
      assert.equal(a._destroyed, true);
    });

    test(`${impl.name}: on a timer: unenroll stops it, keeping its callback; enroll sets the delay active() arms next`, async () => {
      const { timers } = impl;
      let calls = 0;
      const t = timers.setTimeout(() => calls++, 5);
      timers.unenroll(t);
      assert.deepEqual([t._destroyed, t._idleTimeout, typeof t._onTimeout], [true, -1, 'function']);
      t.refresh();
      timers.active(t); // _idleTimeout is -1: nothing
      await after(impl, 15);
      assert.equal(calls, 0);
      timers.enroll(t, 2);
      assert.equal(t._idleTimeout, 2);
      timers._unrefActive(t);
      assert.equal(t.hasRef(), false);
      await after(impl, 15);
      assert.equal(calls, 1);
    });
  }

  // In a child: Node's own functions count a Butter timer in Node's timer lists,
  // which would leave this process's own timers unref'd for the tests after it.
  test("node:timers' own unenroll() and active() given a Butter timer do not throw; Node's unenroll() stops it", () => {
    const r = runChild(`
      import * as butterTimers from 'butter/timers';
      import * as nodeTimers from 'node:timers';
      process.emitWarning = () => {}; // the deprecation warnings
      let calls = 0;
      const t = butterTimers.setTimeout(() => calls++, 5);
      nodeTimers.unenroll(t);
      const destroyed = t._destroyed;
      const t2 = butterTimers.setTimeout(() => {}, 5);
      nodeTimers.active(t2);
      butterTimers.clearTimeout(t2);
      nodeTimers.clearTimeout(t2);
      butterTimers.setTimeout(() => console.log(JSON.stringify({ destroyed, calls })), 20);
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { destroyed: true, calls: 0 });
  });

  test('each warns once, with Node\'s code and text, shared with Node\'s own functions', () => {
    const out = sameInChildren(`
      import * as timers from 'TIMERS';
      import * as node from 'node:timers';
      process.on('warning', (w) => console.log(w.name, w.code, w.message));
      const o = { _onTimeout() { console.log('fired'); } };
      for (let i = 0; i < 2; i++) {
        timers.enroll(o, 1);
        node.enroll(o, 1);
        timers.active(o);
        timers._unrefActive(o);
        timers.unenroll(o);
        node.unenroll(o);
      }
      timers.enroll(o, 1);
      timers.active(o);
    `);
    assert.equal(
      out,
      [
        'DeprecationWarning DEP0095 timers.enroll() is deprecated. Please use setTimeout instead.',
        'DeprecationWarning DEP0126 timers.active() is deprecated. Please use timeout.refresh() instead.',
        'DeprecationWarning DEP0127 timers._unrefActive() is deprecated. Please use timeout.refresh() instead.',
        'DeprecationWarning DEP0096 timers.unenroll() is deprecated. Please use clearTimeout instead.',
        'fired',
        '',
      ].join('\n'),
    );
  });
});

describe('delays', () => {
  for (const impl of IMPLS) {
    test(`${impl.name}: every delay Node's tests use that coerces to 1 ms runs before a 2 ms timeout set after them`, async () => {
      const { setTimeout, setInterval, clearInterval } = impl.timers;
      const delays = [undefined, null, true, false, '', [], {}, NaN, +Infinity, -Infinity, parseFloat('x'), -10, -1, -0.5, -0.1, -0.0, 0, 0.1, 0.5, 1, 1.0, 2 ** 31, 12345678901234];
      const ran = new Set();
      const warn = process.emitWarning;
      process.emitWarning = () => {}; // the TimeoutOverflowWarnings of the last two
      try {
        delays.forEach((d, i) => {
          setTimeout(() => ran.add(`timeout ${i}`), d);
          const h = setInterval(() => {
            clearInterval(h);
            ran.add(`interval ${i}`);
          }, d);
        });
      } finally {
        process.emitWarning = warn;
      }
      const before = await new Promise((resolve) => setTimeout(() => resolve(ran.size), 2));
      assert.equal(before, 2 * delays.length);
      let ticks = 0;
      const i = setInterval(() => {
        if (++ticks === 10) clearInterval(i);
      }, 1.1);
      await after(impl, 30);
      assert.equal(ticks, 10);
    });
  }

  test(`a delay above 2^31 - 1 warns with Node's TimeoutOverflowWarning, from setTimeout, setInterval${nodeHasDeprecated ? ' and enroll' : ''}`, () => {
    // enroll() where node:timers has one (not from Node 24).
    const out = sameInChildren(`
      import * as timers from 'TIMERS';
      process.on('warning', (w) => {
        if (w.name !== 'DeprecationWarning') console.log(w.name, JSON.stringify(w.message));
      });
      timers.clearTimeout(timers.setTimeout(() => {}, 2 ** 31));
      timers.clearInterval(timers.setInterval(() => {}, 2 ** 31));
      if (${nodeHasDeprecated}) {
        const plain = { _onTimeout() {} };
        timers.enroll(plain, 2 ** 31);
        console.log(plain._idleTimeout);
        const t = timers.setTimeout(() => {}, 5);
        timers.enroll(t, 2 ** 31);
        console.log(t._idleTimeout);
        timers.unenroll(t);
      }
    `);
    const truncated = 'TimeoutOverflowWarning "2147483648 does not fit into a 32-bit signed integer.\\nTimer duration was truncated to 2147483647."';
    assert.equal(
      out,
      [
        ...(nodeHasDeprecated ? ['2147483647', '2147483647'] : []),
        'TimeoutOverflowWarning "2147483648 does not fit into a 32-bit signed integer.\\nTimeout duration was set to 1."',
        'TimeoutOverflowWarning "2147483648 does not fit into a 32-bit signed integer.\\nTimeout duration was set to 1."',
        ...(nodeHasDeprecated ? [truncated, truncated] : []),
        '',
      ].join('\n'),
    );
  });

  test('on purpose: fractions are kept, so 1, 1.8, 1.1, 1 run in deadline order (Node runs them as set: one 1 ms list)', async () => {
    const order = async (impl) => {
      const got = [];
      for (const [n, d] of [[1, 1], [2, 1.8], [3, 1.1], [4, 1]]) impl.timers.setTimeout(() => got.push(n), d);
      await after(impl, 5);
      return got;
    };
    assert.deepEqual(await order(IMPLS[0]), [1, 2, 3, 4]);
    assert.deepEqual(await order(IMPLS[1]), [1, 4, 3, 2]);
  });
});

describe('liveness, exceptions and domains, in child processes', () => {
  test('unref: chainable; unref()ed timers never hold the loop; this.unref() in a callback; unref with another this', () => {
    const out = sameInChildren(`
      import { setTimeout, setInterval, clearInterval } from 'TIMERS';
      setTimeout(() => {}, 10).unref().ref().unref();
      setInterval(() => {}, 10).unref().ref().unref();
      setInterval(() => console.log('long interval'), 10_000).unref();
      setTimeout(() => console.log('long timeout'), 10_000).unref();
      let unrefTimer = false;
      let unrefInterval = false;
      const i = setInterval(() => { unrefInterval = true; clearInterval(i); }, 20);
      i.unref();
      setTimeout(() => { unrefTimer = true; }, 20).unref();
      let checks = 0;
      const check = setInterval(() => { if (checks++ > 5 || (unrefInterval && unrefTimer)) clearInterval(check); }, 20);
      let calls = 0;
      setTimeout(function () { calls++; this.unref(); }, 20);
      setInterval(function () { this.unref(); }, 20);
      const t = setInterval(() => {}, 1);
      process.nextTick(t.unref.bind({}));
      process.nextTick(t.unref.bind(t));
      process.on('exit', () => console.log(unrefTimer, unrefInterval, calls));
    `);
    assert.equal(out, 'true true 1\n');
  });

  test('an unref()ed interval fires while a ref()ed one holds the loop, and the process ends when both are cleared', () => {
    const out = sameInChildren(`
      import { setInterval, clearInterval } from 'TIMERS';
      const keepOpen = setInterval(() => {}, 9999);
      let n = 0;
      const timer = setInterval(() => {
        if (++n === 3) { clearInterval(timer); clearInterval(keepOpen); }
      }, 1);
      timer.unref();
      process.on('exit', () => console.log('fired', n));
    `);
    assert.equal(out, 'fired 3\n');
  });

  test('an interval unref()ed in its callback goes on while something holds the loop; clearInterval stops it', () => {
    const out = sameInChildren(`
      import { setInterval, clearInterval } from 'TIMERS';
      import { createServer } from 'node:net';
      const server = createServer().listen(0);
      let n = 0;
      const i = setInterval(() => {
        i.unref();
        if (++n === 4) { clearInterval(i); server.close(() => console.log('calls', n)); }
      }, 1);
    `);
    assert.equal(out, 'calls 4\n');
  });

  test('throws: ref() then throw from an unref()ed timeout; an interval throwing twice goes on; the next timer still runs', () => {
    const out = sameInChildren(`
      import { setTimeout, setInterval, clearInterval } from 'TIMERS';
      let count = 0;
      let i;
      process.on('uncaughtException', (e) => {
        console.log('caught', e.message);
        if (e.message === 'interval' && ++count === 2) clearInterval(i);
      });
      const t = setTimeout(() => { t.ref(); throw new Error('timeout'); }, 1).unref();
      setTimeout(() => {
        console.log('second timer');
        i = setInterval(() => { throw new Error('interval'); }, 1);
      }, 1);
    `);
    assert.equal(out, 'caught timeout\nsecond timer\ncaught interval\ncaught interval\n');
  });

  test('after a callback throws inside a domain, the next timers run with process.domain null', () => {
    const out = sameInChildren(`
      import { setTimeout } from 'TIMERS';
      import domain from 'node:domain';
      setTimeout(() => {
        const d = domain.create();
        d.on('error', () => console.log('handled'));
        d.run(() => { throw new Error('in domain'); });
      }, 20);
      setTimeout(() => console.log('same delay', process.domain), 20);
      setTimeout(() => console.log('later', process.domain), 40);
    `);
    assert.equal(out, 'handled\nsame delay null\nlater null\n');
  });

  test("an unref()ed timeout set in 'beforeExit' does not bring the loop back: one 'beforeExit'", () => {
    const out = sameInChildren(`
      import { setTimeout } from 'TIMERS';
      let n = 0;
      process.on('beforeExit', () => {
        setTimeout(() => {}, 1).unref();
        n++;
      });
      process.on('exit', () => console.log('beforeExit', n));
    `);
    assert.equal(out, 'beforeExit 1\n');
  });

  test('the modules do not rely on the global timer functions', () => {
    const out = sameInChildren(`
      import * as timers from 'TIMERS';
      for (const name of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate']) delete globalThis[name];
      // Whether the immediate or the 1 ms timers run first depends on how long the start took: print in one order.
      const ran = [];
      const t = timers.setTimeout(() => { timers.clearTimeout(t); ran.push('timeout'); }, 1);
      const i = timers.setInterval(() => { timers.clearInterval(i); ran.push('interval'); }, 1);
      const im = timers.setImmediate(() => { timers.clearImmediate(im); ran.push('immediate'); });
      timers.setTimeout(() => timers.clearTimeout(timers.setTimeout(() => ran.push('never'), 1)), 5);
      process.on('exit', () => console.log(ran.sort().join(' ')));
    `);
    assert.equal(out, 'immediate interval timeout\n');
  });
});

describe('timers/promises', () => {
  test('butter/timers .promises is butter/timers/promises, as in Node', () => {
    assert.deepEqual(require('node:timers').promises, require('node:timers/promises'));
    assert.deepEqual(require('butter/timers').promises, require('butter/timers/promises'));
  });

  for (const impl of IMPLS) {
    test(`${impl.name}: util.promisify(setTimeout) is the promise setTimeout; an abort after it resolved changes nothing; no listener is left`, async () => {
      const { promisify } = await import('node:util');
      const sleep = promisify(impl.timers.setTimeout);
      assert.equal(sleep, impl.promises.setTimeout);
      assert.equal(await sleep(1), undefined);
      assert.equal(await sleep(1, 'foobar'), 'foobar');
      const ac = new AbortController();
      await sleep(1, undefined, { signal: ac.signal });
      ac.abort();
      await sleep(0, null, { signal: ac.signal }).catch(() => {});
      const live = new AbortController();
      await sleep(0, null, { signal: live.signal });
      assert.equal(getEventListeners(live.signal, 'abort').length, 0);
      const pending = sleep(10, undefined, { signal: live.signal });
      live.abort('boom');
      await assert.rejects(pending, { name: 'AbortError', cause: 'boom' });
    });
  }

  test("scheduler: Node's class, which makes no instance and whose methods need the scheduler as this", () => {
    const table = ({ promises: { scheduler } }) => [
      outcome(() => new scheduler.constructor()),
      outcome(() => scheduler.wait.call({}, 1)),
      outcome(() => scheduler.yield.call({})),
      outcome(() => new scheduler.constructor.prototype.yield()),
      scheduler.constructor.name,
      Object.keys(scheduler),
    ];
    assert.deepEqual(table(IMPLS[1]), table(IMPLS[0]));
  });

  for (const impl of IMPLS) {
    test(`${impl.name}: scheduler.wait waits, and rejects with an AbortError when aborted before or during`, async () => {
      const { scheduler } = impl.promises;
      let value = 0;
      impl.timers.setTimeout(() => value++, 10);
      await scheduler.wait(15);
      assert.equal(value, 1);
      const ac = new AbortController();
      const waiting = scheduler.wait(1e6, { signal: ac.signal });
      ac.abort();
      await assert.rejects(waiting, { code: 'ABORT_ERR', message: 'The operation was aborted' });
      await assert.rejects(scheduler.wait(1e4, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' });
    });

    test(`${impl.name}: setInterval adds one abort listener while running and removes it on return() and break`, async () => {
      const ac = new AbortController();
      const it = impl.promises.setInterval(1, undefined, { signal: ac.signal });
      await it.next();
      assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
      await it.return();
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      let i = 0;
      for await (const _ of impl.promises.setInterval(2, undefined, { signal: ac.signal })) {
        assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
        if (++i === 2) break;
      }
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    });

    test(`${impl.name}: setInterval, aborted after a slow loop body, yields the ticks that fired before its AbortError`, async () => {
      // Node's own case: 10 ms interval, 40 ms body, abort in the second body: at least 3 steps.
      const ac = new AbortController();
      let steps = 0;
      const it = impl.promises.setInterval(10, 'v', { signal: ac.signal });
      await assert.rejects(async () => {
        for await (const v of it) {
          assert.equal(v, 'v');
          steps++;
          await nodePromises.setTimeout(40);
          if (steps === 2) ac.abort('stop');
          else assert.equal(ac.signal.aborted, steps > 2);
        }
      }, { name: 'AbortError', cause: 'stop' });
      assert.ok(steps >= 3, `${steps} steps`);
      if (impl.name === 'butter') {
        // On purpose, one step stands for all the ticks that passed since the last one.
        assert.equal(steps + it.missed, it.expirations);
        assert.equal(steps, 3);
      }
    });
  }
});
