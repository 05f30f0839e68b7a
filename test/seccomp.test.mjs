// seccomp: the 1:1 calls, the compiler, Docker profiles, the interpreter and
// disassembler, and loading into a process. The kernel is the oracle: filters
// are loaded in child processes (never this one), with every action turned
// into a distinct errno so that no call runs, and each syscall's errno there
// is compared with what seccompInterpret() says.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  seccompCompile,
  seccompProfile,
  seccompInterpret,
  seccompDisassemble,
  seccompLoad,
  seccompSetModeFilter,
  seccompGetActionAvail,
  seccompGetNotifSizes,
  prctlGetSeccomp,
  prctlGetNoNewPrivs,
  SeccompFilter,
  seccompSyscallNumber,
  seccompSyscallName,
  constants as C,
} from 'butter';
import { compileProfileText } from '../dist/cjs/high/seccomp.js';
import { DOCKER_DEFAULT_CAPS } from '../dist/cjs/high/seccomp-profile.js';
import { assertSysError } from './support/errors.mjs';
import { runChild, root } from './support/child.mjs';
import { NOBODY, nobodyUnavailable } from './support/nobody.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-seccomp-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const docker = fs.readFileSync(new URL('./fixtures/docker-seccomp-default.json', import.meta.url), 'utf8');
const native = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const X32 = 0x40000000;

// The probe: a small C program that loads a filter in a forked child and makes the calls it is given.
const probe = path.join(dir, 'seccomp-probe');
const cc = spawnSync(process.env.CC || 'cc', ['-O', '-o', probe, path.join(root, 'test/support/seccomp-probe.c')], { encoding: 'utf8', timeout: 60_000 });
const noProbe = cc.status === 0 ? false : `cannot build the probe with a C compiler: ${cc.error?.message ?? cc.stderr}`;

/**
 * The filter with every distinct return value replaced by errno(1000 + i), and
 * that mapping: loaded, it denies every call, each with the errno of the
 * verdict the original gives.
 */
function allErrno(program) {
  const p = Buffer.from(program);
  const errnos = new Map();
  for (let i = 0; i < p.length; i += 8) {
    if (p.readUInt16LE(i) !== 0x06) continue;
    const k = p.readUInt32LE(i + 4);
    if (!errnos.has(k)) errnos.set(k, 1000 + errnos.size);
    p.writeUInt32LE((C.SECCOMP_RET_ERRNO | errnos.get(k)) >>> 0, i + 4);
  }
  return { program: p, errnos };
}

let probes = 0;
/** Each call [nr, ...args] made under `program` in a child: the results, as numbers. */
function kernelResults(program, calls) {
  const file = path.join(dir, `filter${probes++}`);
  fs.writeFileSync(file, program);
  const input = calls.map((c) => c.map((v) => BigInt.asUintN(64, BigInt(v)).toString()).join(' ')).join('\n') + '\n';
  const r = spawnSync(probe, [file], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.pop(), 'done', 'the child was not killed');
  return lines.map(Number);
}

/** Asserts that the kernel and seccompInterpret agree on every call (nr on `arch`, with args). */
function assertKernelAgrees(filter, calls, arch = native) {
  const { program, errnos } = allErrno(filter.program ?? filter);
  const got = kernelResults(program, calls);
  calls.forEach(([nr, ...args], i) => {
    const expected = seccompInterpret(filter, { nr, arch, args: args.map(BigInt) }).value;
    assert.equal(got[i], -errnos.get(expected), `syscall ${nr} (${args.join(', ')}): the kernel said ${got[i]}, the interpreter ${expected.toString(16)}`);
  });
  return got;
}

// Recent kernels run x86's uretprobe (335) and uprobe (336) syscalls without
// asking the filter (seen on 6.18): outside a probe they fail, or kill with SIGILL.
const unfiltered = native === 'x86_64' ? [335, 336] : [];
const upTo = (n, base = 0) => Array.from({ length: n }, (_, i) => [base + i]).filter(([nr]) => !unfiltered.includes(nr & ~X32));

