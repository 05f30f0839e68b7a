// host family: uname(), gethostname(), sethostname(), getdomainname(), setdomainname().
//
// This machine's names are never changed. Every call that could set a name runs in
// a child process inside a fresh UTS namespace (`unshare --uts`, or `unshare --user
// --map-root-user --uts` for a normal user), and the EPERM paths run as `nobody`
// without capabilities, again inside a fresh UTS namespace, so nothing could change
// even if the call worked. The parent's names are checked unchanged at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { uname, gethostname, getdomainname, sethostname, setdomainname } from 'butter';
import { nobodyUnavailable } from './support/nobody.mjs';

const BUTTER_ESM = import.meta.resolve('butter');
const procName = (f) => readFileSync(`/proc/sys/kernel/${f}`, 'utf8').replace(/\n$/, '');
const ORIGINAL = { hostname: os.hostname(), nodename: procName('hostname'), domainname: procName('domainname') };

const isRoot = process.getuid?.() === 0;
const ok = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
};

// How to get a child into a fresh UTS namespace where it may set names.
const UTS_PREFIX = ok('unshare', ['--uts', 'true'])
  ? ['unshare', '--uts', '--']
  : ok('unshare', ['--user', '--map-root-user', '--uts', 'true'])
    ? ['unshare', '--user', '--map-root-user', '--uts', '--']
    : null;
const NO_UTS = 'needs a new UTS namespace (root, or unprivileged user namespaces) and unshare(1)';

// How to run a child as nobody without capabilities, in a fresh UTS namespace.
const NOBODY_PREFIX =
  !nobodyUnavailable && ok('unshare', ['--uts', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'true'])
    ? ['unshare', '--uts', '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']
    : null;
const NO_NOBODY = 'needs root, unshare(1) and setpriv(1) to drop to nobody in a new UTS namespace';

// An unmapped user in a new user namespace: no capabilities at all after execve.
const USERNS_NOCAPS_PREFIX = ok('unshare', ['--user', '--uts', 'true']) ? ['unshare', '--user', '--uts', '--'] : null;
const NO_USERNS = 'needs unprivileged user namespaces and unshare(1)';

// Shared by every child: assertions and the error-shape checks.
const PRELUDE = `
import assert from 'node:assert/strict';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { uname, gethostname, getdomainname, sethostname, setdomainname } from ${JSON.stringify(BUTTER_ESM)};
const procName = (f) => readFileSync('/proc/sys/kernel/' + f, 'utf8').replace(/\\n$/, '');
function expectSysError(fn, code, errno, description, syscall) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.ok(!(err instanceof TypeError) && !(err instanceof RangeError), 'not an argument error');
    assert.equal(err.code, code);
    assert.equal(err.errno, errno);
    assert.equal(err.syscall, syscall);
    assert.equal(err.message, code + ': ' + description + ', ' + syscall);
    assert.equal('path' in err, false, 'no path is involved');
    assert.match(err.stack, new RegExp('^Error: ' + code));
    return true;
  });
}
function expectArgError(fn, Ctor, code, pattern) {
  assert.throws(fn, (err) => {
    assert.equal(err.constructor, Ctor);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}
`;

/** Runs `body` (ESM, with PRELUDE) as `prefix... node -e`; asserts it exited 0 and printed 'done'. */
function runChild(prefix, body) {
  const script = `${PRELUDE}\n${body}\nconsole.log('done');`;
  const [cmd, ...args] = [...prefix, process.execPath, '--input-type=module', '-e', script];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.error, undefined);
  assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, `child failed:\n${r.stderr}`);
  assert.equal(r.stdout.trim().split('\n').at(-1), 'done', r.stdout);
  return r;
}

function assertParentNamesUnchanged() {
  assert.equal(os.hostname(), ORIGINAL.hostname);
  assert.equal(gethostname(), ORIGINAL.hostname);
  assert.equal(procName('hostname'), ORIGINAL.nodename);
  assert.equal(procName('domainname'), ORIGINAL.domainname);
  assert.equal(getdomainname(), ORIGINAL.domainname);
}

after(assertParentNamesUnchanged);

// ---- reading names (this process; nothing is changed) ----

