// Property-based tests: arbitrary values thrown at every public function, the
// EventFd constructor and its methods. Only the documented errors may come back:
//   - TypeError  with code ERR_INVALID_ARG_TYPE or ERR_INVALID_ARG_VALUE,
//   - RangeError with code ERR_OUT_OF_RANGE,
//   - a system error (plain Error, string `code`, negative `errno`, `syscall`),
//   - an AbortError, where an AbortSignal was given,
// never a crash, an abort, a hang or any other error. Each property also checks
// the outcome against a model of the documented behaviour (which argument is
// named in the error, what the kernel does with the valid calls).
//
// Safety: no value is ever used as a file descriptor unless this test created it
// (other numbers that would pass validation are swapped for one that is surely not
// open), and sethostname()/setdomainname() run only in a child process inside a
// fresh UTS namespace (or, without one, a child that lacks CAP_SYS_ADMIN).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { closeSync, fstatSync, readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import * as butter from 'butter';
import { assertSysError } from './support/errors.mjs';
import { openFds, fdsOpenedSince } from './support/fds.mjs';

const {
  getpid, getppid, gettid, uname, gethostname, getdomainname, sethostname, setdomainname,
  eventfd, eventfdRead, eventfdWrite, EventFd, AbortError, constants, readinessBackend,
} = butter;
const { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } = constants;
const EFD_ALL = EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE;
const U64_MAX = 2n ** 64n - 1n;
const COUNTER_MAX = U64_MAX - 1n; // the largest value an eventfd counter holds
const BUTTER_ESM = import.meta.resolve('butter');
const FAST_CHECK_ESM = import.meta.resolve('fast-check');
const RUNS = 200;

const FD_BASELINE = openFds();
after(() => assert.deepEqual(fdsOpenedSince(FD_BASELINE), [], 'every fd the fuzzers opened is closed'));

