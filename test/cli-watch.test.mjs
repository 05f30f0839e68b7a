// `butter watch`: inotifywait's options, output and exit codes, run as a user
// would (node bin/butter.js watch …) on temporary directories. Changes are made
// only once the child says "Watches established." on stderr, so a loaded
// machine makes the tests slower, not flaky.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'butter.js');
const LIMIT = 20_000;

function tempDir(t) {
  const dir = mkdtempSync(join(os.tmpdir(), 'butter-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `butter watch …args` (Node given `nodeArgs`); `until(pred)` waits for its output, `exited` for its end. */
function start(t, args, nodeArgs = []) {
  const env = { ...process.env, TZ: 'UTC' };
  delete env.BUTTER_READINESS;
  const child = spawn(process.execPath, [...nodeArgs, bin, 'watch', ...args], { env });
  let stdout = '';
  const stdoutBytes = [];
  const decoder = new StringDecoder('utf8');
  let stderr = '';
  let closed = false;
  const waiters = new Set();
  const check = () => {
    for (const w of waiters) {
      if (w.pred()) w.done();
      else if (closed) w.fail(new Error('the child exited first'));
    }
  };
  child.stdout.on('data', (d) => { stdoutBytes.push(d); stdout += decoder.write(d); check(); });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; check(); });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => { closed = true; check(); resolve({ code, signal }); }));
  t.after(() => { if (!closed) child.kill('SIGKILL'); });
  const until = (pred, what) => new Promise((resolve, reject) => {
    const w = {
      pred,
      done: () => { waiters.delete(w); clearTimeout(w.timer); resolve(); },
      fail: (err) => {
        waiters.delete(w);
        clearTimeout(w.timer);
        reject(new Error(`${err.message} while waiting for ${what}; stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`));
      },
    };
    w.timer = setTimeout(() => w.fail(new Error('timed out')), LIMIT);
    waiters.add(w);
    check();
  });
  return {
    child,
    exited,
    until,
    get stdout() { return stdout; },
    get bytes() { return Buffer.concat(stdoutBytes); },
    get stderr() { return stderr; },
    lines: () => stdout.split('\n').filter((l) => l !== ''),
    ready: () => until(() => stderr.includes('Watches established.\n'), 'readiness'),
  };
}

const SETUP = 'Setting up watches.\nWatches established.\n';

test('without -m: the first event as `%w %e %f`, then exit 0', async (t) => {
  const dir = tempDir(t);
  const w = start(t, [dir]);
  await w.ready();
  writeFileSync(join(dir, 'x'), '');
  const { code } = await w.exited;
  assert.equal(code, 0);
  assert.equal(w.stdout, `${dir}/ CREATE x\n`);
  assert.equal(w.stderr, SETUP);
});

test('-m with -e: several events, ISDIR, and a rename as its two halves', async (t) => {
  const dir = tempDir(t);
  const w = start(t, ['-m', '-e', 'create,delete', '--event', 'move', dir]);
  await w.ready();
  writeFileSync(join(dir, 'a'), 'x');
  mkdirSync(join(dir, 'd'));
  renameSync(join(dir, 'a'), join(dir, 'b'));
  unlinkSync(join(dir, 'b'));
  await w.until(() => w.lines().length >= 5, 'five events');
  w.child.kill('SIGTERM');
  await w.exited;
  assert.deepEqual(w.lines(), [
    `${dir}/ CREATE a`,
    `${dir}/ CREATE,ISDIR d`,
    `${dir}/ MOVED_FROM a`,
    `${dir}/ MOVED_TO b`,
    `${dir}/ DELETE b`,
  ]);
});

test('-e filters: events not asked for are not printed; CLOSE comes with CLOSE_WRITE', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), '');
  const w = start(t, ['-m', '-e', 'attrib', '-e', 'close_write', dir]);
  await w.ready();
  writeFileSync(join(dir, 'f'), 'more');   // open, modify, close_write
  chmodSync(join(dir, 'f'), 0o600);
  await w.until(() => w.lines().length >= 2, 'two events');
  w.child.kill('SIGTERM');
  await w.exited;
  assert.deepEqual(w.lines(), [`${dir}/ CLOSE_WRITE,CLOSE f`, `${dir}/ ATTRIB f`]);
});