test('uname() returns every struct utsname field, matching node:os and /proc', () => {
  const u = uname();
  assert.deepEqual(Object.keys(u).sort(), ['domainname', 'machine', 'nodename', 'release', 'sysname', 'version']);
  for (const [k, v] of Object.entries(u)) assert.equal(typeof v, 'string', k);
  assert.equal(u.sysname, 'Linux');
  assert.equal(u.sysname, os.type());
  assert.equal(u.release, os.release());
  assert.equal(u.release, procName('osrelease'));
  assert.equal(u.version, os.version());
  assert.equal(u.version, procName('version'));
  assert.equal(u.machine, os.machine());
  assert.equal(u.nodename, os.hostname());
  assert.equal(u.nodename, procName('hostname'));
  assert.equal(u.domainname, procName('domainname'));
  assert.equal(u.domainname, getdomainname());
  // A fresh object each call, not shared state.
  assert.notEqual(uname(), u);
  assert.deepEqual(uname(), u);
});

test('gethostname() is os.hostname(), as a string by default', () => {
  assert.equal(gethostname(), os.hostname());
  assert.equal(gethostname(undefined), os.hostname());
  assert.equal(gethostname(null), os.hostname());
  assert.equal(gethostname({}), os.hostname());
  assert.equal(gethostname({ encoding: undefined }), os.hostname());
  assert.equal(gethostname({ encoding: 'utf8' }), os.hostname());
});

test('gethostname()/getdomainname() encodings: buffer, hex and every Buffer encoding', () => {
  const host = Buffer.from(os.hostname(), 'utf8');
  const domain = Buffer.from(procName('domainname'), 'utf8');
  const hb = gethostname({ encoding: 'buffer' });
  assert.ok(Buffer.isBuffer(hb));
  assert.deepEqual(hb, host);
  assert.equal(hb.includes(0), false, 'no NUL terminator in the bytes');
  // A fresh Buffer each call: mutating one does not affect the next.
  hb.fill(0x21);
  assert.deepEqual(gethostname({ encoding: 'buffer' }), host);
  assert.equal(gethostname({ encoding: 'hex' }), host.toString('hex'));
  assert.match(gethostname({ encoding: 'hex' }), /^([0-9a-f]{2})*$/);
  assert.equal(gethostname({ encoding: 'HEX' }), host.toString('hex'), 'encodings are case-insensitive, as in Buffer');
  assert.deepEqual(getdomainname({ encoding: 'buffer' }), domain);
  for (const enc of ['utf8', 'utf-8', 'latin1', 'binary', 'ascii', 'hex', 'base64', 'base64url', 'ucs2', 'utf16le']) {
    assert.equal(gethostname({ encoding: enc }), host.toString(enc), enc);
    assert.equal(getdomainname({ encoding: enc }), domain.toString(enc), enc);
  }
});

test('gethostname()/getdomainname(): invalid encodings and options are argument errors', () => {
  for (const fn of [gethostname, getdomainname]) {
    for (const encoding of ['nope', 'utf9', '', 42, true, {}, [], null, Symbol('utf8'), 1n]) {
      assert.throws(
        () => fn({ encoding }),
        (err) => {
          assert.equal(err.constructor, TypeError);
          assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
          assert.match(err.message, /^The property 'options\.encoding' is invalid encoding\. Received /);
          return true;
        },
        `${fn.name}({ encoding: ${String(encoding)} })`,
      );
    }
    for (const options of [42, true, 1n, Symbol('x'), [], () => {}]) {
      assert.throws(
        () => fn(options),
        (err) => {
          assert.equal(err.constructor, TypeError);
          assert.equal(err.code, 'ERR_INVALID_ARG_TYPE');
          assert.match(err.message, /^The "options" argument must be of type object\. Received /);
          return true;
        },
      );
    }
  }
});

test('getdomainname() is the NIS domain name of this UTS namespace', () => {
  assert.equal(getdomainname(), procName('domainname'));
  assert.equal(getdomainname(), uname().domainname);
});

// ---- setting names: only in a child inside a fresh UTS namespace ----

