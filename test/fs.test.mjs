// butter/fs side by side with node:fs/promises: the same calls on the same
// files give the same results and the same errors; a FIFO and /proc files
// read fully; and with io_uring refused (a seccomp filter in a child) the
// calls are Node's own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodeFs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import * as bfs from 'butter/fs';
import { IoUring } from 'butter';
import { root, runChild } from './support/child.mjs';
import { NOBODY, nobodyUnavailable } from './support/nobody.mjs';
import { NOT_X86_64 } from './support/seccomp.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-fs-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'data');
const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 251));
fs.writeFileSync(file, content);

/** What a call gave: its value, or its error's observable shape. */
async function outcome(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    return { error: { name: err.name, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, cause: err.cause } };
  }
}

async function same(call, message) {
  const ours = await outcome(() => call(bfs));
  const node = await outcome(() => call(nodeFs));
  assert.deepEqual(ours, node, message);
  return ours;
}

test('io_uring is the backend here', () => {
  assert.deepEqual(bfs.backend(), { name: 'io_uring', reason: null });
});

test('readFile: bytes, encodings as a string or an option, a URL and a Buffer path', async () => {
  assert.deepEqual((await same((f) => f.readFile(file))).value, content);
  await same((f) => f.readFile(file, 'latin1'));
  await same((f) => f.readFile(file, { encoding: 'base64' }));
  await same((f) => f.readFile(new URL(`file://${file}`), { encoding: null, flag: 'r+' }));
  await same((f) => f.readFile(Buffer.from(file), 'hex'));
  const empty = path.join(dir, 'empty');
  fs.writeFileSync(empty, '');
  assert.deepEqual((await same((f) => f.readFile(empty, 'utf8'))).value, '');
});

test('readFile: ENOENT, EISDIR, a bad encoding, a bad flag, an aborted signal', async () => {
  assert.equal((await same((f) => f.readFile(path.join(dir, 'missing')))).error.code, 'ENOENT');
  assert.equal((await same((f) => f.readFile(dir))).error.code, 'EISDIR');
  assert.equal((await same((f) => f.readFile(file, 'nope'))).error.code, 'ERR_INVALID_ARG_VALUE');
  assert.equal((await same((f) => f.readFile(file, { flag: 'q' }))).error.code, 'ERR_INVALID_ARG_VALUE');
  const ac = new AbortController();
  ac.abort(new Error('stop'));
  assert.equal((await same((f) => f.readFile(file, { signal: ac.signal }))).error.name, 'AbortError');
});

test('readFile of a file past 2 GiB: ERR_FS_FILE_TOO_LARGE, as Node (a sparse file, nothing read)', async () => {
  const big = path.join(dir, 'big');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 2 ** 31);
  try {
    const { error } = await same((f) => f.readFile(big));
    assert.equal(error.code, 'ERR_FS_FILE_TOO_LARGE');
    assert.equal(error.name, 'RangeError');
  } finally {
    fs.rmSync(big);
  }
});

test('readFile reads a FIFO and /proc files (stat says size 0) to their end', async () => {
  const fifo = path.join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  // More than a pipe holds and than one chunk, written by another process.
  const writer = spawn('sh', ['-c', `head -c 300000 /dev/zero | tr '\\0' x > ${fifo}`]);
  const exited = new Promise((resolve) => writer.on('exit', resolve));
  const data = await bfs.readFile(fifo, 'utf8');
  assert.equal(data, 'x'.repeat(300_000));
  await exited;
  await same((f) => f.readFile('/proc/self/cmdline'));
  assert.ok((await bfs.readFile('/proc/self/maps', 'utf8')).includes('[stack]'));
});

test('readFile and writeFile of a FileHandle go from its position and leave it open', async () => {
  for (const f of [bfs, nodeFs]) {
    const h = await f.open(file);
    await h.read(Buffer.alloc(100), 0, 100, null);
    assert.deepEqual(await f.readFile(h), content.subarray(100));
    await h.close();
  }
  const target = path.join(dir, 'handle-write');
  const h = await bfs.open(target, 'w');
  await bfs.writeFile(h, 'ab');
  await bfs.writeFile(h, 'cd');
  await h.close();
  assert.equal(fs.readFileSync(target, 'utf8'), 'abcd');
});