test('a watched file: %w is its path without a slash, %f empty', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'f');
  writeFileSync(file, '');
  const w = start(t, ['-e', 'modify', file]);
  await w.ready();
  writeFileSync(file, 'x');
  assert.equal((await w.exited).code, 0);
  assert.equal(w.stdout, `${file} MODIFY \n`);
});

test('--format and --timefmt: %w %f %e %Xe %T %c %%', async (t) => {
  const dir = tempDir(t);
  const w = start(t, ['-e', 'create', '--format', '%w|%f|%e|%:e|%T|%c|%%', '--timefmt', '%Y-%m-%dT%H:%M:%S %F %T %s', dir]);
  await w.ready();
  const before = Math.floor(Date.now() / 1000);
  mkdirSync(join(dir, 'sub'));
  assert.equal((await w.exited).code, 0);
  const after = Math.ceil(Date.now() / 1000);
  const m = /^(.*)\|sub\|CREATE,ISDIR\|CREATE:ISDIR\|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) (\d+)\|0\|%\n$/.exec(w.stdout);
  assert.ok(m, w.stdout);
  assert.equal(m[1], `${dir}/`);
  const secs = Number(m[5]);
  assert.ok(secs >= before && secs <= after, `${secs} within [${before}, ${after}]`);
  // TZ=UTC in the child: %Y-%m-%dT%H:%M:%S is the ISO time of %s.
  assert.equal(m[2], new Date(secs * 1000).toISOString().slice(0, 19));
  assert.equal(`${m[3]}T${m[4]}`, m[2]);
});

test('--csv: fields with commas, quotes or edge spaces are quoted', async (t) => {
  const dir = tempDir(t);
  const w = start(t, ['-m', '--csv', '-e', 'create,close_write', dir]);
  await w.ready();
  writeFileSync(join(dir, 'a,b "c"'), 'x');
  writeFileSync(join(dir, ' plain'), '');
  await w.until(() => w.lines().length >= 4, 'four events');
  w.child.kill('SIGTERM');
  await w.exited;
  assert.deepEqual(w.lines(), [
    `${dir}/,CREATE,"a,b ""c"""`,
    `${dir}/,"CLOSE_WRITE,CLOSE","a,b ""c"""`,
    `${dir}/,CREATE," plain"`,
    `${dir}/,"CLOSE_WRITE,CLOSE"," plain"`,
  ]);
});

test('-t: no event in time exits 2 with nothing on stdout', async (t) => {
  const dir = tempDir(t);
  const w = start(t, ['-t', '0.3', dir]);
  const { code } = await w.exited;
  assert.equal(code, 2);
  assert.equal(w.stdout, '');
  assert.equal(w.stderr, SETUP);
});

test('-q: no setup lines; -qq: not even errors', async (t) => {
  const dir = tempDir(t);
  const q = start(t, ['-q', '-t', '0.3', dir]);
  assert.equal((await q.exited).code, 2);
  assert.equal(q.stderr, '');

  // Without the readiness line, keep making events until one is printed.
  const w = start(t, ['--quiet', '-e', 'create', dir]);
  let n = 0;
  const timer = setInterval(() => writeFileSync(join(dir, `f${n++}`), ''), 50);
  t.after(() => clearInterval(timer));
  assert.equal((await w.exited).code, 0);
  clearInterval(timer);
  assert.match(w.stdout, new RegExp(`^${dir}/ CREATE f\\d+\\n$`));
  assert.equal(w.stderr, '');

  const qq = start(t, ['-qq', join(dir, 'nope')]);
  assert.equal((await qq.exited).code, 1);
  assert.equal(qq.stderr, '');
  assert.equal(qq.stdout, '');
});

test('a path that does not exist: exit 1 and the error on stderr', async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope');
  const w = start(t, [dir, missing]);
  const { code } = await w.exited;
  assert.equal(code, 1);
  assert.equal(w.stdout, '');
  assert.equal(w.stderr, `Setting up watches.\nCouldn't watch ${missing}: No such file or directory\n`);
});