test('sethostname() in a new UTS namespace: strings, UTF-8, bytes, 64-byte limit, EINVAL', { skip: !UTS_PREFIX && NO_UTS }, () => {
  runChild(
    UTS_PREFIX,
    `
    // The child starts with the parent's name (a copy of the UTS namespace).
    assert.equal(gethostname(), ${JSON.stringify(ORIGINAL.hostname)});
    const set = (name, expected, expectedBytes) => {
      assert.equal(sethostname(name), undefined);
      assert.equal(gethostname(), expected);
      assert.equal(os.hostname(), expected);
      assert.equal(uname().nodename, expected);
      assert.equal(procName('hostname'), expected);
      assert.deepEqual(gethostname({ encoding: 'buffer' }), expectedBytes ?? Buffer.from(expected));
    };
    set('butter-uts-test', 'butter-uts-test');
    // UTF-8 in, UTF-8 out.
    const utf = 'hôte-ß-日本-🧈';
    set(utf, utf);
    assert.equal(gethostname({ encoding: 'hex' }), Buffer.from(utf).toString('hex'));
    // A Buffer of bytes that are not UTF-8 is stored exactly.
    const raw = Buffer.from([0xff, 0xfe, 0x41, 0x80, 0x7f]);
    assert.equal(sethostname(raw), undefined);
    assert.deepEqual(gethostname({ encoding: 'buffer' }), raw);
    assert.equal(gethostname({ encoding: 'hex' }), 'fffe41807f');
    assert.equal(gethostname({ encoding: 'latin1' }), raw.toString('latin1'));
    assert.equal(gethostname(), raw.toString('utf8'));
    // A plain Uint8Array, and a view into a larger buffer: only the view's bytes count.
    set(new Uint8Array([0x75, 0x38]), 'u8');
    const backing = new Uint8Array([0, 0x61, 0x62, 0x63, 0]);
    set(backing.subarray(1, 4), 'abc');
    set(Buffer.from('xxbufyy').subarray(2, 5), 'buf');
    // Exactly 64 bytes (the kernel's limit) is accepted, counted in bytes, not characters.
    set('h'.repeat(64), 'h'.repeat(64));
    set('é'.repeat(32), 'é'.repeat(32));
    set(Buffer.alloc(64, 0x62), 'b'.repeat(64));
    // 65 bytes: EINVAL from the kernel, and the name stays as it was.
    for (const tooLong of ['a'.repeat(65), 'é'.repeat(32) + 'a', Buffer.alloc(65, 0x61), 'x'.repeat(4096)]) {
      expectSysError(() => sethostname(tooLong), 'EINVAL', -22, 'invalid argument', 'sethostname');
      assert.equal(gethostname(), 'b'.repeat(64));
    }
    // The empty name is allowed by the kernel.
    set('', '');
    // The domain name is a separate field.
    assert.equal(getdomainname(), ${JSON.stringify(ORIGINAL.domainname)});
    `,
  );
  assertParentNamesUnchanged();
});

test('setdomainname() in a new UTS namespace: strings, UTF-8, bytes, 64-byte limit, EINVAL', { skip: !UTS_PREFIX && NO_UTS }, () => {
  runChild(
    UTS_PREFIX,
    `
    assert.equal(getdomainname(), ${JSON.stringify(ORIGINAL.domainname)});
    const set = (name, expected, expectedBytes) => {
      assert.equal(setdomainname(name), undefined);
      assert.equal(getdomainname(), expected);
      assert.equal(uname().domainname, expected);
      assert.equal(procName('domainname'), expected);
      assert.deepEqual(getdomainname({ encoding: 'buffer' }), expectedBytes ?? Buffer.from(expected));
    };
    set('example.org', 'example.org');
    set('dömäin-日本', 'dömäin-日本');
    const raw = Buffer.from([0xc3, 0x28, 0x61]);
    assert.equal(setdomainname(raw), undefined);
    assert.deepEqual(getdomainname({ encoding: 'buffer' }), raw);
    assert.equal(getdomainname({ encoding: 'hex' }), 'c32861');
    set(new Uint8Array([0, 0x6e, 0x69, 0x73, 0]).subarray(1, 4), 'nis');
    set('d'.repeat(64), 'd'.repeat(64));
    for (const tooLong of ['d'.repeat(65), 'ü'.repeat(33), Buffer.alloc(65, 0x64)]) {
      expectSysError(() => setdomainname(tooLong), 'EINVAL', -22, 'invalid argument', 'setdomainname');
      assert.equal(getdomainname(), 'd'.repeat(64));
    }
    set('', '');
    // The host name is untouched by setdomainname.
    assert.equal(gethostname(), ${JSON.stringify(ORIGINAL.hostname)});
    `,
  );
  assertParentNamesUnchanged();
});