test('writeFile: strings with encodings, views, iterables, flags and modes, as Node writes them', async () => {
  const cases = [
    ['héllo', undefined],
    ['68656c6c6f', 'hex'],
    ['aGk=', { encoding: 'base64' }],
    [new Uint16Array([1, 2, 3]), undefined],
    [new DataView(content.buffer, content.byteOffset + 5, 1000), undefined],
    [['a', Buffer.from('b'), 'c'], undefined],
    [(async function* () { yield 'x'; yield new Uint8Array([65]); })(), undefined],
  ];
  for (const [i, [data, options]] of cases.entries()) {
    const ours = path.join(dir, `w${i}-ours`);
    const node = path.join(dir, `w${i}-node`);
    await bfs.writeFile(ours, data, options);
    await nodeFs.writeFile(node, Array.isArray(data) || ArrayBuffer.isView(data) || typeof data === 'string' ? data : ['x', new Uint8Array([65])], options);
    assert.deepEqual(fs.readFileSync(ours), fs.readFileSync(node), `case ${i}`);
  }
  const appended = path.join(dir, 'appended');
  await bfs.writeFile(appended, '1');
  await bfs.writeFile(appended, '2', { flag: 'a' });
  assert.equal(fs.readFileSync(appended, 'utf8'), '12');
  const moded = path.join(dir, 'moded');
  await bfs.writeFile(moded, '', { mode: 0o640 });
  assert.equal(fs.statSync(moded).mode & 0o777, 0o640 & ~process.umask());
  assert.equal((await same((f) => f.writeFile(appended, 'x', { flag: 'wx' }))).error.code, 'EEXIST');
  assert.equal((await same((f) => f.writeFile(path.join(dir, 'no', 'such'), 'x'))).error.code, 'ENOENT');
  assert.equal((await same((f) => f.writeFile(path.join(dir, 'n'), 42))).error.code, 'ERR_INVALID_ARG_TYPE');
});

test('writeFile: every kind of data Node\'s takes (iterables, streams, chunks of every kind) and the errors of what it refuses, side by side', async () => {
  const kinds = [
    ['a Set', () => new Set(['m', 'n'])],
    ['a String object', () => new String('so')],
    ['a generator', () => (function* () { yield 'x'; yield Buffer.from('y'); })()],
    ['an async generator', () => (async function* () { yield 'p'; yield new Uint16Array([0x4142]); })()],
    ['a Readable of strings and Buffers', () => Readable.from(['r1', Buffer.from('r2')])],
    ['a file\'s read stream', () => fs.createReadStream(file, { highWaterMark: 16384 })],
    ['chunks in an encoding', () => ['6869', '21'], 'hex'],
    ['arrays of bytes and ArrayBuffers as chunks', () => [[65, 66], new Uint8Array([1, 2]).buffer]],
    ['an empty iterable', () => []],
    ['a number chunk', () => ['a', 5]],
    ['a null chunk', () => [null]],
    ['an object chunk', () => [{}]],
    ['a Symbol.iterator that is not a function', () => ({ [Symbol.iterator]: 1 })],
    ['an object with its own toString', () => ({ toString: () => 'ts' })],
    ['an ArrayBuffer', () => new Uint8Array([1]).buffer],
    ['an iterator that throws', () => (function* () { yield 'a'; throw new Error('boom'); })()],
    ['a bad flush option', () => 'x', { flush: 'yes' }],
  ];
  for (const [name, data, options] of kinds) {
    await same(async (f) => {
      const target = path.join(dir, f === bfs ? 'kind-ours' : 'kind-node');
      fs.rmSync(target, { force: true });
      await f.writeFile(target, data(), options);
      return fs.readFileSync(target).toString('hex');
    }, name);
  }
  // A signal aborted between two chunks: the first is written, then AbortError.
  await same(async (f) => {
    const target = path.join(dir, f === bfs ? 'abort-ours' : 'abort-node');
    const ac = new AbortController();
    const written = await outcome(() => f.writeFile(target, (function* () { yield 'a'; ac.abort(); yield 'b'; })(), { signal: ac.signal }));
    return [written.error?.name, fs.readFileSync(target, 'utf8')];
  }, 'aborted between chunks');
});