test('-r: existing subdirectories, and files in a directory tree made after the start', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'old'));
  const w = start(t, ['-m', '-r', '-e', 'create', dir]);
  await w.ready();
  assert.match(w.stderr, /^Setting up watches\.  Beware: since -r was given, this may take a while!\n/);
  writeFileSync(join(dir, 'old', 'g'), '');
  // Faster than the events can be read: deep/ and f may exist before their parent is watched.
  mkdirSync(join(dir, 'new', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'new', 'deep', 'f'), '');
  const expected = [
    `${dir}/old/ CREATE g`,
    `${dir}/ CREATE,ISDIR new`,
    `${dir}/new/ CREATE,ISDIR deep`,
    `${dir}/new/deep/ CREATE f`,
  ];
  await w.until(() => expected.every((l) => w.lines().includes(l)), 'the new tree');
  // Then a file in the new directory, made after its watch certainly landed.
  writeFileSync(join(dir, 'new', 'deep', 'h'), '');
  await w.until(() => w.lines().includes(`${dir}/new/deep/ CREATE h`), 'h');
  w.child.kill('SIGTERM');
  await w.exited;
  assert.deepEqual(w.lines().sort(), [...expected, `${dir}/new/deep/ CREATE h`].sort(), 'each event exactly once');
});

test('-r follows a directory renamed inside the tree', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  const w = start(t, ['-m', '-r', '-e', 'create,move', dir]);
  await w.ready();
  renameSync(join(dir, 'a'), join(dir, 'c'));
  await w.until(() => w.lines().includes(`${dir}/ MOVED_TO,ISDIR c`), 'the rename');
  writeFileSync(join(dir, 'c', 'b', 'x'), '');
  await w.until(() => w.lines().includes(`${dir}/c/b/ CREATE x`), 'x under its new path');
  w.child.kill('SIGTERM');
  await w.exited;
});

test('--exclude and --includei: filtered on the full path', async (t) => {
  const dir = tempDir(t);
  const ex = start(t, ['-m', '-e', 'create', '--exclude', '\\.tmp$', dir]);
  await ex.ready();
  writeFileSync(join(dir, 'a.tmp'), '');
  writeFileSync(join(dir, 'b.txt'), '');
  await ex.until(() => ex.lines().length >= 1, 'b.txt');
  ex.child.kill('SIGTERM');
  await ex.exited;
  assert.deepEqual(ex.lines(), [`${dir}/ CREATE b.txt`]);

  const inc = start(t, ['-e', 'create', '--includei', '\\.LOG$', dir]);
  await inc.ready();
  writeFileSync(join(dir, 'c.txt'), '');
  writeFileSync(join(dir, 'd.log'), '');
  assert.equal((await inc.exited).code, 0);
  assert.equal(inc.stdout, `${dir}/ CREATE d.log\n`);
});

test('--json, with --join-renames: one object per event, a rename as one', async (t) => {
  const dir = tempDir(t);
  const w = start(t, ['-m', '--json', '--join-renames', '-e', 'create,move', dir]);
  await w.ready();
  writeFileSync(join(dir, 'a'), '');
  renameSync(join(dir, 'a'), join(dir, 'b'));
  mkdirSync(join(dir, 'd'));
  await w.until(() => w.lines().some((l) => JSON.parse(l).path === join(dir, 'd')), 'd');
  w.child.kill('SIGTERM');
  await w.exited;
  const objs = w.lines().map((l) => JSON.parse(l));
  for (const o of objs) {
    assert.deepEqual(Object.keys(o), ['type', 'path', 'oldPath', 'names', 'isDir', 'time']);
    assert.ok(Math.abs(Date.parse(o.time) - Date.now()) < 60_000);
  }
  assert.deepEqual(objs[0], { ...objs[0], type: 'create', path: join(dir, 'a'), oldPath: null, names: ['create'], isDir: false });
  const last = objs.at(-1);
  assert.deepEqual(last, { ...last, type: 'create', path: join(dir, 'd'), names: ['create', 'isdir'], isDir: true });
  const middle = objs.slice(1, -1);
  if (middle.length === 1) {
    assert.deepEqual(middle[0], { ...middle[0], type: 'rename', path: join(dir, 'b'), oldPath: join(dir, 'a'), names: ['moved_from', 'moved_to'] });
  } else {
    // The renaming process was preempted between the kernel's two halves: not joined, never lost.
    assert.deepEqual(middle.map((o) => [o.type, o.path]), [['moved_from', join(dir, 'a')], ['moved_to', join(dir, 'b')]]);
  }
});