// ---- the values thrown at everything ----
// (Self-contained, so the sethostname child can rebuild it from its source text.)
function makeArbitraries(fc) {
  const numbers = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.integer({ min: -(2 ** 31) - 2, max: 2 ** 32 + 2 }),
    fc.constantFrom(0, -0, 1, -1, 0.5, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1,
      2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, -Number.MAX_VALUE),
  );
  const bigints = fc.oneof(
    fc.bigInt(),
    fc.bigInt({ min: -2n, max: 2n ** 64n + 2n }),
    fc.constantFrom(0n, 1n, -1n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n), 2n ** 200n),
  );
  const nulStrings = fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}\0${b}`);
  const strings = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    nulStrings,
    fc.constantFrom('', '\0', 'buffer', 'utf8', 'hex', 'UTF-8', 'nope', '0', '1', '-1', '4294967295', 'NaN', 'true', 'semaphore'),
  );
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
    fc.uint8Array({ maxLength: 80 }),
    fc.uint8Array({ min: 1, maxLength: 80 }),
    fc.uint8Array({ minLength: 2, maxLength: 80 }).map((a) => a.subarray(1, a.length - 1)),
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.concat([Buffer.from(a), Buffer.from([0])])),
  );
  const symbols = fc.constantFrom(Symbol(), Symbol('x'), Symbol.iterator, Symbol.asyncIterator, Symbol.for('butter'));
  const functions = fc.oneof(
    fc.func(fc.anything()),
    fc.constantFrom(() => {}, function named() {}, class K {}, async () => {}, function* gen() {}, Symbol, BigInt, Number, Buffer),
  );
  const specials = fc.constantFrom(
    null, undefined, true, false, [], [1], [0n], ['a'], new Number(1), new String('x'), new Boolean(true), Object(1n), Object(Symbol('o')),
    new Date(NaN), new Date(0), /re/g, new Map([[1, 2]]), new Set([1]), new ArrayBuffer(8), new SharedArrayBuffer(8),
    new DataView(new ArrayBuffer(8)), new Uint16Array(3), new Int8Array([1, 0]), new Uint8ClampedArray(2), new Float64Array(1),
    new BigUint64Array([1n]), new Uint8Array(new SharedArrayBuffer(4)), Promise.resolve(1), new Error('e'), Object.create(null),
    { valueOf: () => 1 }, { toString: () => 'x' }, { [Symbol.toPrimitive]: () => 1n }, new Proxy({}, {}), new Proxy(function p() {}, {}),
    new Proxy([], {}), globalThis, new WeakMap(), new AbortController().signal, AbortSignal.abort(),
    { length: 3, 0: 1, 1: 2, 2: 3 }, { constructor: { name: 5 } }, { constructor: {} }, { constructor: () => {} }, { fd: 1 }, { initval: 1, semaphore: true }, { encoding: 'hex' }, { signal: AbortSignal.abort() },
  );
  const anything = fc.anything({
    withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true,
    withObjectString: true, withSparseArray: true, withTypedArray: true, maxDepth: 2,
  });
  const weird = fc.oneof(anything, numbers, bigints, strings, bytes, symbols, functions, specials, fc.object({ maxDepth: 1 }));
  return { weird, numbers, bigints, strings, bytes, symbols, functions, specials };
}
const A = makeArbitraries(fc);

// ---- what may come back ----
function classify(err) {
  const argCodes = {
    ERR_INVALID_ARG_TYPE: [TypeError],
    ERR_INVALID_ARG_VALUE: [TypeError, RangeError],
    ERR_OUT_OF_RANGE: [RangeError],
  };
  if (err !== null && typeof err === 'object' && Object.hasOwn(argCodes, err.code)) {
    // Butter's own are plain TypeError/RangeError; Node's (e.g. EventEmitter's) are subclasses named the same.
    if (argCodes[err.code].some((C) => err instanceof C && err.name === C.name) && typeof err.message === 'string') return err.code;
  }
  if (err instanceof Error && Object.getPrototypeOf(err) === Error.prototype && typeof err.code === 'string' &&
      /^E[A-Z0-9]+$/.test(err.code) && Number.isInteger(err.errno) && err.errno < 0 && typeof err.syscall === 'string' &&
      err.message.startsWith(`${err.code}: `) && err.message.endsWith(`, ${err.syscall}`)) {
    return 'system';
  }
  const shown = err instanceof Error ? `${err.constructor.name} code=${String(err.code)}: ${err.stack}` : String(err);
  throw new Error(`an undocumented error came back: ${shown}`);
}

/** Calls fn; returns { value } or { error, kind } (kind from classify, which throws on anything else). */
function outcome(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error, kind: classify(error) };
  }
}

/** Asserts an argument error naming `name`. */
function assertArgError(o, code, name) {
  assert.ok(o.error, `expected ${code} for "${name}", got a value: ${String(o.value)}`);
  assert.equal(o.kind, code, o.error.message);
  assert.ok(o.error.message.includes(`"${name}"`) || o.error.message.includes(`'${name}'`), `${o.error.message} names ${name}`);
}

/** Asserts that an outcome is a system error, of the full fs shape (none of these calls takes a path). */
function assertSysOutcome(o, code, syscall) {
  assert.ok(o.error, `expected ${code}, got ${String(o.value)}`);
  assert.equal(o.kind, 'system', o.error.message);
  return assertSysError(o.error, code, syscall);
}

// ---- models of validation (what must be refused, and how) ----
function intProblem(v, min, max) {
  if (typeof v !== 'number') return 'ERR_INVALID_ARG_TYPE';
  if (!Number.isInteger(v) || v < min || v > max) return 'ERR_OUT_OF_RANGE';
  return null;
}
const uint32Problem = (v) => intProblem(v, 0, 2 ** 32 - 1);
const int32Problem = (v) => intProblem(v, -(2 ** 31), 2 ** 31 - 1);
const fdProblem = (v) => intProblem(v, 0, 2 ** 31 - 1);
function u64Problem(v) {
  if (typeof v === 'bigint') return v < 0n || v > U64_MAX ? 'ERR_OUT_OF_RANGE' : null;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? null : 'ERR_OUT_OF_RANGE';
  return 'ERR_INVALID_ARG_TYPE';
}
function optionsProblem(v) {
  if (v === undefined || v === null) return null;
  return typeof v !== 'object' || Array.isArray(v) ? 'ERR_INVALID_ARG_TYPE' : null;
}
const isSignal = (v) => v instanceof AbortSignal;

// A number that passes fd validation but is certainly not open: never touch real fds.
const CLOSED_FD = 2 ** 31 - 1;
assert.throws(() => fstatSync(CLOSED_FD), { code: 'EBADF' });
/** Swaps any value that would be accepted as an fd for one that is surely closed. */
const safeFd = (v) => (fdProblem(v) === null ? CLOSED_FD : v);

function eventfdInfo(fd) {
  assert.equal(readlinkSync(`/proc/self/fd/${fd}`), 'anon_inode:[eventfd]');
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const field = (name) => new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(info)?.[1];
  return {
    count: BigInt(`0x${field('eventfd-count')}`),
    flags: parseInt(field('flags'), 8),
    semaphore: field('eventfd-semaphore'), // absent on old kernels
  };
}

// ---- properties ----

test('ids, uname() and readinessBackend() ignore arbitrary arguments', () => {
  const u = uname();
  const backend = readinessBackend();
  assert.ok(backend === 'uv' || backend === 'epoll');
  fc.assert(
    fc.property(fc.array(A.weird, { maxLength: 4 }), (args) => {
      assert.equal(getpid(...args), process.pid);
      assert.equal(getppid(...args), process.ppid);
      assert.equal(gettid(...args), process.pid);
      assert.deepEqual(uname(...args), u);
      assert.equal(readinessBackend(...args), backend);
    }),
    { numRuns: RUNS },
  );
});

test('gethostname()/getdomainname(options): a name, or ERR_INVALID_ARG_TYPE/VALUE', () => {
  const names = { gethostname: Buffer.from(os.hostname()), getdomainname: Buffer.from(readFileSync('/proc/sys/kernel/domainname', 'utf8').replace(/\n$/, '')) };
  const encodings = fc.constantFrom('buffer', 'utf8', 'utf-8', 'UTF8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii', 'ucs2', 'utf16le', 'ucs-2', 'utf-16le');
  const options = fc.oneof(
    A.weird,
    fc.record({ encoding: fc.oneof(A.weird, encodings) }, { requiredKeys: [] }),
    fc.record({ encoding: encodings }),
  );
  fc.assert(
    fc.property(fc.constantFrom(gethostname, getdomainname), options, (fn, opts) => {
      const o = outcome(() => fn(opts));
      const bytes = names[fn.name];
      if (optionsProblem(opts)) return assertArgError(o, 'ERR_INVALID_ARG_TYPE', 'options');
      const enc = opts?.encoding;
      if (enc === undefined) return assert.equal(o.value, bytes.toString('utf8'));
      if (enc === 'buffer') return assert.deepEqual(o.value, bytes);
      if (typeof enc === 'string' && Buffer.isEncoding(enc)) return assert.equal(o.value, bytes.toString(enc));
      assertArgError(o, 'ERR_INVALID_ARG_VALUE', 'options.encoding');
    }),
    { numRuns: RUNS * 2 },
  );
});

test('eventfd(initval, flags): an eventfd as asked, EINVAL for unknown flags, or an argument error', () => {
  const initvals = fc.oneof(A.weird, fc.nat(), fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, -1, undefined));
  const flagBits = fc.subarray([EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE]).map((bits) => bits.reduce((a, b) => a | b, 0));
  const flags = fc.oneof(A.weird, flagBits, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(undefined, 1 << 30, -1, 4, 8));
  fc.assert(
    fc.property(fc.tuple(initvals, flags), fc.nat(3), ([initval, flagsArg], argc) => {
      const args = [initval, flagsArg, 'extra'].slice(0, argc);
      const o = outcome(() => eventfd(...args));
      if (o.value !== undefined) {
        try {
          assert.ok(Number.isInteger(o.value) && o.value >= 0);
        } finally {
          if (Number.isInteger(o.value) && o.value >= 0) {
            // Check what the kernel made before closing it.
            const info = eventfdInfo(o.value);
            closeSync(o.value);
            o.info = info;
          }
        }
      }
      const iv = args.length > 0 && args[0] !== undefined ? args[0] : 0;
      const fl = args.length > 1 && args[1] !== undefined ? args[1] : EFD_CLOEXEC | EFD_NONBLOCK;
      const p1 = uint32Problem(iv);
      if (p1) return assertArgError(o, p1, 'initval');
      const p2 = int32Problem(fl);
      if (p2) return assertArgError(o, p2, 'flags');
      if ((fl & ~EFD_ALL) !== 0) return assertSysOutcome(o, 'EINVAL', 'eventfd');
      assert.equal(o.info.count, BigInt(iv));
      assert.equal(Boolean(o.info.flags & 0o2000000), Boolean(fl & EFD_CLOEXEC), 'O_CLOEXEC');
      assert.equal(Boolean(o.info.flags & 0o4000), Boolean(fl & EFD_NONBLOCK), 'O_NONBLOCK');
      if (o.info.semaphore !== undefined) assert.equal(o.info.semaphore, fl & EFD_SEMAPHORE ? '1' : '0');
    }),
    { numRuns: RUNS * 2 },
  );
});

test('eventfdRead()/eventfdWrite() with arbitrary fds and values: argument errors or EBADF, never a foreign fd', () => {
  fc.assert(
    fc.property(fc.oneof(A.weird, fc.integer()), fc.oneof(A.weird, A.bigints, fc.nat()), fc.nat(2), (fdArg, value, argc) => {
      const fd = safeFd(fdArg);
      const r = outcome(() => eventfdRead(fd));
      const fp = fdProblem(fd);
      if (fp) assertArgError(r, fp, 'fd');
      else assertSysOutcome(r, 'EBADF', 'read');

      const args = [fd, value].slice(0, argc);
      const w = outcome(() => eventfdWrite(...args));
      const wfp = fdProblem(args[0]);
      if (wfp) return assertArgError(w, wfp, 'fd');
      const vp = u64Problem(args[1]);
      if (vp) return assertArgError(w, vp, 'value');
      assertSysOutcome(w, 'EBADF', 'write');
    }),
    { numRuns: RUNS * 2 },
  );
});

// A model of an eventfd: the kernel's documented counter semantics.
class CounterModel {
  constructor(initval, semaphore) {
    this.c = BigInt(initval);
    this.semaphore = semaphore;
  }
  /** 'ok' | 'EINVAL' | 'EAGAIN' */
  write(v) {
    if (v === U64_MAX) return 'EINVAL';
    if (this.c + v > COUNTER_MAX) return 'EAGAIN';
    this.c += v;
    return 'ok';
  }
  /** the value read, or null (EAGAIN) */
  read() {
    if (this.c === 0n) return null;
    if (this.semaphore) {
      this.c -= 1n;
      return 1n;
    }
    const v = this.c;
    this.c = 0n;
    return v;
  }
}

const writeValues = fc.oneof(
  { weight: 1, arbitrary: A.weird },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
  { weight: 3, arbitrary: fc.constantFrom(0n, 1n, 2n, U64_MAX, COUNTER_MAX, COUNTER_MAX - 1n, 2n ** 63n, 0, 1, 2 ** 53 - 1, undefined) },
  { weight: 2, arbitrary: fc.nat() },
);

test('raw eventfd: arbitrary reads and writes follow the kernel\'s counter semantics', () => {
  const seen = { read: 0, readEAGAIN: 0, write: 0, writeEAGAIN: 0, writeEINVAL: 0, argError: 0 };
  fc.assert(
    fc.property(
      fc.nat({ max: 2 ** 32 - 1 }),
      fc.boolean(),
      fc.array(fc.oneof(fc.constant({ op: 'read' }), writeValues.map((value) => ({ op: 'write', value }))), { maxLength: 30 }),
      (initval, semaphore, ops) => {
        const fd = eventfd(initval, EFD_CLOEXEC | EFD_NONBLOCK | (semaphore ? EFD_SEMAPHORE : 0));
        const model = new CounterModel(initval, semaphore);
        try {
          for (const { op, value } of ops) {
            if (op === 'read') {
              const o = outcome(() => eventfdRead(fd));
              const expected = model.read();
              if (expected === null) assertSysOutcome(o, 'EAGAIN', 'read');
              else assert.equal(o.value, expected);
              seen[expected === null ? 'readEAGAIN' : 'read']++;
            } else {
              const o = outcome(() => eventfdWrite(fd, value));
              const vp = u64Problem(value);
              if (vp) {
                assertArgError(o, vp, 'value');
                seen.argError++;
                continue;
              }
              const expected = model.write(BigInt(value));
              if (expected === 'ok') assert.equal(o.value, undefined);
              else assertSysOutcome(o, expected, 'write');
              seen[expected === 'ok' ? 'write' : `write${expected}`]++;
            }
            assert.equal(eventfdInfo(fd).count, model.c);
          }
        } finally {
          closeSync(fd);
        }
      },
    ),
    { numRuns: RUNS },
  );
  // Every documented outcome was reached.
  for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `${k}: ${JSON.stringify(seen)}`);
});

test('new EventFd(options): an EventFd as asked, or an argument error naming the option', () => {
  const options = fc.oneof(
    A.weird,
    fc.record(
      {
        initval: fc.oneof(A.weird, fc.nat({ max: 2 ** 32 - 1 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, -1)),
        semaphore: fc.oneof(A.weird, fc.boolean()),
      },
      { requiredKeys: [] },
    ),
    fc.record({ initval: fc.nat({ max: 2 ** 32 - 1 }), semaphore: fc.boolean() }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(options, fc.array(A.weird, { maxLength: 2 }), (opts, extra) => {
      const o = outcome(() => new EventFd(opts, ...extra));
      // Closed already only when given an aborted signal (checked below).
      if (o.value && !o.value.closed) {
        const ev = o.value;
        try {
          assert.ok(ev instanceof EventFd);
          assert.ok(Number.isInteger(ev.fd) && ev.fd >= 0);
          assert.equal(ev.closed, false);
          const info = eventfdInfo(ev.fd);
          o.info = info;
          o.first = ev.readEvent();
        } finally {
          ev.close();
        }
        assert.equal(ev.closed, true);
        assert.equal(ev.fd, -1);
      }
      const op = optionsProblem(opts);
      if (op) return assertArgError(o, op, 'options');
      // An option it does not know (here: any key with a value but these) is refused, not ignored.
      const unknown = opts == null ? undefined : Object.keys(opts).find((k) => opts[k] !== undefined && !['initval', 'semaphore', 'signal'].includes(k));
      if (unknown !== undefined) return assertArgError(o, 'ERR_INVALID_ARG_VALUE', `options.${unknown}`);
      const sig = opts?.signal;
      if (sig !== undefined && !isSignal(sig)) return assertArgError(o, 'ERR_INVALID_ARG_TYPE', 'options.signal');
      const initval = opts?.initval === undefined ? 0 : opts.initval; // null is not 'unset': a type error
      const ip = opts?.initval === undefined ? null : uint32Problem(initval);
      if (ip) return assertArgError(o, ip, 'options.initval');
      const sem = opts?.semaphore;
      if (sem !== undefined && typeof sem !== 'boolean') return assertArgError(o, 'ERR_INVALID_ARG_TYPE', 'options.semaphore');
      assert.ok(o.value, `expected an EventFd, got ${o.error?.stack}`);
      assert.equal(o.value.semaphore, sem === true);
      if (sig?.aborted) return assert.equal(o.value.closed, true);
      assert.equal(o.info.count, BigInt(initval));
      assert.equal(Boolean(o.info.flags & 0o2000000), true, 'O_CLOEXEC');
      assert.equal(Boolean(o.info.flags & 0o4000), true, 'O_NONBLOCK');
      assert.equal(o.first, initval === 0 ? null : sem === true ? 1n : BigInt(initval));
    }),
    { numRuns: RUNS * 2 },
  );
});

test('EventFd methods with arbitrary arguments, in arbitrary order, follow the model; pending reads settle', async () => {
  const readOptions = (signals) =>
    fc.oneof(
      A.weird,
      fc.record({ signal: fc.oneof(A.weird, fc.constantFrom(...signals)) }, { requiredKeys: [] }),
      fc.record({ signal: fc.constantFrom(...signals) }),
    );
  const opArb = fc.oneof(
    { weight: 4, arbitrary: writeValues.map((value) => ({ op: 'write', value })) },
    { weight: 2, arbitrary: writeValues.map((value) => ({ op: 'tryWrite', value })) },
    { weight: 3, arbitrary: fc.array(A.weird, { maxLength: 2 }).map((args) => ({ op: 'readEvent', args })) },
    { weight: 2, arbitrary: fc.array(A.weird, { maxLength: 2 }).map((args) => ({ op: 'readEvents', args })) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(2), A.weird).map(([signal, weird]) => ({ op: 'read', signal, weird, kind: 'pick' })) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(2), A.weird).map(([signal, weird]) => ({ op: 'events', signal, weird })) },
    { weight: 1, arbitrary: fc.nat(1).map((i) => ({ op: 'abort', i })) },
    { weight: 1, arbitrary: fc.tuple(fc.boolean(), A.weird).map(([ref, arg]) => ({ op: ref ? 'ref' : 'unref', arg })) },
    { weight: 1, arbitrary: fc.oneof(A.weird, A.functions).map((listener) => ({ op: 'listen', listener })) },
    { weight: 1, arbitrary: A.weird.map((arg) => ({ op: 'close', arg })) },
  );
  const SEMAPHORE_DRAIN_LIMIT = 5000n; // readEvents() drains one event per unit, 4096 at most per call
  const settled = { done: 0, abort: 0, sys: 0, arg: 0 };

  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 2 ** 32 - 1 }),
      fc.boolean(),
      fc.array(opArb, { maxLength: 25 }),
      fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      async (initval, semaphore, ops, optionStyle) => {
        const controllers = [new AbortController(), new AbortController()];
        const signals = [controllers[0].signal, controllers[1].signal, AbortSignal.abort('pre')];
        const ev = new EventFd({ initval, semaphore });
        const model = new CounterModel(initval, semaphore);
        let closed = false;
        const pending = []; // { promise, expect: { state: 'pending' | 'EBADF' | 'abort' | 'done' | arg error, signal } }
        const settle = (p, expect) => pending.push({ promise: p, expect });
        try {
          for (const step of ops) {
            switch (step.op) {
              case 'write':
              case 'tryWrite': {
                const o = outcome(() => (step.value === undefined ? ev[step.op]() : ev[step.op](step.value)));
                const vp = u64Problem(step.value === undefined ? 1n : step.value);
                if (vp) assertArgError(o, vp, 'value');
                else if (closed) assertSysOutcome(o, 'EBADF', 'write');
                else {
                  const r = model.write(step.value === undefined ? 1n : BigInt(step.value));
                  if (r === 'ok') assert.equal(o.value, step.op === 'write' ? undefined : true);
                  else if (r === 'EAGAIN' && step.op === 'tryWrite') assert.equal(o.value, false);
                  else assertSysOutcome(o, r, 'write');
                }
                break;
              }
              case 'readEvent': {
                const o = outcome(() => ev.readEvent(...step.args));
                if (closed) assertSysOutcome(o, 'EBADF', 'read');
                else assert.equal(o.value, model.read());
                break;
              }
              case 'readEvents': {
                if (!closed && semaphore && model.c > SEMAPHORE_DRAIN_LIMIT) break;
                const o = outcome(() => ev.readEvents(...step.args));
                if (closed) assertSysOutcome(o, 'EBADF', 'read');
                else {
                  const expected = [];
                  for (let v; (v = model.read()) !== null; ) expected.push(v);
                  assert.deepEqual(o.value, expected);
                }
                break;
              }
              case 'read':
              case 'events': {
                // Either an arbitrary value as the options, or { signal } with a real one.
                const opts = optionStyle[step.signal] ? { signal: signals[step.signal] } : step.weird;
                let problem = optionsProblem(opts) ? ['ERR_INVALID_ARG_TYPE', 'options'] : null;
                const unknown = problem || opts == null ? undefined : Object.keys(opts).find((k) => k !== 'signal' && opts[k] !== undefined);
                if (unknown !== undefined) problem = ['ERR_INVALID_ARG_VALUE', `options.${unknown}`];
                const sig = problem ? undefined : opts?.signal;
                if (!problem && sig !== undefined && !isSignal(sig)) problem = ['ERR_INVALID_ARG_TYPE', 'options.signal'];
                if (step.op === 'read') {
                  let p;
                  assert.doesNotThrow(() => (p = ev.read(opts)), 'read() reports errors through its Promise');
                  assert.ok(p instanceof Promise);
                  if (problem) settle(p, { arg: problem });
                  else if (closed) settle(p, { sys: 'EBADF' });
                  else if (sig?.aborted) settle(p, { abort: sig });
                  else settle(p, { state: 'pending', signal: sig });
                } else {
                  const o = outcome(() => ev.events(opts));
                  if (problem) {
                    assertArgError(o, ...problem);
                    break;
                  }
                  const it = o.value;
                  assert.equal(typeof it.next, 'function');
                  assert.equal(it[Symbol.asyncIterator](), it);
                  const p = it.next();
                  if (closed) settle(p, { done: true });
                  else if (sig?.aborted) settle(p, { abort: sig });
                  else settle(p, { state: 'pending', signal: sig, iterator: true });
                }
                break;
              }
              case 'abort': {
                controllers[step.i].abort(`reason ${step.i}`);
                for (const { expect } of pending) {
                  if (expect.state === 'pending' && expect.signal === signals[step.i]) {
                    delete expect.state;
                    expect.abort = expect.signal;
                  }
                }
                break;
              }
              case 'ref':
              case 'unref': {
                assert.equal(ev[step.op](step.arg), ev);
                assert.equal(ev.hasRef(), step.op === 'ref');
                break;
              }
              case 'listen': {
                const o = outcome(() => ev.on('event', step.listener));
                if (typeof step.listener === 'function') assert.equal(o.value, ev);
                else assertArgError(o, 'ERR_INVALID_ARG_TYPE', 'listener');
                break;
              }
              case 'close': {
                assert.equal(ev.close(step.arg), undefined);
                closed = true;
                for (const { expect } of pending) {
                  if (expect.state === 'pending') {
                    delete expect.state;
                    if (expect.iterator) expect.done = true;
                    else expect.sys = 'EBADF';
                  }
                }
                assert.equal(ev.fd, -1);
                assert.equal(ev.closed, true);
                break;
              }
            }
          }
        } finally {
          ev.close();
          ev.close(); // idempotent
        }
        for (const { expect } of pending) {
          if (expect.state === 'pending') {
            delete expect.state;
            if (expect.iterator) expect.done = true;
            else expect.sys = 'EBADF';
          }
        }
        // Every promise settles (no hang), as the model says.
        for (const { promise, expect } of pending) {
          let timer;
          const timeout = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`a promise never settled (expected ${JSON.stringify(Object.keys(expect))})`)), 2000);
          });
          const result = await Promise.race([promise.then((value) => ({ value }), (error) => ({ error })), timeout]).finally(() => clearTimeout(timer));
          settled[['done', 'abort', 'sys', 'arg'].find((k) => expect[k])]++;
          if (expect.done) {
            assert.deepEqual(result, { value: { value: undefined, done: true } });
          } else if (expect.abort) {
            assert.ok(result.error instanceof AbortError, `AbortError expected, got ${result.error?.stack ?? result.value}`);
            assert.equal(result.error.name, 'AbortError');
            assert.equal(result.error.code, 'ABORT_ERR');
            assert.equal(result.error.cause, expect.abort.reason);
          } else if (expect.sys) {
            assert.ok(result.error, `rejection expected, got ${result.value}`);
            const o = { error: result.error, kind: classify(result.error) };
            assertSysOutcome(o, expect.sys, 'read');
          } else if (expect.arg) {
            assert.ok(result.error, `rejection expected, got ${result.value}`);
            assertArgError({ error: result.error, kind: classify(result.error) }, ...expect.arg);
          } else {
            assert.fail(`unexpected expectation ${JSON.stringify(expect)}`);
          }
        }
      },
    ),
    { numRuns: RUNS },
  );
  // Pending reads and iterations ended in every documented way.
  for (const [k, n] of Object.entries(settled)) assert.ok(n > 0, `${k}: ${JSON.stringify(settled)}`);
});

test('new AbortError(message, options) behaves like new Error(message, options)', () => {
  fc.assert(
    fc.property(A.weird, A.weird, (message, options) => {
      let expected;
      try {
        expected = { value: new Error(message, options) };
      } catch (error) {
        expected = { error };
      }
      let actual;
      try {
        actual = { value: new AbortError(message, options) };
      } catch (error) {
        actual = { error };
      }
      if (expected.error) {
        assert.ok(actual.error, 'AbortError throws where Error throws');
        assert.equal(actual.error.constructor, expected.error.constructor);
        return;
      }
      assert.ok(actual.value instanceof AbortError && actual.value instanceof Error);
      assert.equal(actual.value.name, 'AbortError');
      assert.equal(actual.value.code, 'ABORT_ERR');
      assert.equal(actual.value.message, message === undefined ? 'The operation was aborted' : expected.value.message);
      assert.equal('cause' in actual.value, 'cause' in expected.value);
      if ('cause' in expected.value) assert.equal(actual.value.cause, expected.value.cause);
    }),
    { numRuns: RUNS },
  );
});

// ---- sethostname / setdomainname: only in a child that cannot touch this machine's names ----

function capSysAdmin() {
  const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]}`);
  return (capEff & (1n << 21n)) !== 0n;
}
const runsOk = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
const SETTER_CHILD = runsOk('unshare', ['--uts', 'true'])
  ? { prefix: ['unshare', '--uts', '--'], canSet: true }
  : runsOk('unshare', ['--user', '--map-root-user', '--uts', 'true'])
    ? { prefix: ['unshare', '--user', '--map-root-user', '--uts', '--'], canSet: true }
    : !capSysAdmin()
      ? { prefix: [], canSet: false } // the child gets EPERM for every name that reaches the kernel
      : null;