test('writeFile with flush: true fsyncs the file before closing it, as Node\'s', async () => {
  const addon = createRequire(import.meta.url)(fs.existsSync(path.join(root, 'build', 'Release', 'butter.node')) ? path.join(root, 'build', 'Release', 'butter.node') : path.join(root, 'build', 'Debug', 'butter.node'));
  const original = addon.io_uring.ioUringPrep;
  const ops = [];
  addon.io_uring.ioUringPrep = (handle, image, ...rest) => (ops.push(image[0]), original(handle, image, ...rest));
  try {
    await bfs.writeFile(path.join(dir, 'flushed'), 'x', { flush: true });
    assert.ok(ops.includes(addon.io_uring.constants.IORING_OP_FSYNC), `opcodes: ${ops}`);
    ops.length = 0;
    await bfs.writeFile(path.join(dir, 'flushed'), 'x', { flush: false });
    assert.ok(!ops.includes(addon.io_uring.constants.IORING_OP_FSYNC));
  } finally {
    addon.io_uring.ioUringPrep = original;
  }
  assert.equal(fs.readFileSync(path.join(dir, 'flushed'), 'utf8'), 'x');
});

test('stat: Stats and BigIntStats from statx, equal to Node\'s', async () => {
  for (const p of [file, dir, '/dev/null', '/']) {
    const { value } = await same((f) => f.stat(p));
    assert.ok(value instanceof fs.Stats);
    assert.equal(value.isFile(), p === file);
    await same((f) => f.stat(p, { bigint: true }));
  }
  assert.equal((await same((f) => f.stat(path.join(dir, 'missing')))).error.code, 'ENOENT');
  assert.equal((await same((f) => f.stat(path.join(file, 'below')))).error.code, 'ENOTDIR');
});

