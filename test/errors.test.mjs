// Error shapes: system errors exactly as node:fs makes them, argument errors
// with Node's codes and wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { readSync, readFileSync, read } from 'node:fs';
import { eventfdRead, eventfdWrite, gethostname } from 'butter';

const thrown = (fn) => {
  try { fn(); } catch (e) { return e; }
  assert.fail('should throw');
};

test('a Butter system error has the same own properties and message as node:fs\'s', () => {
  let ours;
  let node;
  try { eventfdRead(2 ** 31 - 1); } catch (e) { ours = e; }
  try { readSync(2 ** 31 - 1, Buffer.alloc(8)); } catch (e) { node = e; }
  assert.equal(ours.code, node.code);
  assert.equal(ours.errno, node.errno);
  assert.equal(ours.syscall, node.syscall);
  assert.equal(ours.message, node.message);
  assert.ok(ours instanceof Error);
  assert.deepEqual(Object.keys(ours).sort(), ['code', 'errno', 'syscall']);
});

test('the stack starts at the caller, not inside Butter\'s error helper', () => {
  try {
    eventfdRead(2 ** 31 - 1);
    assert.fail('should throw');
  } catch (e) {
    assert.doesNotMatch(e.stack.split('\n')[1], /sysError/);
  }
});

test('ERR_INVALID_ARG_TYPE wording follows Node for each kind of value', () => {
  const msg = (v) => {
    try { eventfdWrite(v, 1n); } catch (e) { return e.message; }
    return null;
  };
  assert.equal(msg(undefined), 'The "fd" argument must be of type number. Received undefined');
  assert.equal(msg(null), 'The "fd" argument must be of type number. Received null');
  assert.equal(msg('abc'), `The "fd" argument must be of type number. Received type string ('abc')`);
  assert.equal(msg(1n), 'The "fd" argument must be of type number. Received type bigint (1n)');
  assert.equal(msg({}), 'The "fd" argument must be of type number. Received an instance of Object');
  assert.equal(msg(function named() {}), 'The "fd" argument must be of type number. Received function named');
  assert.equal(msg('x'.repeat(40)), `The "fd" argument must be of type number. Received type string ('${'x'.repeat(25)}...')`);
  assert.equal(msg("it's"), `The "fd" argument must be of type number. Received type string ("it's")`);
  assert.equal(msg(Symbol('s')), 'The "fd" argument must be of type number. Received type symbol (Symbol(s))');
  assert.equal(msg(true), 'The "fd" argument must be of type number. Received type boolean (true)');
  assert.equal(msg([1]), 'The "fd" argument must be of type number. Received an instance of Array');
  assert.equal(msg(Object.create(null)), 'The "fd" argument must be of type number. Received [Object: null prototype] {}');
});

test('ERR_OUT_OF_RANGE shows big numbers with separators, as Node does', () => {
  assert.throws(() => eventfdRead(2 ** 40), {
    code: 'ERR_OUT_OF_RANGE',
    message: 'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received 1_099_511_627_776',
  });
  assert.throws(() => eventfdWrite(0, 2n ** 64n), {
    code: 'ERR_OUT_OF_RANGE',
    message: 'The value of "value" is out of range. It must be >= 0 && <= 18446744073709551615. Received 18_446_744_073_709_551_616n',
  });
});

test('ERR_INVALID_ARG_VALUE names the option and shows the value', () => {
  assert.throws(() => gethostname({ encoding: 'nope' }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: "The property 'options.encoding' is invalid encoding. Received 'nope'",
  });
});

test('an argument error prints its code as Node\'s do: String(err), the stack, inspect; name and keys unchanged', () => {
  const pairs = [
    // Node's JavaScript checks: from Node 22, readSync(undefined) is refused in C++, printed without its code.
    ['ERR_INVALID_ARG_TYPE', TypeError, () => eventfdWrite(undefined, 1n), () => Buffer.alloc('1')],
    ['ERR_INVALID_ARG_VALUE', TypeError, () => gethostname({ encoding: 'nope' }), () => readFileSync('/', { encoding: 'nope' })],
    ['ERR_OUT_OF_RANGE', RangeError, () => eventfdRead(-2), () => read(0, Buffer.alloc(1), -1, 1, 0, () => {})],
  ];
  const onNode = !('bun' in process.versions) && !('deno' in process.versions);
  const shape = (e) => ({
    name: e.name,
    string: String(e).replace(e.message, '<message>'),
    first: e.stack.split('\n')[0].replace(e.message, '<message>'),
    // util.inspect is the runtime's: Bun's prints errors its own way.
    ...(onNode && { inspected: inspect(e).split('\n')[0].replace(e.message, '<message>') }),
    keys: Object.keys(e),
    own: Object.getOwnPropertyNames(e).sort(),
    instance: [e instanceof Error, e instanceof TypeError, e instanceof RangeError, e.constructor.name],
  });
  // Node's shape, checked against node:fs's own errors on Node. Bun's and
  // Deno's node:fs errors are shaped otherwise (own `name` and `toString`;
  // Deno's stack line has no code): Butter's keep Node's there too.
  const nodeShape = (code, type) => {
    const line = `${type.name} [${code}]: <message>`;
    return { name: type.name, string: line, first: line, ...(onNode && { inspected: line }), keys: ['code'], own: ['code', 'message', 'stack'], instance: [true, type === TypeError, type === RangeError, type.name] };
  };
  for (const [code, type, butter, node] of pairs) {
    const ours = thrown(butter);
    const theirs = thrown(node);
    assert.equal(theirs.code, code, 'the Node call gives the code being compared');
    if (onNode) assert.deepEqual(shape(theirs), nodeShape(code, type), `Node's ${code}`);
    assert.deepEqual(shape(ours), nodeShape(code, type), code);
    assert.match(String(ours), new RegExp(`^${ours.name} \\[${code}\\]: `));
    assert.throws(butter, new RegExp(code));
  }
});

test('errnos libuv does not name still get their name and text', async () => {
  // ESTALE (116) is not in libuv's table; glibc names it.
  const { sysError } = await import('../dist/cjs/core/errors.js');
  const e = sysError(116, 'open', '/x');
  assert.equal(e.code, 'ESTALE');
  assert.equal(e.errno, -116);
  assert.equal(e.message, "ESTALE: stale file handle, open '/x'");
  assert.equal(e.path, '/x');
  const d = sysError(18, 'rename', '/a', Buffer.from('/b'));
  assert.equal(d.message, "EXDEV: cross-device link not permitted, rename '/a' -> '/b'");
  assert.equal(d.dest, '/b');
});