function runSetterChild(body) {
  const script = `
    import fc from ${JSON.stringify(FAST_CHECK_ESM)};
    import assert from 'node:assert/strict';
    import os from 'node:os';
    import { sethostname, setdomainname, gethostname, getdomainname } from ${JSON.stringify(BUTTER_ESM)};
    import { assertSysError } from ${JSON.stringify(import.meta.resolve('./support/errors.mjs'))};
    const makeArbitraries = ${makeArbitraries.toString()};
    const classify = ${classify.toString()};
    const assertSysOutcome = ${assertSysOutcome.toString()};
    const CAN_SET = ${SETTER_CHILD.canSet};
    ${body}
    console.log('done');
  `;
  const [cmd, ...args] = [...SETTER_CHILD.prefix, process.execPath, '--input-type=module', '-e', script];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 40_000 });
  assert.equal(r.error, undefined);
  assert.equal(r.signal, null, `child killed by ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 0, `child failed:\n${r.stderr}`);
  assert.equal(r.stdout.trim().split('\n').at(-1), 'done');
  return r;
}

test('sethostname()/setdomainname(name) with arbitrary names (in a new UTS namespace)', {
  skip: !SETTER_CHILD && 'needs a new UTS namespace, or a process without CAP_SYS_ADMIN',
}, () => {
  const host = os.hostname();
  runSetterChild(`
    const A = makeArbitraries(fc);
    const names = fc.oneof(
      A.weird,
      fc.string({ maxLength: 70 }),
      fc.string({ unit: 'binary', minLength: 55, maxLength: 70 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.uint8Array({ min: 1, maxLength: 70 }).map((a) => Buffer.from(a)),
      fc.uint8Array({ min: 1, minLength: 3, maxLength: 70 }).map((a) => a.subarray(1, a.length - 1)),
    );
    let sets = 0, einval = 0, eperm = 0, argErrors = 0;
    fc.assert(
      fc.property(fc.constantFrom('host', 'domain'), names, fc.array(A.weird, { maxLength: 2 }), (which, name, extra) => {
        const [set, get, syscall] = which === 'host'
          ? [sethostname, gethostname, 'sethostname']
          : [setdomainname, getdomainname, 'setdomainname'];
        const before = get({ encoding: 'buffer' });
        let result, error, kind;
        try { result = set(name, ...extra); } catch (e) { error = e; kind = classify(e); }
        const after = get({ encoding: 'buffer' });
        if (typeof name !== 'string' && !(name instanceof Uint8Array)) {
          assert.equal(kind, 'ERR_INVALID_ARG_TYPE');
          assert.match(error.message, /^The "name" argument must be/);
          assert.deepEqual(after, before);
          argErrors++;
          return;
        }
        const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
        if (bytes.includes(0)) {
          assert.equal(kind, 'ERR_INVALID_ARG_VALUE');
          assert.match(error.message, /^The argument 'name' must not contain null bytes/);
          assert.deepEqual(after, before);
          argErrors++;
          return;
        }
        if (!CAN_SET) {
          assertSysOutcome({ error, kind }, 'EPERM', syscall);
          assert.deepEqual(after, before);
          eperm++;
          return;
        }
        if (bytes.length > 64) {
          assertSysOutcome({ error, kind }, 'EINVAL', syscall);
          assert.deepEqual(after, before);
          einval++;
          return;
        }
        assert.equal(error, undefined, error && error.stack);
        assert.equal(result, undefined);
        assert.deepEqual(after, bytes);
        if (which === 'host') assert.equal(os.hostname(), bytes.toString());
        sets++;
      }),
      { numRuns: 600 },
    );
    // Every branch of the model was exercised.
    assert.ok(argErrors > 0, 'argument errors');
    if (CAN_SET) assert.ok(sets > 0 && einval > 0, 'sets ' + sets + ', EINVAL ' + einval);
    else assert.ok(eperm > 0);
  `);
  assert.equal(os.hostname(), host);
});

// ---- values that once broke the validators or hung ----

test('EventFd#readEvents() returns in bounded time on a semaphore EventFd with a large count', {
  timeout: 20_000,
}, () => {
  // In a child with a time limit, so the hang cannot take this process with it.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { EventFd } from ${JSON.stringify(BUTTER_ESM)};
    const ev = new EventFd({ semaphore: true });
    ev.write(2n ** 40n);
    const events = ev.readEvents();
    console.log(events.length > 0 ? 'returned' : 'empty');
    ev.close();
  `], { encoding: 'utf8', timeout: 3_000 });
  assert.equal(r.signal, null, 'readEvents() did not return within 3 s');
  assert.equal(r.status, 0, r.stderr);
});