test('usage errors exit 1 (2 means "timed out" to inotifywait scripts); --help lists watch', async (t) => {
  const dir = tempDir(t);
  const cases = [
    [['-e', 'bogus', dir], /'bogus' is not a valid event!/],
    [['--timefmt', '%T', dir], /--timefmt cannot be specified without --format/],
    [['--format', '%T', dir], /%T is in --format string, but --timefmt was not specified/],
    [['--csv', '--format', '%w', dir], /-c and --format cannot both be specified/],
    [[], /No files specified to watch!/],
    [['--bogus', dir], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const w = start(t, args);
    assert.equal((await w.exited).code, 1, args.join(' '));
    assert.equal(w.stdout, '');
    assert.match(w.stderr, message);
  }
  const help = spawn(process.execPath, [bin, '--help']);
  let out = '';
  help.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  await new Promise((resolve) => help.on('close', resolve));
  assert.match(out, /butter watch \[options\] <path>\.\.\./);
});

test('-m -r: rm -rf of the tree prints its last events (the parent\'s DELETE,ISDIR, the root\'s DELETE_SELF), then exits 0', async (t) => {
  const dir = tempDir(t);
  const top = join(dir, 'top');
  mkdirSync(join(top, 'a', 'b'), { recursive: true });
  writeFileSync(join(top, 'a', 'b', 'f'), '');
  const w = start(t, ['-m', '-r', '-e', 'delete,delete_self', top]);
  await w.ready();
  // Stopped, the child then reads the whole removal in one batch, with every watch's IN_IGNORED in it.
  w.child.kill('SIGSTOP');
  rmSync(top, { recursive: true });
  w.child.kill('SIGCONT');
  assert.equal((await w.exited).code, 0);
  // inotifywait's lines for the same removal (it prints no IGNORED). Whether a
  // directory's DELETE_SELF comes before or after its parent's DELETE,ISDIR is
  // the remover's doing (the kernel sends DELETE_SELF when the last reference
  // to the directory goes: Node 24's rmSync keeps one longer than Node 20's).
  const lines = w.lines();
  assert.deepEqual([...lines].sort(), [
    `${top}/ DELETE,ISDIR a`,
    `${top}/ DELETE_SELF `,
    `${top}/a/ DELETE,ISDIR b`,
    `${top}/a/ DELETE_SELF `,
    `${top}/a/b/ DELETE f`,
    `${top}/a/b/ DELETE_SELF `,
  ]);
  assert.equal(lines.at(-1), `${top}/ DELETE_SELF `);
});

test('-m -r: a file written in a new directory while the JavaScript is still busy with its creation is reported by the kernel: new directories are watched natively, on the read', async (t) => {
  const dir = tempDir(t);
  // Every line printed holds the thread for 500 ms: JavaScript far slower than the writes below.
  const slow = `const write = process.stdout.write; process.stdout.write = function (...args) {
    const r = write.apply(this, args); const end = Date.now() + 500; while (Date.now() < end); return r; };`;
  const w = start(t, ['-m', '-r', '--json', '-e', 'create,close_write', dir], ['--import', `data:text/javascript,${encodeURIComponent(slow)}`]);
  await w.ready();
  // Stopped, the child then reads a/'s creation after b/ and c/ exist in it.
  w.child.kill('SIGSTOP');
  mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
  w.child.kill('SIGCONT');
  // Printed: the JavaScript is in its 500 ms, and has not watched a/, b/ or c/ itself.
  await w.until(() => w.lines().length === 1, "a/'s creation");
  writeFileSync(join(dir, 'a', 'b', 'c', 'f'), 'x');
  writeFileSync(join(dir, 'done'), '');
  await w.until(() => w.stdout.includes(`"path":"${dir}/done"`), 'the last file');
  w.child.kill('SIGTERM');
  await w.exited;
  const events = w.lines().map((l) => JSON.parse(l)).map((e) => `${e.type} ${e.path.slice(dir.length)}${e.scanned ? ' (scanned)' : ''}`);
  assert.deepEqual(events, [
    'create /a',
    'create /a/b (scanned)',
    'create /a/b/c (scanned)',
    'create /a/b/c/f (scanned)',
    'close_write /a/b/c/f (scanned)',
    'close_write /a/b/c/f', // the kernel's: c/ was watched before f was written
    'create /done',
  ]);
});

test('-m -r -e close_write: a file written and closed in a new directory before its watch is printed as CLOSE_WRITE by the listing; --json says scanned', async (t) => {
  const dir = tempDir(t);
  for (const json of [false, true]) {
    const w = start(t, ['-m', '-r', ...(json ? ['--json'] : []), '-e', 'close_write', dir]);
    await w.ready();
    // Stopped, the child watches b/ only after f was closed: no kernel event of f ever comes.
    w.child.kill('SIGSTOP');
    const top = join(dir, json ? 'json' : 'text');
    mkdirSync(join(top, 'b'), { recursive: true });
    writeFileSync(join(top, 'b', 'f'), 'x');
    w.child.kill('SIGCONT');
    writeFileSync(join(dir, `done-${json}`), '');
    await w.until(() => w.stdout.includes(`done-${json}`), 'the last file');
    w.child.kill('SIGTERM');
    await w.exited;
    if (json) {
      assert.deepEqual(w.lines().map((l) => JSON.parse(l)).map(({ time, ...e }) => e), [
        { type: 'close_write', path: `${top}/b/f`, oldPath: null, names: ['close_write'], isDir: false, scanned: true },
        { type: 'close_write', path: `${dir}/done-true`, oldPath: null, names: ['close_write'], isDir: false },
      ]);
    } else {
      assert.deepEqual(w.lines(), [`${top}/b/ CLOSE_WRITE,CLOSE f`, `${dir}/ CLOSE_WRITE,CLOSE done-false`]);
    }
  }
});

test('names that are not UTF-8 are printed as their bytes (default, --format, --csv, -r into such a directory); --json adds them in base64', async (t) => {
  const dir = tempDir(t);
  const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const odd = (c) => Buffer.from([0x6e, 0xff, c.charCodeAt(0)]); // 'n', 0xff, c: never UTF-8
  const inDir = (...parts) => bytes(`${dir}/`, ...parts);

  const m = start(t, ['-m', '-r', '-e', 'create', dir]);
  await m.ready();
  writeFileSync(inDir(odd('a')), '');
  mkdirSync(inDir(odd('d')));
  await m.until(() => m.lines().length >= 2, 'two creates');
  writeFileSync(inDir(odd('d'), '/f'), '');
  await m.until(() => m.lines().length >= 3, 'f in the new directory');
  m.child.kill('SIGTERM');
  await m.exited;
  assert.deepEqual(m.bytes, bytes(
    `${dir}/ CREATE `, odd('a'), '\n',
    `${dir}/ CREATE,ISDIR `, odd('d'), '\n',
    inDir(odd('d'), '/ CREATE f\n'),
  ));
  assert.equal(m.stderr.includes("Couldn't"), false, m.stderr);

  const once = async (args, name) => {
    const w = start(t, ['-e', 'create', ...args, dir]);
    await w.ready();
    writeFileSync(inDir(name), '');
    assert.equal((await w.exited).code, 0);
    return w;
  };
  assert.deepEqual((await once(['--format', '%w%f|%e'], odd('b'))).bytes, bytes(inDir(odd('b')), '|CREATE\n'));
  assert.deepEqual((await once(['--csv'], odd('c'))).bytes, bytes(`${dir}/,CREATE,`, odd('c'), '\n'));
  const json = JSON.parse((await once(['--json'], odd('e'))).stdout);
  assert.equal(json.path, `${dir}/n\ufffde`);
  assert.deepEqual(Buffer.from(json.rawPath, 'base64'), inDir(odd('e')));
});