describe('seccomp 1:1', () => {
  test('reads the calling thread\'s state without changing it', () => {
    assert.ok([C.SECCOMP_MODE_DISABLED, C.SECCOMP_MODE_FILTER].includes(prctlGetSeccomp()));
    assert.equal(typeof prctlGetNoNewPrivs(), 'boolean');
    const sizes = seccompGetNotifSizes();
    assert.equal(sizes.data, 64, 'struct seccomp_data');
    assert.ok(sizes.notif >= 80 && sizes.resp >= 24, JSON.stringify(sizes));
  });

  test('every SECCOMP_RET_* action is available; an unknown one is not', () => {
    for (const a of ['KILL_PROCESS', 'KILL_THREAD', 'TRAP', 'ERRNO', 'USER_NOTIF', 'TRACE', 'LOG', 'ALLOW']) {
      assert.equal(seccompGetActionAvail(C[`SECCOMP_RET_${a}`]), true, a);
    }
    assert.equal(seccompGetActionAvail(0x12340000), false);
    assert.equal(C.SECCOMP_RET_KILL, C.SECCOMP_RET_KILL_THREAD);
    assert.equal(C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 32);
  });

  test('refuses a program that is not whole sock_filter records, before any syscall', () => {
    for (const p of [Buffer.alloc(0), Buffer.alloc(12), Buffer.alloc(8 * 4097)]) {
      assert.throws(() => seccompSetModeFilter(0, p), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    assert.throws(() => seccompSetModeFilter(0, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompSetModeFilter(-1, Buffer.alloc(8)), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('the kernel\'s errors come back fs-shaped (in a child)', () => {
    const r = runChild(`
      import * as b from 'butter';
      const out = {};
      const grab = (name, f) => { try { f(); out[name] = 'no error'; } catch (e) { out[name] = { ...e, message: e.message, name: e.name }; } };
      // A load outside seccomp_data: the kernel's checker refuses it, nothing is loaded.
      const bad = Buffer.alloc(16); bad.writeUInt16LE(0x20, 0); bad.writeUInt32LE(64, 4); bad.writeUInt16LE(0x06, 8);
      grab('einval', () => b.seccompSetModeFilter(0, bad));
      grab('flags', () => b.seccompSetModeFilter(0x80000000, Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f])));
      out.mode = b.prctlGetSeccomp();
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.einval, 'EINVAL', 'seccomp');
    assertSysError(out.flags, 'EINVAL', 'seccomp');
    assert.equal(out.mode, C.SECCOMP_MODE_DISABLED);
  });

  test('a filter without no_new_privs or CAP_SYS_ADMIN is EACCES; with no_new_privs it loads (as nobody, in a child)', { skip: nobodyUnavailable }, () => {
    const source = `
      const b = require('butter');
      const p = Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
      const out = {};
      try { b.seccompSetModeFilter(0, p); } catch (e) { out.without = { ...e, message: e.message, name: e.name }; }
      b.prctlSetNoNewPrivs();
      out.with = b.seccompSetModeFilter(0, p);
      out.mode = b.prctlGetSeccomp();
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(process.execPath, ['-e', source], { cwd: root, uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.without, 'EACCES', 'seccomp');
    assert.equal(out.with, 0);
    assert.equal(out.mode, C.SECCOMP_MODE_FILTER);
  });

  test('SET_MODE_STRICT: the calling thread dies at its first syscall past read/write/exit (a Worker, in a child)', () => {
    const r = runChild(`
      import { Worker } from 'node:worker_threads';
      import { existsSync, readFileSync } from 'node:fs';
      const w = new Worker("const b = require(process.cwd()); require('worker_threads').parentPort.postMessage(b.gettid()); b.seccompSetModeStrict(); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);",
        { eval: true, execArgv: [] });
      const tid = await new Promise((r) => w.once('message', r));
      for (let i = 0; i < 200 && existsSync('/proc/self/task/' + tid); i++) await new Promise((r) => setTimeout(r, 10));
      console.log(JSON.stringify({ gone: !existsSync('/proc/self/task/' + tid), alive: readFileSync('/proc/self/status', 'utf8').includes('State:') }));
      // The Worker's thread is gone without telling Node, which would wait for it at exit.
      process.kill(process.pid, 'SIGKILL');
    `);
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { gone: true, alive: true });
  });

  test('SET_MODE_FILTER with a raw program: NEW_LISTENER returns the listener fd, TSYNC with it needs TSYNC_ESRCH (in a child)', () => {
    const r = runChild(`
      import * as b from 'butter';
      import { fstatSync, readlinkSync } from 'node:fs';
      // ret USER_NOTIF for nothing at all: ld nr; jeq 0xfffff, notif, allow.
      const p = Buffer.alloc(32);
      p.writeUInt16LE(0x20, 0); p.writeUInt32LE(0, 4);
      p.writeUInt16LE(0x15, 8); p[10] = 0; p[11] = 1; p.writeUInt32LE(0xfffff, 12);
      p.writeUInt16LE(0x06, 16); p.writeUInt32LE(b.constants.SECCOMP_RET_USER_NOTIF, 20);
      p.writeUInt16LE(0x06, 24); p.writeUInt32LE(b.constants.SECCOMP_RET_ALLOW, 28);
      b.prctlSetNoNewPrivs();
      const { SECCOMP_FILTER_FLAG_NEW_LISTENER: L, SECCOMP_FILTER_FLAG_TSYNC: T, SECCOMP_FILTER_FLAG_TSYNC_ESRCH: E } = b.constants;
      let plain;
      try { b.seccompSetModeFilter(L | T, p); } catch (e) { plain = e.code; }
      // TSYNC with a listener needs TSYNC_ESRCH (a thread that cannot sync is an error, not a tid).
      const fd = b.seccompSetModeFilter(L | T | E, p);
      const { SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: W } = b.constants;
      const codes = {};
      for (const [name, flags] of [['second', L], ['killable', L | W], ['killableAlone', W]]) {
        try { b.seccompSetModeFilter(flags, p); codes[name] = 'loaded'; } catch (e) { codes[name] = e.code; }
      }
      console.log(JSON.stringify({ codes, plain, fd, link: readlinkSync('/proc/self/fd/' + fd), nnp: b.prctlGetNoNewPrivs(), mode: b.prctlGetSeccomp() }));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.plain, 'EINVAL');
    // One listener per filter stack; WAIT_KILLABLE_RECV only with a listener.
    assert.deepEqual(out.codes, { second: 'EBUSY', killable: 'EBUSY', killableAlone: 'EINVAL' });
    assert.ok(out.fd > 2);
    assert.equal(out.link, 'anon_inode:seccomp notify');
    assert.equal(out.nnp, true);
    assert.equal(out.mode, C.SECCOMP_MODE_FILTER);
  });
});

describe('seccompCompile', () => {
  test('an architecture check first, then a binary search; x32\'s numbers and other architectures apart', () => {
    const f = seccompCompile([{ syscall: 'getppid', action: { errno: 'EPERM' } }], { defaultAction: 'allow', arch: 'x86_64' });
    assert.ok(f instanceof SeccompFilter);
    const text = f.disassemble().split('\n');
    assert.equal(text.length, f.length);
    assert.equal(text[0], '0000: ld $data[4] ; arch');
    assert.match(text[1], /^0001: jeq #0xc000003e /);
    const v = (nr, arch = 'x86_64') => seccompInterpret(f, { nr, arch }).action;
    assert.equal(v('getppid'), 'errno');
    assert.equal(seccompInterpret(f, { nr: 'getppid' }).data, 1);
    assert.equal(v('getpid'), 'allow');
    assert.equal(v(X32 + 110, 'x32'), 'kill_process', 'x32 was not compiled for');
    assert.equal(v(110, 'aarch64'), 'kill_process', 'nor aarch64');
    const both = seccompCompile([{ syscall: 'getppid', action: 'log' }], { defaultAction: 'allow', arch: ['x86_64', 'x32', 'aarch64'] });
    assert.equal(seccompInterpret(both, { nr: 'getppid', arch: 'x32' }).action, 'log');
    assert.equal(seccompInterpret(both, { nr: 'getppid', arch: 'aarch64' }).action, 'log');
    assert.equal(seccompInterpret(both, { nr: 173, arch: 'aarch64' }).action, 'log', 'aarch64 numbers getppid 173');
    assert.equal(seccompInterpret(both, { nr: 110, arch: 'aarch64' }).action, 'allow');
  });

  test('every action', () => {
    const actions = ['allow', 'log', 'kill_process', 'kill_thread', 'trap', 'user_notif', { errno: 4095 }, { errno: 'ENOENT' }, { trace: 0xffff }];
    const rules = actions.map((action, i) => ({ syscall: i, action }));
    const f = seccompCompile(rules, { defaultAction: { errno: 7 } });
    const got = actions.map((_, i) => seccompInterpret(f, { nr: i }));
    assert.deepEqual(got.map((v) => v.action), ['allow', 'log', 'kill_process', 'kill_thread', 'trap', 'user_notif', 'errno', 'errno', 'trace']);
    assert.deepEqual(got.slice(6).map((v) => v.data), [4095, 2, 0xffff]);
    assert.equal(seccompInterpret(f, { nr: 99 }).data, 7);
  });

  test('refuses bad rules and options before compiling', () => {
    const d = { defaultAction: 'allow' };
    assert.throws(() => seccompCompile([{ syscall: 'nope', action: 'allow' }], d), { code: 'ERR_INVALID_ARG_VALUE', message: /rules\[0\]\.syscall/ });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'deny' }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: X32 + 1, action: 'allow' }], { ...d, arch: 'x86_64' }), { code: 'ERR_INVALID_ARG_VALUE', message: /not a syscall on x86_64/ });
    assert.throws(() => seccompCompile([{ syscall: 1, action: 'allow' }], { ...d, arch: 'x32' }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(seccompInterpret(seccompCompile([{ syscall: X32 + 1, action: 'log' }], { ...d, arch: ['x86_64', 'x32'] }), { nr: X32 + 1, arch: 'x32' }).action, 'log');
    assert.throws(() => seccompCompile([{ syscall: 'read', action: { errno: 4096 } }], d), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: { errno: 'ENOPE' } }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'toString' }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: { errno: 'toString' } }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'constructor', action: 'allow' }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'allow', args: [{ index: 6, op: 'eq', value: 1 }] }], d), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'eq', value: -1n }] }], d), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'lt', value: 1, mask: 1 }] }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'in', value: 1 }] }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([{ syscall: 'read', action: 'allow', arch: ['mips'] }], d), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile({}, d), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompCompile([], {}), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompCompile([], { defaultAction: 'allow', arch: [] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompCompile([], { defaultAction: 'allow', bogus: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('the six comparisons and masked equality on 64-bit arguments, as the kernel evaluates them', { skip: noProbe }, () => {
    const edges = [0n, 1n, 7n, 8n, 9n, 0xffffffffn, 0x100000000n, 0x100000007n, 0x100000008n, 0x100000009n, 0x1ffffffffn, 0xfffffffffffffff8n, 2n ** 64n - 1n];
    const values = [8n, 0x100000008n, 0xfffffffffffffff8n, 0n];
    const ops = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
    for (const value of values) {
      // One syscall per operator, each check on a different argument.
      const rules = ops.map((op, i) => ({ syscall: 400 + i, action: { errno: 100 + i }, args: [{ index: i, op, value }] }));
      rules.push({ syscall: 406, action: { errno: 200 }, args: [{ index: 2, op: 'masked_eq', mask: 0xf0000000fn, value: value & 0xf0000000fn }] });
      const f = seccompCompile(rules, { defaultAction: { errno: 99 } });
      const calls = [];
      for (let i = 0; i <= 6; i++) {
        for (const a of edges) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[i === 6 ? 2 : i] = a;
          calls.push([400 + i, ...args]);
        }
      }
      assertKernelAgrees(f, calls);
      // And the interpreter's reading of the comparisons themselves.
      for (const [nr, ...args] of calls) {
        const i = nr - 400;
        const a = args[i === 6 ? 2 : i];
        const expected = i === 6 ? (a & 0xf0000000fn) === (value & 0xf0000000fn)
          : { eq: a === value, ne: a !== value, lt: a < value, le: a <= value, gt: a > value, ge: a >= value }[ops[i]];
        assert.equal(seccompInterpret(f, { nr, args }).action === 'errno' && seccompInterpret(f, { nr, args }).data !== 99, expected, `${i === 6 ? 'masked_eq' : ops[i]} ${a} vs ${value}`);
      }
    }
  });

  test('several checks in a rule must all hold; a syscall\'s rules are tried in order', { skip: noProbe }, () => {
    const f = seccompCompile([
      { syscall: 'getppid', action: { errno: 1 }, args: [{ index: 0, op: 'eq', value: 1 }, { index: 1, op: 'gt', value: 5 }] },
      { syscall: 'getppid', action: { errno: 2 }, args: [{ index: 0, op: 'eq', value: 1 }] },
      { syscall: 'getppid', action: { errno: 3 } },
      { syscall: 'getppid', action: { errno: 4 } },
    ], { defaultAction: 'allow' });
    const data = (args) => seccompInterpret(f, { nr: 'getppid', args }).data;
    assert.deepEqual([data([1, 6]), data([1, 5]), data([2, 6]), data([])], [1, 2, 3, 3]);
    const nr = native === 'x86_64' ? 110 : 173;
    assertKernelAgrees(f, [[nr, 1, 6], [nr, 1, 5], [nr, 2, 6], [nr]]);
  });

  test('a program past 256 instructions jumps through trampolines, and the kernel agrees on every number', { skip: noProbe }, () => {
    // 400 rules, each syscall its own errno and an argument check, so nothing merges: a naive layout's 8-bit jumps would wrap.
    const rules = [];
    for (let nr = 0; nr < 400; nr++) {
      rules.push({ syscall: nr, action: { errno: 1 + (nr % 7) }, args: [{ index: nr % 6, op: 'ne', value: BigInt(nr) << 20n }] });
      rules.push({ syscall: nr, action: { errno: 10 + (nr % 11) } });
    }
    const f = seccompCompile(rules, { defaultAction: { errno: 99 }, arch: native });
    assert.ok(f.length > 2000, `${f.length} instructions`);
    assert.match(f.disassemble(), /: ja \d{4}/, 'has trampolines');
    const calls = [];
    for (let nr = 0; nr < 420; nr++) {
      if (unfiltered.includes(nr)) continue;
      const args = [0, 0, 0, 0, 0, 0];
      calls.push([nr, ...args]);
      args[nr % 6] = BigInt(nr) << 20n;
      calls.push([nr, ...args]);
    }
    assertKernelAgrees(f, calls);
    assert.equal(seccompInterpret(f, { nr: 399, args: [0, 0, 0, 0, 0, 0] }).data, 1 + (399 % 7));
    assert.equal(seccompInterpret(f, { nr: 399, args: [0, 0, 0, 399n << 20n] }).data, 10 + (399 % 11));
  });

  test('random rule sets: the kernel, the interpreter and a model of the rules agree on every number and on random arguments', { skip: noProbe }, async () => {
    const fc = (await import('fast-check')).default;
    const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 63n, 2n ** 64n - 1n));
    const check = fc.record({ index: fc.integer({ min: 0, max: 5 }), op: fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'), value: u64, mask: u64 })
      .map((c) => (c.op === 'masked_eq' ? { ...c, value: c.value & c.mask } : { index: c.index, op: c.op, value: c.value }));
    const rule = fc.record({
      syscall: fc.integer({ min: 0, max: 40 }),
      action: fc.integer({ min: 1, max: 30 }).map((errno) => ({ errno })),
      args: fc.array(check, { maxLength: 3 }),
    });
    fc.assert(fc.property(fc.array(rule, { maxLength: 60 }), fc.array(fc.array(u64, { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 4 }), (rules, argSets) => {
      const f = seccompCompile(rules, { defaultAction: { errno: 99 }, arch: native });
      const calls = [];
      for (let nr = 0; nr <= 41; nr++) {
        calls.push([nr, 0, 0, 0, 0, 0, 0]);
        for (const args of argSets) calls.push([nr, ...args]);
      }
      // And the values the rules compare with, so that equalities hold somewhere.
      for (const r of rules) for (const c of r.args) calls.push([r.syscall, ...Array.from({ length: 6 }, (_, i) => (i === c.index ? c.value : 0n))]);
      assertKernelAgrees(f, calls);
      // And the rules' meaning, modelled here: a syscall's first rule whose checks all hold, else the default.
      const holds = (c, a) => ({ eq: a === c.value, ne: a !== c.value, lt: a < c.value, le: a <= c.value, gt: a > c.value, ge: a >= c.value,
        masked_eq: (a & (c.mask ?? 0n)) === c.value })[c.op];
      for (const [nr, ...args] of calls) {
        const hit = rules.find((r) => r.syscall === nr && r.args.every((c) => holds(c, BigInt(args[c.index]))));
        assert.equal(seccompInterpret(f, { nr, args: args.map(BigInt) }).data, hit ? hit.action.errno : 99, JSON.stringify({ nr, args: args.map(String) }));
      }
    }), { numRuns: 40 });
  });

  test('refuses rules that would pass the kernel\'s 4096 instructions', () => {
    const rules = [];
    for (let nr = 0; nr < 1500; nr++) rules.push({ syscall: nr, action: 'allow', args: [{ index: 0, op: 'lt', value: 1n << 40n }] });
    assert.throws(() => seccompCompile(rules, { defaultAction: 'kill_process', arch: native }), { code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('seccompProfile (Docker\'s default)', () => {
  test('compiles for this architecture and its archMap\'s x32, with Docker\'s default capabilities', () => {
    const f = seccompProfile(docker);
    assert.deepEqual(f.arch, native === 'x86_64' ? ['x86_64', 'x32'] : ['aarch64']);
    const v = (nr, args, arch) => seccompInterpret(f, { nr, args, arch });
    assert.equal(v('getppid').action, 'allow');
    assert.deepEqual([v('mount').action, v('mount').data], ['errno', 1], 'CAP_SYS_ADMIN is not a default capability');
    assert.deepEqual([v('clone3').action, v('clone3').data], ['errno', 38], 'clone3 gets ENOSYS so that glibc falls back to clone');
    assert.equal(v('personality', [8]).action, 'allow');
    assert.equal(v('personality', [9]).action, 'errno');
    assert.equal(v('clone', [0x11]).action, 'allow');
    assert.equal(v('clone', [0x10000000]).action, 'errno', 'CLONE_NEWUSER needs CAP_SYS_ADMIN');
    if (native === 'x86_64') assert.equal(v(X32 + 110, [], 'x32').action, 'allow', 'x32 getppid');
    const admin = seccompProfile(JSON.parse(docker), { caps: ['CAP_SYS_ADMIN'] });
    assert.equal(seccompInterpret(admin, { nr: 'mount' }).action, 'allow');
    assert.equal(seccompInterpret(admin, { nr: 'clone', args: [0x10000000] }).action, 'allow');
    assert.equal(seccompInterpret(admin, { nr: 'clone3' }).action, 'allow');
  });

  test('the kernel gives every syscall number the verdict the interpreter gives', { skip: noProbe }, () => {
    for (const caps of [undefined, ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']]) {
      const f = seccompProfile(docker, { caps });
      const calls = [...upTo(560), [0x3fffffff], [2 ** 32 - 1], [0x80000000]];
      if (native === 'x86_64') calls.push(...upTo(560, X32));
      for (const a of [0, 8, 9, 0x20000, 0x20008, 0xffffffff, 0x100000008]) calls.push([135, a]);
      for (const a of [0x11, 0x10000000, 0x20000000, 0x7e020000, 0x80000000]) calls.push([56, a]);
      const got = assertKernelAgrees(f, native === 'x86_64' ? calls : calls.filter(([nr]) => nr < X32));
      assert.ok(new Set(got).size >= (caps ? 2 : 3), 'allow, EPERM (and without CAP_SYS_ADMIN ENOSYS) appear');
    }
  });

  test('compiles for aarch64 too, with aarch64\'s numbers', () => {
    const f = seccompProfile(docker, { arch: 'aarch64' });
    assert.deepEqual(f.arch, ['aarch64'], 'arm (32-bit) is not compiled');
    const v = (nr, args) => seccompInterpret(f, { nr, arch: 'aarch64', args });
    assert.equal(v(173).action, 'allow', 'getppid');
    assert.equal(v('getppid').action, 'allow');
    assert.deepEqual([v('clone3').action, v('clone3').data], ['errno', 38]);
    assert.equal(v('sync_file_range').action, 'allow', 'arm64 has no sync_file_range2');
    assert.equal(v('personality', [8]).action, 'allow');
    assert.equal(seccompInterpret(f, { nr: 110, arch: 'x86_64' }).action, 'kill_process', 'x86_64 was not compiled for');
  });

  test('refuses what is not a profile', () => {
    assert.throws(() => seccompProfile('{'), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompProfile(42), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompProfile({ defaultAction: 'SCMP_ACT_NOPE' }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_IN' }] }] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompProfile(docker, { caps: 'CAP_SYS_ADMIN' }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  // The text of a usual profile is read in C, anything else by the JS reader, which reads an object too: the two must agree.
  const outcome = (profile, options) => {
    try {
      const f = seccompProfile(profile, options);
      const verdicts = f.arch.map((arch) => ['read', 'getppid', 'personality', 'clone', 'mount'].map((n) => seccompSyscallNumber(n, arch)).filter((nr) => nr !== undefined).map((nr) => f.possibleVerdicts(nr, arch)));
      return { program: Buffer.from(f.program).toString('hex'), arch: f.arch, verdicts };
    } catch (e) {
      return { error: `${e.code} ${e.message}` };
    }
  };

  test('a profile\'s text compiles as the same profile parsed (read in C, then by the JS reader)', () => {
    // null is no capabilities to the JS reader, not the default ones.
    assert.deepEqual(outcome(docker, { caps: null }), outcome(JSON.parse(docker), { caps: null }));
    for (const options of [undefined, { arch: 'aarch64' }, { arch: 'x32' }, { caps: ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'] }, { caps: [] }]) {
      assert.ok(compileProfileText(docker, options?.caps ?? DOCKER_DEFAULT_CAPS, options?.arch), 'Docker\'s profile is read in C');
      assert.deepEqual(outcome(docker, options), outcome(JSON.parse(docker), options));
    }
    // What the C reader leaves to the JS reader: escapes, a key twice, a fraction, `name`, text after the profile, a lone surrogate in a capability.
    const allow = (entry) => `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [${entry}]}`;
    const texts = [
      allow('{"names": ["re\\u0061d"], "action": "SCMP_ACT_ALLOW"}'),
      allow('{"names": ["read"], "action": "SCMP_ACT_ALLOW", "action": "SCMP_ACT_LOG"}'),
      allow('{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5.0}'),
      allow('{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5e0}'),
      allow('{"name": "read", "action": "SCMP_ACT_ALLOW"}'),
      allow('{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": "18446744073709551615", "valueTwo": null, "op": "SCMP_CMP_MASKED_EQ"}]}'),
      allow('{"names": ["read"], "action": "SCMP_ACT_ALLOW", "comment": "\\"\\u00e9\\n", "includes": {"minKernel": "4.8", "arches": null, "caps": null}}'),
      `{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": null, "architectures": null, "archMap": null, "syscalls": null, "x": [1, -0.5e+3, true, {"a": [[]]}]}`,
    ];
    for (const text of texts) {
      for (const options of [undefined, { caps: ['CAP_\ud800'] }, { caps: null }]) assert.deepEqual(outcome(text, options), outcome(JSON.parse(text), options), text);
    }
    for (const text of [allow('{"names": ["read"], "action": "SCMP_ACT_ALLOW"}') + ' x', '\ufeff{"defaultAction": "SCMP_ACT_ALLOW"}', allow('{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 01}'), '{"defaultAction": "SCMP_ACT_ALLOW", "x": "\\q"}']) {
      assert.throws(() => seccompProfile(text), { code: 'ERR_INVALID_ARG_VALUE', message: /is not JSON/ }, text);
    }
  });

  test('random profiles: the text and the object compile alike', async () => {
    const fc = (await import('fast-check')).default;
    const maybe = (arb) => fc.option(arb, { nil: undefined, freq: 3 });
    const caps = fc.constantFrom('CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_KILL', 'CAP_BPF');
    const selector = fc.oneof(fc.constant(null), fc.record({
      caps: maybe(fc.oneof(fc.constant(null), fc.array(caps, { maxLength: 3 }))),
      arches: maybe(fc.oneof(fc.constant(null), fc.array(fc.constantFrom('amd64', 'x32', 'arm64', 'x86', 's390x'), { maxLength: 3 }))),
      minKernel: maybe(fc.constantFrom('4.8', '6.18', '6.18.44', '6.18.45', '7', '5.10.0.1', '', '6.x', null)),
    }, { requiredKeys: [] }));
    const value = fc.oneof(fc.nat(), fc.constantFrom(2 ** 53, 1.5, -1, '18446744073709551615', '18446744073709551616', '007', 'x'), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String));
    const arg = fc.record({ index: fc.oneof(fc.nat(6), fc.constant('0')), value, valueTwo: maybe(value), op: fc.constantFrom('SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_IN') }, { requiredKeys: ['index', 'value', 'op'] });
    const action = fc.constantFrom('SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_NOPE');
    const errnoRet = maybe(fc.oneof(fc.nat(70000), fc.constant(null)));
    const entry = fc.record({
      names: maybe(fc.oneof(fc.constant(null), fc.array(fc.constantFrom('read', 'getppid', 'personality', 'clone', 'mount', 'sync_file_range2', 'arch_prctl', 'open', 'nosuch'), { maxLength: 4 }))),
      action, errnoRet,
      args: maybe(fc.oneof(fc.constant(null), fc.array(arg, { maxLength: 3 }))),
      includes: maybe(selector), excludes: maybe(selector), comment: maybe(fc.string()),
    }, { requiredKeys: ['action'] });
    const arches = fc.array(fc.constantFrom('SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_X86', 'SCMP_ARCH_ARM'), { maxLength: 3 });
    const profile = fc.record({
      defaultAction: action, defaultErrnoRet: errnoRet,
      architectures: maybe(arches),
      archMap: maybe(fc.array(fc.record({ architecture: fc.constantFrom('SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS64'), subArchitectures: maybe(fc.oneof(fc.constant(null), arches)) }), { maxLength: 3 })),
      syscalls: fc.array(entry, { maxLength: 6 }),
    }, { requiredKeys: ['defaultAction', 'syscalls'] });
    const options = fc.record({ caps: maybe(fc.array(caps, { maxLength: 3 })), arch: maybe(fc.constantFrom('x86_64', 'x32', 'aarch64')) }, { requiredKeys: [] });
    let read = 0;
    fc.assert(fc.property(profile, options, fc.constantFrom(undefined, 2), (p, o, indent) => {
      const text = JSON.stringify(p, null, indent);
      if (compileProfileText(text, o.caps ?? DOCKER_DEFAULT_CAPS, o.arch)) read++;
      assert.deepEqual(outcome(text, o), outcome(JSON.parse(text), o));
    }), { numRuns: 1500 });
    assert.ok(read > 300, `the C reader read ${read} of 1500`);
  });
});

describe('the syscall tables', () => {
  test('names and numbers per architecture, from the kernel headers (and libseccomp\'s resolver where installed)', () => {
    assert.equal(seccompSyscallNumber('getppid', 'x86_64'), 110);
    assert.equal(seccompSyscallNumber('getppid', 'aarch64'), 173);
    assert.equal(seccompSyscallNumber('getppid', 'x32'), X32 + 110);
    assert.equal(seccompSyscallNumber('open', 'aarch64'), undefined, 'arm64 has only openat');
    assert.equal(seccompSyscallNumber('fstat', 'aarch64'), 80, 'an __ARCH_WANT_NEW_STAT name');
    assert.equal(seccompSyscallNumber('mseal', 'x86_64'), 462, 'newer than the headers');
    assert.equal(seccompSyscallName(435, 'x86_64'), 'clone3');
    assert.equal(seccompSyscallName(1, 'aarch64'), 'io_destroy');
    assert.equal(seccompSyscallName(99999), undefined);
    assert.throws(() => seccompSyscallNumber(1), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompSyscallName(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompSyscallName(1, 'sparc'), { code: 'ERR_INVALID_ARG_VALUE' });
    const resolver = spawnSync('scmp_sys_resolver', ['-a', 'x86_64', 'read'], { encoding: 'utf8' });
    if (resolver.status !== 0) return;
    for (const arch of ['x86_64', 'aarch64']) {
      const names = ['read', 'openat', 'clone', 'clone3', 'io_uring_setup', 'personality', 'rt_sigreturn', 'fstat', 'futex_waitv'];
      const theirs = names.map((n) => Number(spawnSync('scmp_sys_resolver', ['-a', arch, n], { encoding: 'utf8' }).stdout));
      assert.deepEqual(names.map((n) => seccompSyscallNumber(n, arch)), theirs, arch);
    }
  });
});

describe('seccompInterpret and seccompDisassemble on raw programs', () => {
  test('runs any program the kernel accepts, and refuses the rest', () => {
    // ld arch; tax; ld nr; add x; st M[3]; ldx M[3]; txa; and #0xff; ret a
    const p = Buffer.alloc(9 * 8);
    [[0x20, 4], [0x07, 0], [0x20, 0], [0x0c, 0], [0x02, 3], [0x61, 3], [0x87, 0], [0x54, 0xff], [0x16, 0]].forEach(([code, k], i) => {
      p.writeUInt16LE(code, i * 8);
      p.writeUInt32LE(k, i * 8 + 4);
    });
    const v = seccompInterpret(p, { nr: 1, arch: 'x86_64' });
    assert.equal(v.value, (0xc000003e + 1) & 0xff);
    assert.equal(v.action, 'kill_thread');
    assert.match(seccompDisassemble(p), /^0000: ld \$data\[4\] ; arch\n0001: tax\n/);
    const outside = Buffer.from(p);
    outside.writeUInt32LE(64, 4);
    assert.throws(() => seccompInterpret(outside, { nr: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => seccompInterpret(p.subarray(0, 16), { nr: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /return/ });
    assert.throws(() => seccompInterpret(Buffer.alloc(7), { nr: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompInterpret(p, { nr: 'nope' }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('seccompLoad', () => {
  test('refuses a filter that could kill or trap one of Node\'s threads, and a per-thread load (in a child, in case it did not)', () => {
    const r = runChild(`
      import * as b from 'butter';
      const native = ${JSON.stringify(native)};
      const out = {};
      const grab = (name, f) => { try { f(); out[name] = 'loaded'; } catch (e) { out[name] = { code: e.code, message: e.message }; } };
      grab('kills', () => b.seccompLoad(b.seccompCompile([{ syscall: 'read', action: 'allow' }], { defaultAction: 'kill_process' })));
      grab('uring', () => b.seccompLoad(b.seccompCompile([{ syscall: 'io_uring_setup', action: 'kill_thread' }], { defaultAction: 'allow' })));
      grab('trapsOnArgs', () => b.seccompLoad(b.seccompCompile([{ syscall: 'mmap', action: 'trap', args: [{ index: 2, op: 'masked_eq', mask: 4, value: 4 }] }], { defaultAction: 'allow' })));
      grab('foreign', () => b.seccompLoad(b.seccompCompile([], { defaultAction: 'allow', arch: native === 'x86_64' ? 'aarch64' : 'x86_64' })));
      const fine = b.seccompCompile([], { defaultAction: 'allow' });
      grab('perThread', () => b.seccompLoad(fine, { tsync: false }));
      grab('raw', () => b.seccompLoad(fine.program));
      grab('logType', () => b.seccompLoad(fine, { log: 'yes' }));
      grab('unknown', () => b.seccompLoad(fine, { tsinc: true }));
      grab('forged', () => new b.SeccompFilter(Symbol('seccompCompile'), fine.program, [native], new Map(), 0));
      out.mode = b.prctlGetSeccomp();
      console.log(JSON.stringify(out));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.kills.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(out.kills.message, /kill or trap on write, readv, .*mmap/, 'a kill by default kills on every one of them');
    assert.match(out.uring.message, /kill or trap on io_uring_setup: deny these with \{ errno \}/);
    assert.match(out.trapsOnArgs.message, /on mmap:/, 'a trap on some arguments counts');
    assert.match(out.foreign.message, /architecture/);
    assert.equal(out.perThread.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(out.raw.code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(out.logType.code, 'ERR_INVALID_ARG_TYPE');
    assert.equal(out.unknown.code, 'ERR_INVALID_ARG_VALUE');
    assert.equal(out.forged.code, 'ERR_ILLEGAL_CONSTRUCTOR');
    assert.equal(out.mode, C.SECCOMP_MODE_DISABLED, 'nothing was loaded');
  });

  test('a thread with a filter of its own makes TSYNC load nothing, and the error names it (in a child)', () => {
    const r = runChild(`
      import * as b from 'butter';
      import { Worker } from 'node:worker_threads';
      const w = new Worker("const b = require(process.cwd()); const p = Buffer.alloc(8); p.writeUInt16LE(6, 0); p.writeUInt32LE(0x7fff0000, 4);" +
        "b.prctlSetNoNewPrivs(); b.seccompSetModeFilter(0, p); require('worker_threads').parentPort.postMessage(b.gettid()); setInterval(() => {}, 1000);",
        { eval: true, execArgv: [] });
      const tid = await new Promise((r) => w.once('message', r));
      let err;
      try { b.seccompLoad(b.seccompCompile([], { defaultAction: 'allow' })); } catch (e) { err = { code: e.code, tid: e.tid }; }
      console.log(JSON.stringify({ tid, err, mode: b.prctlGetSeccomp() }));
      process.exit(0);
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.err, { code: 'ERR_BUTTER_SECCOMP_TSYNC', tid: out.tid });
    assert.equal(out.mode, C.SECCOMP_MODE_DISABLED, 'nothing was loaded on the main thread');
  });

  test('Docker\'s profile in a running Node (in a child): every thread filtered, Node works, denied calls fail', () => {
    const r = runChild(`
      import * as b from 'butter';
      import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
      import { Worker } from 'node:worker_threads';
      const worker = new Worker('setInterval(() => {}, 1000)', { eval: true, execArgv: [] });
      await new Promise((r) => worker.once('online', r));
      const profile = JSON.parse(readFileSync('test/fixtures/docker-seccomp-default.json', 'utf8'));
      // libuv 1.49+ (Node 22+) keeps io_uring instances open, which Docker's profile would break: refused, then allowed here.
      const ring = readdirSync('/proc/self/fd').some((fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[io_uring]'; } catch { return false; } });
      let refused;
      if (ring) {
        try { b.seccompLoad(b.seccompProfile(profile)); } catch (e) { refused = e.code; }
        profile.syscalls.push({ names: ['io_uring_enter', 'io_uring_register'], action: 'SCMP_ACT_ALLOW' });
      }
      // With the LOG and SPEC_ALLOW flags, which the kernel refuses (EINVAL) where it lacks them.
      b.seccompLoad(b.seccompProfile(profile), { log: true, specAllow: true });
      const modes = readdirSync('/proc/self/task').map((t) => /Seccomp:\\s*(\\d)/.exec(readFileSync('/proc/self/task/' + t + '/status', 'utf8'))[1]);
      let mount;
      try { b.sethostname('x'); } catch (e) { mount = e.code; }
      const read = (await import('node:fs/promises')).readFile('package.json', 'utf8');
      const w2 = new Worker('require("worker_threads").parentPort.postMessage(6 * 7)', { eval: true, execArgv: [] });
      const answer = await new Promise((r) => w2.once('message', r));
      await worker.terminate();
      console.log(JSON.stringify({ ring, refused, modes, mount, read: (await read).length > 0, answer, nnp: b.prctlGetNoNewPrivs() }));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.refused, out.ring ? 'ERR_INVALID_ARG_VALUE' : undefined);
    assert.ok(out.modes.length >= 5 && out.modes.every((m) => m === '2'), `every thread in filter mode: ${out.modes}`);
    assert.equal(out.mount, 'EPERM', 'sethostname is not in the profile for default capabilities');
    assert.equal(out.read, true);
    assert.equal(out.answer, 42);
    assert.equal(out.nnp, true);
  });
  test('a process with an io_uring open (libuv\'s on Node 22+, or an IoUring): a filter that denies io_uring_enter is refused, nothing loaded', () => {
    const r = runChild(`
      import * as b from 'butter';
      import { readFileSync } from 'node:fs';
      const ring = new b.IoUring({ entries: 4 });
      let err;
      try { b.seccompLoad(b.seccompProfile(readFileSync('test/fixtures/docker-seccomp-default.json', 'utf8'))); } catch (e) { err = { code: e.code, message: e.message }; }
      ring.close();
      console.log(JSON.stringify({ err, mode: b.prctlGetSeccomp() }));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(out.err.message, /must allow io_uring_enter and io_uring_register: this process has an io_uring open/);
    assert.equal(out.mode, C.SECCOMP_MODE_DISABLED);
  });
  test('io_uring operations bypass seccomp: under a filter that denies openat, fs.openSync fails and a ring\'s openat succeeds (in a child)', () => {
    const r = runChild(`
      import * as b from 'butter';
      import { openSync, readSync, closeSync } from 'node:fs';
      const ring = new b.IoUring({ entries: 4 });
      b.seccompLoad(b.seccompCompile([{ syscall: 'openat', action: { errno: 'EPERM' } }], { defaultAction: 'allow' }));
      let sync;
      try { openSync('package.json', 'r'); } catch (e) { sync = e.code; }
      const fd = await ring.openat(null, 'package.json');
      const head = Buffer.alloc(1);
      readSync(fd, head, 0, 1, 0);
      closeSync(fd);
      ring.close();
      console.log(JSON.stringify({ sync, head: head.toString(), mode: b.prctlGetSeccomp() }));
    `);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.mode, C.SECCOMP_MODE_FILTER);
    assert.equal(out.sync, 'EPERM', 'the filter denies openat(2)');
    assert.equal(out.head, '{', 'the ring opened package.json all the same');
  });
});

describe('arbitrary values', () => {
  test('the compiler, the profile reader and the interpreter give only documented errors', async () => {
    const fc = (await import('fast-check')).default;
    const documented = (e) =>
      (e instanceof TypeError && ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE'].includes(e.code)) ||
      (e instanceof RangeError && e.code === 'ERR_OUT_OF_RANGE');
    const attempt = (f) => {
      try {
        f();
      } catch (e) {
        assert.ok(documented(e), `an undocumented error: ${e?.stack ?? e}`);
      }
    };
    const scalar = fc.oneof(fc.integer(), fc.bigInt(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.constantFrom('allow', 'eq', 'masked_eq', 'read', 'x86_64', 'x32', 'SCMP_ACT_ERRNO', 'SCMP_CMP_MASKED_EQ', 'SCMP_ARCH_X86_64', 'amd64', '4.8', 5, 0x7fff0000));
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ maxDepth: 4 }, scalar, tie('array'), tie('object')),
      array: fc.array(tie('any'), { maxLength: 4 }),
      object: fc.dictionary(
        fc.constantFrom('syscall', 'action', 'args', 'arch', 'index', 'op', 'value', 'mask', 'errno', 'trace', 'defaultAction', 'badArchAction',
          'names', 'name', 'errnoRet', 'includes', 'excludes', 'caps', 'arches', 'minKernel', 'valueTwo', 'syscalls', 'archMap',
          'architecture', 'subArchitectures', 'architectures', 'defaultErrnoRet', 'nr', 'instructionPointer'),
        tie('any'), { maxKeys: 6 }),
    })).any;
    const program = fc.uint8Array({ minLength: 0, maxLength: 96 });
    fc.assert(fc.property(value, value, program, (a, b, p) => {
      attempt(() => seccompCompile(a, b));
      attempt(() => seccompCompile([a], { defaultAction: 'allow' }));
      attempt(() => seccompProfile(a, b));
      attempt(() => seccompProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [a] }));
      attempt(() => seccompInterpret(p, a));
      attempt(() => seccompInterpret(p, { nr: 0 }));
      attempt(() => seccompDisassemble(p));
      attempt(() => seccompLoad(a, b));
    }), { numRuns: 2000 });
  });
});
