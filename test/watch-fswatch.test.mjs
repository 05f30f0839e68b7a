// watch() in fs.watch's shape: the same argument forms with the same meaning,
// persistent and encoding, a watched file's writes; side by side with fs.watch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { watch } from 'butter';
import { runChild } from './support/child.mjs';

let tmp;
let n = 0;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-watch-fs-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const dir = () => {
  const d = path.join(tmp, `d${n++}`);
  fs.mkdirSync(d);
  return d;
};

/** Records `w`'s events from now on; `next(pred)` takes the first unread one matching, or fails after 5 s. */
function recorder(w) {
  const events = [];
  let wake = () => {};
  w.on('event', (ev) => {
    events.push(ev);
    wake();
  });
  let read = 0;
  return async (pred) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      while (read < events.length) {
        const ev = events[read++];
        if (pred(ev)) return ev;
      }
      if (Date.now() >= deadline) assert.fail('no matching event within 5 s');
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, deadline - Date.now());
      });
    }
  };
}

test('watch(URL) and watch(Buffer) watch that path, as fs.watch does', async () => {
  for (const form of [(d) => pathToFileURL(d), (d) => Buffer.from(d)]) {
    const d = dir();
    const w = watch(form(d));
    const next = recorder(w);
    try {
      assert.equal(w.root, d);
      await w.ready;
      fs.writeFileSync(path.join(d, 'f'), 'x');
      const ev = await next((e) => e.type === 'create');
      assert.equal(ev.path, path.join(d, 'f'));
    } finally {
      w.close();
    }
  }
});

test('watch(path, listener) and watch(path, options, listener) attach the listener for every event', async () => {
  const d = dir();
  const seen = [];
  const w1 = watch(d, (ev) => seen.push(['w1', ev.type, path.basename(ev.path)]));
  const w2 = watch(d, { events: ['create'] }, (ev) => seen.push(['w2', ev.type, path.basename(ev.path)]));
  try {
    await Promise.all([w1.ready, w2.ready]);
    fs.writeFileSync(path.join(d, 'f'), 'x');
    const deadline = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen.filter(([w]) => w === 'w2'), [['w2', 'create', 'f']]);
    assert.deepEqual(seen.filter(([w]) => w === 'w1').slice(0, 2), [['w1', 'create', 'f'], ['w1', 'modify', 'f']]);
  } finally {
    w1.close();
    w2.close();
  }
  assert.throws(() => watch(d, {}, 'not a function'), { code: 'ERR_INVALID_ARG_TYPE', message: /"listener" argument/ });
});

test("encoding: watch(path, 'buffer') gives Buffers, 'hex' hex strings, 'utf8' strings (as fs.watch's filename)", async () => {
  const d = dir();
  const name = 'é.txt';
  const wanted = path.join(d, name);
  for (const [options, expect] of [
    ['buffer', Buffer.from(wanted)],
    [{ encoding: 'buffer' }, Buffer.from(wanted)],
    [{ encoding: 'hex' }, Buffer.from(wanted).toString('hex')],
    ['utf8', wanted],
  ]) {
    const w = watch(d, options);
    const next = recorder(w);
    // fs.watch gives the name in the same encoding.
    const fsw = fs.watch(d, options);
    const fsName = once(fsw, 'change');
    try {
      await w.ready;
      fs.rmSync(wanted, { force: true });
      fs.writeFileSync(wanted, 'x');
      const ev = await next((e) => e.type === 'create');
      assert.deepEqual(ev.path, expect);
      const [, filename] = await fsName;
      assert.equal(Buffer.isBuffer(filename), Buffer.isBuffer(expect));
    } finally {
      w.close();
      fsw.close();
    }
  }
  assert.throws(() => watch(d, 'no-such-encoding'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => fs.watch(d, 'no-such-encoding'), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('persistent: false lets the process exit, as with fs.watch; the default keeps it alive', () => {
  const d = dir();
  for (const api of ['butter', 'fs']) {
    const code = `
      import { watch } from ${api === 'butter' ? "'butter'" : "'node:fs'"};
      const w = watch(${JSON.stringify(d)}, { persistent: false });
      ${api === 'butter' ? 'await w.ready; w.on("event", () => {});' : ''}
      setTimeout(() => console.log('timer'), 50);`;
    const r = runChild(code, { timeout: 10_000 });
    assert.equal(r.status, 0, `${api}: ${r.stderr}`);
    assert.equal(r.stdout, 'timer\n');
  }
  const kept = runChild(`
    import { watch } from 'butter';
    watch(${JSON.stringify(d)}).on('event', () => {});`, { timeout: 1500 });
  assert.equal(kept.signal, 'SIGKILL', 'still running when the timeout killed it');
});

test("a watched file's writes and appends are reported (fs.watch says 'change')", async () => {
  const d = dir();
  const file = path.join(d, 'file.txt');
  fs.writeFileSync(file, 'x');
  const w = watch(file);
  const next = recorder(w);
  const fsw = fs.watch(file);
  const fsChange = once(fsw, 'change');
  try {
    await w.ready;
    fs.appendFileSync(file, 'more');
    const ev = await next((e) => e.type === 'modify');
    assert.deepEqual(ev, { type: 'modify', path: file, isDir: false });
    const closeWrite = await next((e) => e.type === 'close_write');
    assert.equal(closeWrite.path, file);
    assert.equal((await fsChange)[0], 'change');
    fs.writeFileSync(file, 'replaced');
    assert.equal((await next((e) => e.type === 'modify')).path, file);
  } finally {
    w.close();
    fsw.close();
  }
});

test('watch() refuses an unknown option (fs.watch ignores it) and checks recursive, persistent', () => {
  const d = dir();
  assert.throws(() => watch(d, { recursve: true }), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: "The property 'options.recursve' is not a known option. Received true",
  });
  assert.throws(() => watch(d, { persistent: 'no' }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.persistent" property/ });
  assert.throws(() => watch(5), { code: 'ERR_INVALID_ARG_TYPE', message: /"root" argument must be of type string or an instance of Buffer or URL/ });
});
