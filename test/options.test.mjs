// Options every constructor shares: an option it does not know is refused
// (ERR_INVALID_ARG_VALUE, no fd made), and `signal` closes the object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getEventListeners } from 'node:events';
import { EventFd, TimerFd, Inotify, Fanotify, SignalFd, watch } from 'butter';

const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-options-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Each constructor, and each method with an options object, given `opts`. */
const calls = {
  'new EventFd': (opts) => new EventFd(opts),
  'new TimerFd': (opts) => new TimerFd(opts),
  'new Inotify': (opts) => new Inotify(opts),
  'new Fanotify': (opts) => new Fanotify(opts),
  'new SignalFd': (opts) => new SignalFd('SIGUSR2', opts),
  'watch()': (opts) => watch(tmp, opts),
  'TimerFd#set': (opts) => {
    const t = new TimerFd();
    try {
      t.set(1000, opts);
    } finally {
      t.close();
    }
  },
  'Inotify#add': (opts) => {
    const ino = new Inotify();
    try {
      ino.add(tmp, ['create'], opts);
    } finally {
      ino.close();
    }
  },
  'Fanotify#mark': (opts) => {
    const fan = new Fanotify();
    try {
      fan.mark(tmp, { events: ['open'], ...opts });
    } finally {
      fan.close();
    }
  },
  'Fanotify#flush': (opts) => {
    const fan = new Fanotify();
    try {
      fan.flush(opts);
    } finally {
      fan.close();
    }
  },
  'EventFd#events': (opts) => {
    const efd = new EventFd();
    try {
      efd.events(opts);
    } finally {
      efd.close();
    }
  },
  'Watcher#events': (opts) => {
    const w = watch(tmp);
    try {
      w.events(opts);
    } finally {
      w.close();
    }
  },
};

for (const [name, call] of Object.entries(calls)) {
  test(`${name}: an unknown option is refused, with no fd left open; one set to undefined is not`, () => {
    const before = fdCount();
    assert.throws(() => call({ sigal: 1 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: "The property 'options.sigal' is not a known option. Received 1",
    });
    assert.equal(fdCount(), before);
    const made = call({ sigal: undefined });
    made?.close();
  });
}

test('EventFd#read: an unknown option is refused (a rejection, as every failure of read()); one set to undefined is not', async () => {
  const efd = new EventFd({ initval: 1 });
  try {
    await assert.rejects(efd.read({ sigal: 1 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: "The property 'options.sigal' is not a known option. Received 1",
    });
    assert.equal(await efd.read({ sigal: undefined }), 1n);
  } finally {
    efd.close();
  }
});

const closable = {
  EventFd: (signal) => new EventFd({ signal }),
  TimerFd: (signal) => new TimerFd({ signal }),
  Inotify: (signal) => new Inotify({ signal }),
  Fanotify: (signal) => new Fanotify({ signal }),
  SignalFd: (signal) => new SignalFd('SIGUSR2', { signal }),
};

for (const [name, make] of Object.entries(closable)) {
  test(`${name}({ signal }): aborting closes it; made with an aborted signal, it is closed; close() lets go of the signal`, async () => {
    const ac = new AbortController();
    const obj = make(ac.signal);
    assert.equal(obj.closed, false);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    const closed = new Promise((resolve) => obj.once('close', resolve));
    ac.abort();
    assert.equal(obj.closed, true);
    assert.equal(obj.fd, -1);
    await closed;

    const early = make(AbortSignal.abort());
    assert.equal(early.closed, true);

    const kept = new AbortController();
    const other = make(kept.signal);
    other.close();
    await new Promise((resolve) => other.once('close', resolve));
    assert.equal(getEventListeners(kept.signal, 'abort').length, 0);
  });

  test(`${name}({ signal }): a signal that is not an AbortSignal is refused before any fd is made`, () => {
    const before = fdCount();
    assert.throws(() => make({ aborted: false }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.signal" property/ });
    assert.equal(fdCount(), before);
  });
}