test('FileHandle.read: every overload, with Node\'s defaults and results', async () => {
  const calls = [
    (h) => h.read(),
    (h) => h.read(Buffer.alloc(10), 0, 10, 5),
    (h) => h.read(Buffer.alloc(10), 2, 5, 0),
    (h) => h.read(Buffer.alloc(10), { offset: 1, position: 69_995 }),
    (h) => h.read({ buffer: new Uint8Array(4), position: 3 }),
    (h) => h.read(Buffer.alloc(10), 0, 0, 0),
    (h) => h.read(Buffer.alloc(4), 0, 4, null),
    (h) => h.read(Buffer.alloc(4), 0, 4),
    (h) => h.read(Buffer.alloc(4), 3, 4, 0),
    (h) => h.read(Buffer.alloc(4), -1, 4, 0),
    (h) => h.read(Buffer.alloc(4), 0, 4, 80_000),
    (h) => h.read(new Float64Array(2), 3, 8, 16),
    (h) => h.read(new DataView(new ArrayBuffer(8), 2), { length: 4, position: 7 }),
    (h) => h.read(Buffer.alloc(4), '1', 2, 0),
    (h) => h.read('not a buffer', 0, 4, 0),
  ];
  const handles = [await bfs.open(file), await nodeFs.open(file)];
  try {
    for (const [i, call] of calls.entries()) {
      const [ours, node] = [await outcome(() => call(handles[0])), await outcome(() => call(handles[1]))];
      assert.deepEqual({ ...ours, value: ours.value && { ...ours.value } }, { ...node, value: node.value && { ...node.value } }, `call ${i}`);
    }
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
});

test('FileHandle.read of a directory: the kernel\'s EISDIR, as Node reports it', async () => {
  const handles = [await bfs.open(dir), await nodeFs.open(dir)];
  try {
    const [ours, node] = [await outcome(() => handles[0].read(Buffer.alloc(4), 0, 4, 0)), await outcome(() => handles[1].read(Buffer.alloc(4), 0, 4, 0))];
    assert.equal(ours.error?.code, 'EISDIR');
    assert.deepEqual(ours, node);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
});

test('FileHandle.read at a bigint position', async () => {
  const h = await bfs.open(file);
  await h.read();
  const { bytesRead, buffer } = await h.read(Buffer.alloc(4), 0, 4, 1n);
  // Past 2 ** 53 as Node 22 and 24 read it (Node 20 reads at the current position for any bigint): nothing there.
  const far = await h.read(Buffer.alloc(4), 0, 4, 2n ** 60n);
  const farOption = await h.read(Buffer.alloc(4), { position: 2n ** 63n - 5n }); // the last 4 bytes a file may have
  for (const position of [2n ** 63n - 4n, -2n]) {
    await assert.rejects(h.read(Buffer.alloc(4), 0, 4, position), {
      code: 'ERR_OUT_OF_RANGE',
      name: 'RangeError',
      message: /It must be >= -1 && <= 9223372036854775803\. Received/,
    });
  }
  await h.close();
  assert.equal(bytesRead, 4);
  assert.deepEqual(buffer, content.subarray(1, 5));
  assert.equal(far.bytesRead, 0);
  assert.equal(farOption.bytesRead, 0);
});

test('IoUring reads and writes at a bigint position past 2 ** 53', async () => {
  // tmpfs takes files up to 2 ** 63 - 1 bytes (ext4 stops at 16 TiB: EFBIG).
  const shm = fs.mkdtempSync('/dev/shm/butter-fs-');
  const fd = fs.openSync(path.join(shm, 'sparse-far'), 'w+');
  const ring = new IoUring();
  try {
    const at = 2n ** 53n + 3n; // not a Number: a position rounded to one would land elsewhere
    assert.equal(await ring.write(fd, Buffer.from('far'), at), 3);
    assert.equal(fs.fstatSync(fd, { bigint: true }).size, at + 3n);
    const back = Buffer.alloc(3);
    assert.equal(await ring.read(fd, back, at), 3);
    assert.equal(back.toString(), 'far');
    assert.throws(() => ring.read(fd, back, -2n), { code: 'ERR_OUT_OF_RANGE' });
  } finally {
    ring.close();
    fs.closeSync(fd);
    fs.rmSync(shm, { recursive: true });
  }
});

test('FileHandle write, writev, readv, stat, sync, datasync', async () => {
  const results = [];
  for (const f of [bfs, nodeFs]) {
    const p = path.join(dir, `rw-${results.length}`);
    const h = await f.open(p, 'w+', 0o600);
    const r = [];
    r.push({ ...(await h.write('héllo', 0, 'latin1')) });
    r.push({ ...(await h.write(Buffer.from('abcdef'), 1, 3, 10)) });
    r.push({ ...(await h.write(Buffer.from('xy'), { position: 20 })) });
    r.push({ ...(await h.writev([Buffer.from('12'), Buffer.from('345')], 30)) });
    r.push({ ...(await h.writev([])) });
    r.push({ ...(await h.readv([Buffer.alloc(3), Buffer.alloc(40)], 0)) });
    await h.sync();
    await h.datasync();
    const s = await h.stat();
    r.push([s.size, s.mode & 0o777, s.isFile()]);
    r.push((await h.stat({ bigint: true })).size);
    await h.close();
    results.push(r);
  }
  assert.deepEqual(results[0], results[1]);
});

test('FileHandle after close: EBADF "file closed" from every call; close again resolves; asyncDispose closes', async () => {
  const shapes = [];
  for (const f of [bfs, nodeFs]) {
    const h = await f.open(file);
    const fd = h.fd;
    assert.ok(fd >= 0);
    await h.close();
    assert.equal(h.fd, -1);
    assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
    await h.close();
    shapes.push(await Promise.all([h.read(), h.write('x'), h.readv([Buffer.alloc(1)]), h.writev([Buffer.alloc(1)]), h.stat(), h.sync(), h.datasync()].map((p) => outcome(() => p))));
  }
  assert.deepEqual(shapes[0], shapes[1]);
  const h = await bfs.open(file);
  const fd = h.fd;
  await h[Symbol.asyncDispose]();
  assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
});

test('close() waits for the requests in flight', async () => {
  const h = await bfs.open(file);
  const reading = h.read(Buffer.alloc(10), 0, 10, 0);
  const closing = h.close();
  assert.equal((await reading).bytesRead, 10);
  await closing;
  assert.equal(h.fd, -1);
});

test('open: flags strings and numbers, EEXIST with wx, bad flags and modes as Node refuses them', async () => {
  const p = path.join(dir, 'opened');
  for (const flags of ['wx+', 'w', 'a+', fs.constants.O_RDWR]) {
    const h = await bfs.open(p, flags);
    await h.close();
    if (flags === 'wx+') assert.equal((await same((f) => f.open(p, 'wx'))).error.code, 'EEXIST');
  }
  assert.equal((await same((f) => f.open(p, 'nope'))).error.code, 'ERR_INVALID_ARG_VALUE');
  assert.equal((await same((f) => f.open(p, 'r', 'z'))).error.code, 'ERR_INVALID_ARG_VALUE');
  assert.equal((await same((f) => f.open(42))).error.code, 'ERR_INVALID_ARG_TYPE');
  assert.equal((await same((f) => f.open(path.join(dir, 'missing')))).error.code, 'ENOENT');
  assert.equal((await same((f) => f.open(dir, 'w'))).error.code, 'EISDIR');
});

test('EACCES as nobody, the same from both', { skip: nobodyUnavailable }, () => {
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'x', { mode: 0o600 });
  fs.chmodSync(dir, 0o755);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import * as bfs from 'butter/fs';
import { IoUring } from 'butter';
    import nodeFs from 'node:fs/promises';
    const shape = (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
    const out = [];
    for (const f of [bfs, nodeFs]) {
      out.push(await f.readFile(${JSON.stringify(secret)}).then(() => 'read', shape));
      out.push(await f.open(${JSON.stringify(secret)}, 'r+').then(() => 'opened', shape));
    }
    console.log(JSON.stringify(out));
  `], { cwd: path.join(import.meta.dirname, '..'), uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const [a, b, c, d] = JSON.parse(r.stdout);
  assert.equal(a.code, 'EACCES');
  assert.deepEqual([a, b], [c, d]);
});

test('io_uring_setup refused (ENOSYS from a seccomp filter): Node\'s fs/promises, and backend() says why', { skip: NOT_X86_64 }, () => {
  const r = runChild(`
    import { seccompCompile, seccompLoad } from 'butter';
    seccompLoad(seccompCompile([{ syscall: 'io_uring_setup', action: { errno: 'ENOSYS' } }], { defaultAction: 'allow' }));
    const bfs = await import('butter/fs');
    const nodeFs = await import('node:fs/promises');
    const h = await bfs.open(${JSON.stringify(file)});
    const data = await bfs.readFile(${JSON.stringify(file)});
    console.log(JSON.stringify({ backend: bfs.backend(), nodeHandle: h instanceof (await nodeFs.open('/dev/null')).constructor, length: data.length }));
    await h.close();
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { backend: { name: 'node:fs/promises', reason: 'io_uring_setup failed: ENOSYS' }, nodeHandle: true, length: content.length });
});

test('the ring keeps no idle process alive', () => {
  const r = runChild(`
    import { readFile } from 'butter/fs';
    await readFile(${JSON.stringify(file)});
    console.log('read');
  `, { timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'read\n');
});

test('doctor says which backend butter/fs chose, and why', { skip: NOT_X86_64 }, () => {
  const r = runChild(`
    import { spawnSync } from 'node:child_process';
    import { seccompCompile, seccompLoad } from 'butter';
    const doctor = () => JSON.parse(spawnSync(process.execPath, ['bin/butter.js', 'doctor', '--json'], { encoding: 'utf8' }).stdout)
      .families.find((f) => f.family === 'io-uring').calls.find((c) => c.calls[0] === 'butter/fs');
    const before = doctor();
    // The filter goes to the doctor's process too.
    seccompLoad(seccompCompile([{ syscall: 'io_uring_setup', action: { errno: 'ENOSYS' } }], { defaultAction: 'allow' }));
    console.log(JSON.stringify([before, doctor()]));
  `, { timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const [before, after] = JSON.parse(r.stdout);
  assert.equal(before.status, 'ok');
  assert.deepEqual(after, { calls: ['butter/fs'], status: 'limited', detail: "Node's own fs/promises: io_uring_setup failed: ENOSYS" });
});