test('sethostname()/setdomainname() with a detached Uint8Array: a documented outcome, not a bare TypeError', {
  skip: !SETTER_CHILD?.canSet && 'needs a new UTS namespace',
}, () => {
  runSetterChild(`
    for (const set of [sethostname, setdomainname]) {
      const ab = new ArrayBuffer(4);
      const view = new Uint8Array(ab);
      structuredClone(ab, { transfer: [ab] }); // detaches: view.length is now 0
      let error;
      try { set(view); } catch (e) { error = e; }
      // As node:fs treats a detached view: empty bytes (a valid, empty name), or an argument error.
      if (error) assert.match(String(error.code), /^ERR_INVALID_ARG_(TYPE|VALUE)$/, error.stack);
    }
  `);
});

test('argument errors for an object whose constructor property is a primitive are documented errors', {
}, () => {
  const failures = [];
  for (const value of [{ constructor: 'x' }, { constructor: 1 }, { constructor: Symbol('c') }, { constructor: true }, { constructor: 1n }]) {
    const calls = {
      'eventfd(initval)': () => eventfd(value),
      'eventfd(0, flags)': () => eventfd(0, value),
      'eventfdRead(fd)': () => eventfdRead(value),
      'eventfdWrite(fd, value)': () => eventfdWrite(CLOSED_FD, value),
      'gethostname(options.encoding)': () => gethostname({ encoding: value }),
      'new EventFd({ initval })': () => new EventFd({ initval: value }),
      'new EventFd({ semaphore })': () => new EventFd({ semaphore: value }),
      // Only values rejected by type before any syscall (never a string or Uint8Array).
      'sethostname(name)': () => sethostname(value),
      'setdomainname(name)': () => setdomainname(value),
    };
    for (const [name, call] of Object.entries(calls)) {
      try {
        call();
        failures.push(`${name}: no error`);
      } catch (err) {
        try {
          assert.match(classify(err), /^ERR_INVALID_ARG_(TYPE|VALUE)$/);
        } catch (e) {
          failures.push(`${name} with constructor ${String(value.constructor)}: ${e.message.split('\n')[0]}`);
        }
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('argument errors for a revoked Proxy are documented errors', {
}, () => {
  // Values rejected by type before any syscall (a Proxy is never a string or Uint8Array).
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const calls = {
    'eventfd(initval)': () => eventfd(proxy),
    'eventfdRead(fd)': () => eventfdRead(proxy),
    'gethostname(options)': () => gethostname(proxy),
    'new EventFd(options)': () => new EventFd(proxy),
  };
  const failures = [];
  for (const [name, call] of Object.entries(calls)) {
    try {
      call();
      failures.push(`${name}: no error`);
    } catch (err) {
      try {
        classify(err);
      } catch (e) {
        failures.push(`${name}: ${e.message.split('\n')[0]}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});
