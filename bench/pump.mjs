// What consuming events costs in JavaScript, per event, by way of consuming:
// an 'event' listener, `for await`, `for await` with a signal, `await read()`;
// beside Node's own async iteration of an emitter (`events.on()`).
//
//   node bench/pump.mjs [--rounds 7] [--events 300000] [--cases pump-listener,...]
//
// Cases (each run is a fresh process; cases interleaved over rounds):
//   pump-*       the event pump alone (an EventPump subclass with no fd), fed one
//                event per microtask by a producer loop: the iterator's own cost
//   node-on      an EventEmitter fed the same way, consumed with events.on()
//   eventfd-*    an EventFd that writes itself the next event from its consumer:
//                the whole path (a write, the wake, the read, the consumer)
// The figure is CPU time (user + system) per event, which other work on the
// machine moves less than wall time.
import { fork } from 'node:child_process';
import { EventEmitter, on } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, reportOtherLoad, table } from './lib.mjs';

const CASES = {
  'pump-listener': "pump, 'event' listener",
  'pump-iter': 'pump, for await',
  'pump-iter-signal': 'pump, for await with a signal',
  'node-on': "Node's events.on(), for await",
  'eventfd-listener': "EventFd, 'event' listener",
  'eventfd-iter': 'EventFd, for await',
  'eventfd-iter-signal': 'EventFd, for await with a signal',
  'eventfd-read': 'EventFd, await read()',
};

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    events: { type: 'string', default: '300000' },
    cases: { type: 'string', default: Object.keys(CASES).join(',') },
    child: { type: 'string' },
  },
});

if (opts.child !== undefined) {
  const n = Number(opts.events);
  await consume(opts.child, n / 10); // warm-up
  const c0 = process.cpuUsage();
  await consume(opts.child, n);
  const c = process.cpuUsage(c0);
  process.send({ ns: ((c.user + c.system) * 1000) / n });
  process.exit(0);
}

/** Consumes `n` events the way `kind` says. */
async function consume(kind, n) {
  const signal = kind.endsWith('-signal') ? new AbortController().signal : undefined;
  let got = 0;
  if (kind.startsWith('eventfd-')) {
    const { EventFd, eventfdWrite } = await import('butter');
    const ev = new EventFd();
    const fd = ev.fd;
    eventfdWrite(fd, 1n);
    if (kind === 'eventfd-listener') {
      await new Promise((resolve) => {
        const onEvent = () => {
          if (++got < n) return eventfdWrite(fd, 1n);
          ev.off('event', onEvent);
          resolve();
        };
        ev.on('event', onEvent);
      });
    } else if (kind === 'eventfd-read') {
      for (;;) {
        await ev.read();
        if (++got === n) break;
        eventfdWrite(fd, 1n);
      }
    } else {
      for await (const _ of ev.events({ signal })) {
        if (++got === n) break;
        eventfdWrite(fd, 1n);
      }
    }
    ev.close();
    return;
  }
  let feed;
  let consumer;
  if (kind === 'node-on') {
    const emitter = new EventEmitter();
    feed = (i) => emitter.emit('event', i);
    consumer = (async () => {
      for await (const _ of on(emitter, 'event')) if (++got === n) break;
    })();
  } else {
    const { EventPump } = createRequire(import.meta.url)('../dist/cjs/core/pump.js');
    const settled = Promise.resolve();
    const noop = () => {};
    // As FdSource: a consumer that may have gone is checked for a microtask later.
    class Pump extends EventPump {
      get closed() {
        return false;
      }
      consumersChanged(came) {
        if (!came) settled.then(noop);
      }
    }
    const pump = new Pump();
    feed = (i) => {
      pump.queue.push(i);
      pump.dispatch();
    };
    if (kind === 'pump-listener') pump.on('event', () => got++);
    else {
      consumer = (async () => {
        for await (const _ of pump.events({ signal })) if (++got === n) break;
      })();
    }
  }
  while (got < n) {
    await null;
    feed(got);
  }
  await consumer;
}

const cases = opts.cases.split(',');
for (const kind of cases) {
  if (!(kind in CASES)) {
    console.error(`bench/pump.mjs: unknown case ${JSON.stringify(kind)}; cases: ${Object.keys(CASES).join(', ')}`);
    process.exit(2);
  }
}
printMachine(`event consumption, CPU ns per event (${opts.events} events after ${Number(opts.events) / 10} warm-up, ${opts.rounds} rounds)`);
await checkIdle();
const load = otherLoad();
const results = Object.fromEntries(cases.map((k) => [k, []]));
const self = fileURLToPath(import.meta.url);
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const kind of cases) {
    const child = fork(self, ['--child', kind, '--events', opts.events], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [{ ns }] = await Promise.all([new Promise((r) => child.once('message', r)), new Promise((r) => child.once('exit', r))]);
    results[kind].push(ns);
  }
}
console.log(
  table(
    ['case', 'median ns', 'min', 'max', 'vs listener'],
    cases.map((k) => {
      const base = k.startsWith('eventfd-') ? results['eventfd-listener'] : results['pump-listener'];
      const extra = base ? fmt(median(results[k]) - median(base), 0) : '';
      return [CASES[k], fmt(median(results[k]), 0), fmt(min(results[k]), 0), fmt(max(results[k]), 0), extra && `+${extra}`];
    }),
  ),
);
reportOtherLoad(load());
