// Fault injection: every event source (test/support/faults.mjs's adapters)
// through every fault, each case in a child process of its own that must exit
// by itself. test/faults-epoll.test.mjs runs the same on the portable backend.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readinessBackend } from 'butter';
import { ADAPTERS, FAULTS, N, runCase } from './support/faults.mjs';
import { noNamespace } from './support/private-tmpfs.mjs';

const backend = readinessBackend();

/** What each fault must leave behind, given the adapter and the child's `result`. */
const CHECKS = {
  'a listener that throws on the first event': (r) => {
    assert.equal(r.got, N, 'every event delivered, the ones after the throw included');
    assert.deepEqual(r.uncaught, ['listener threw'], 'the throw reached uncaughtException once');
  },
  'an async listener that rejects': (r) => {
    assert.equal(r.got, N);
    assert.deepEqual(r.surfaced, ['listener rejected'], 'the rejection surfaced once');
  },
  'a for await loop that breaks mid-batch': (r) => {
    assert.ok(r.got >= 1);
    assert.equal(r.open, true);
  },
  'a for await loop that throws mid-batch': (r) => {
    assert.ok(r.got >= 1);
    assert.deepEqual([r.caught, r.open], ['loop threw', true]);
  },
  'an AbortSignal aborted while waiting': (r) => {
    assert.deepEqual(r.settled, { name: 'AbortError', code: 'ABORT_ERR', cause: 'stop' });
    assert.deepEqual([r.afterDone, r.open], [true, true]);
  },
  'close() from inside a listener': (r) => {
    assert.deepEqual(r, { calls: 1, closes: 1, closed: true, uncaught: [] });
  },
  'a stalled loop while events pile up': (r) => {
    assert.equal(r.got, N, 'nothing lost');
  },
  'a signal storm while events flow': (r) => {
    assert.deepEqual(r, { got: N, signalled: true });
  },
  'removeAllListeners(), then a listener': (r) => {
    assert.deepEqual([r.got, r.open], [N, true]);
  },
  'fd exhaustion (EMFILE) at construction': (r, adapter) => {
    assert.equal(r.leaked, 0, 'no fd left open');
    assert.notEqual(r.outcomes[0], 'made', 'nothing is made without an fd');
    assert.equal(r.outcomes.at(-1), 'made', 'made once there are fds again');
    for (const o of r.outcomes.filter((x) => x !== 'made')) {
      assert.equal(o.code, 'EMFILE', o.message);
      assert.equal(o.errno, -24);
      assert.ok(adapter.syscalls.includes(o.syscall), `syscall '${o.syscall}' is one of ${adapter.syscalls}`);
    }
  },
  'a Worker terminated at a random step': (r) => {
    assert.deepEqual(r.leaks, [], 'no fd left open after any termination (the open fds, per round that left some)');
  },
};

// The cases are children waiting on each other's events and timers more than
// running: a few at a time keep the suite short without crowding two cores.
describe(`event sources under faults [${backend}]`, { concurrency: 4 }, () => {
  for (const [name, adapter] of Object.entries(ADAPTERS)) {
    const skip = adapter.child === 'tmpfs' && noNamespace;
    for (const fault of Object.keys(FAULTS)) {
      test(`${name}: ${fault}`, { skip, timeout: 30_000, todo: adapter.known?.[fault] }, async () => {
        const r = await runCase(name, fault, { backend });
        assert.equal(r.signal, null, `the child exited by itself (killed at the timeout: ${r.stderr})`);
        assert.equal(r.status, 0, r.stderr);
        CHECKS[fault](r.result, adapter);
      });
    }
  }
});