test('sethostname()/setdomainname() argument errors are thrown before any syscall', { skip: !UTS_PREFIX && NO_UTS }, () => {
  // In a child with the power to set names (in its own UTS namespace), so a value
  // that wrongly reached the kernel would show up as a changed name, not an error.
  runChild(
    UTS_PREFIX,
    `
    const host = gethostname();
    const domain = getdomainname();
    for (const [fn, get] of [[sethostname, gethostname], [setdomainname, getdomainname]]) {
      // NUL bytes: the kernel would store them and stop reading at the first.
      for (const name of ['a\\0b', '\\0', 'abc\\0', Buffer.from([0x61, 0, 0x62]), new Uint8Array([0]), new Uint8Array([1, 0, 2]).subarray(1)]) {
        expectArgError(() => fn(name), TypeError, 'ERR_INVALID_ARG_VALUE', /^The argument 'name' must not contain null bytes\\. Received /);
        assert.equal(get(), fn === sethostname ? host : domain);
      }
      // Wrong types.
      for (const name of [undefined, null, 42, 0, NaN, 1n, true, Symbol('h'), {}, [], ['host'], () => 'host',
                          new ArrayBuffer(4), new Uint16Array(2), new Int8Array(2), new Uint8ClampedArray(2), new DataView(new ArrayBuffer(2)),
                          new String('host'), { toString: () => 'host' }]) {
        expectArgError(() => fn(name), TypeError, 'ERR_INVALID_ARG_TYPE',
          /^The "name" argument must be of type string or an instance of Buffer or Uint8Array\\. Received /);
        assert.equal(get(), fn === sethostname ? host : domain);
      }
      expectArgError(() => fn(), TypeError, 'ERR_INVALID_ARG_TYPE', /Received undefined$/);
    }
    `,
  );
  assertParentNamesUnchanged();
});

const EPERM_BODY = `
  assert.equal(process.getuid(), 65534, 'running as nobody');
  assert.match(readFileSync('/proc/self/status', 'utf8'), /^CapEff:\\s+0+$/m, 'with no capabilities');
  const host = gethostname();
  const domain = getdomainname();
  for (const name of ['butter-eperm', Buffer.from('butter-eperm'), new Uint8Array([0x65]), '', 'a'.repeat(65)]) {
    // The capability check comes first in the kernel: EPERM even for a too-long name.
    expectSysError(() => sethostname(name), 'EPERM', -1, 'operation not permitted', 'sethostname');
    expectSysError(() => setdomainname(name), 'EPERM', -1, 'operation not permitted', 'setdomainname');
  }
  assert.equal(gethostname(), host);
  assert.equal(os.hostname(), host);
  assert.equal(getdomainname(), domain);
  // Argument errors still come first: validation happens before the syscall.
  expectArgError(() => sethostname('a\\0b'), TypeError, 'ERR_INVALID_ARG_VALUE');
  expectArgError(() => setdomainname(7), TypeError, 'ERR_INVALID_ARG_TYPE');
  // Reading needs no privilege.
  assert.equal(uname().nodename, host);
`;

test('sethostname()/setdomainname() as nobody: EPERM with the full error shape', { skip: !NOBODY_PREFIX && NO_NOBODY }, () => {
  const r = runChild(NOBODY_PREFIX, EPERM_BODY);
  assert.equal(r.stderr, '');
  assertParentNamesUnchanged();
});

test('sethostname()/setdomainname() without capabilities in a new user namespace: EPERM', { skip: !USERNS_NOCAPS_PREFIX && NO_USERNS }, () => {
  // The UTS namespace belongs to a user namespace where this unmapped user has no
  // capabilities after execve: the same EPERM path, reachable without root.
  runChild(USERNS_NOCAPS_PREFIX, EPERM_BODY);
  assertParentNamesUnchanged();
});

test('sethostname()/setdomainname() in this process: only argument errors, and only when harmless', (t) => {
  // Values that must be rejected before the syscall, so nothing could change; and
  // as a second guard this only runs when this process could not set names anyway.
  const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]}`);
  const CAP_SYS_ADMIN = 21n;
  if (capEff & (1n << CAP_SYS_ADMIN)) {
    t.skip('this process has CAP_SYS_ADMIN; argument errors are checked in a UTS namespace child instead');
    return;
  }
  for (const fn of [sethostname, setdomainname]) {
    assert.throws(() => fn('x\0'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => fn(1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => fn('unprivileged'), { code: 'EPERM', errno: -1, syscall: fn.name });
  }
  assertParentNamesUnchanged();
});

test("this machine's host name and domain name are unchanged", () => {
  assertParentNamesUnchanged();
  assert.equal(uname().nodename, ORIGINAL.hostname);
});
