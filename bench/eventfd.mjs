// Wake latency between a Worker and the main thread: round trips in which the
// Worker wakes the main thread and the main thread answers.
//
//   node bench/eventfd.mjs [--rounds N] [--trips N] [--warmup N] [--warmup-ms N] [--cases a,b,...]
//                          [--placements split,free]
//
// Cases (the Worker initiates every round trip and times it):
//   floor          both threads block in Atomics.wait (main + Worker ping-pong)
//   butter-uv      Worker eventfdWrite()s the main thread's EventFd; the main thread's
//                  `for await` wakes (uv backend) and answers by writing a blocking
//                  eventfd the Worker waits on in eventfdRead()
//   butter-epoll   the same with BUTTER_READINESS=epoll (the portable epoll-thread backend)
//   waitAsync      Worker Atomics.notify()s; the main thread's Atomics.waitAsync wakes and
//                  answers with Atomics.notify; the Worker waits in Atomics.wait
//   messageport    MessagePort ping-pong: postMessage both ways, 'message' events both sides
//   eventfd-block  (context) both threads block in eventfdRead on blocking eventfds
//
// Every run of a case is a fresh child process (so CPU time, taken with
// process.cpuUsage() over the measured round trips, covers all its threads and
// nothing else); cases are interleaved over rounds. Each case runs in two thread
// placements: `split` pins the main thread to CPU 0 and the Worker to CPU 1 (with
// taskset, by thread id), so every wake crosses CPUs; `free` leaves placement to
// the scheduler, which on a VM may or may not co-locate the threads (a same-CPU
// wake costs a fraction of a cross-CPU one), so its numbers can be bimodal.
// Targets (issue 2): Butter's p50 within 5% of the floor and below MessagePort's,
// with less CPU per round trip than MessagePort.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, quantile, reportOtherLoad, table } from './lib.mjs';

const self = fileURLToPath(import.meta.url);
/** Written by the Worker to the main thread's eventfd to end a run. */
const STOP = 1n << 40n;

const CASES = {
  floor: { label: 'floor: Atomics.wait <-> Atomics.wait' },
  'butter-uv': { label: 'Butter EventFd, uv backend', backend: 'uv' },
  'butter-epoll': { label: 'Butter EventFd, epoll backend', backend: 'epoll' },
  waitAsync: { label: 'Atomics.waitAsync (main) / Atomics.wait' },
  messageport: { label: 'MessagePort ping-pong' },
  'eventfd-block': { label: '(context) blocking eventfd <-> eventfd' },
};

// ---------------------------------------------------------------------------
// Worker side: initiates and times every round trip.
// ---------------------------------------------------------------------------

async function workerMain() {
  const { kind, warmup, warmupMs, trips } = workerData;
  const butter = kind === 'butter' || kind === 'eventfd-block' ? await import('butter') : null;
  // Report this thread's id (so the parent can pin it), then wait for the go.
  const ctl = new Int32Array(workerData.ctl);
  parentPort.postMessage({ type: 'tid', tid: threadId() });
  Atomics.wait(ctl, 0, 0);
  const lat = new Float64Array(trips);
  let cpu0, wall0, main0, worker0;
  // Per-thread CPU (ns) from the scheduler's own accounting, to split the total.
  const mainStat = `/proc/self/task/${workerData.mainTid}/schedstat`;
  const threadNs = (file) => Number(readFileSync(file, 'utf8').split(' ')[0]);
  const startMeasuring = () => {
    main0 = threadNs(mainStat);
    worker0 = threadNs('/proc/thread-self/schedstat');
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
  };
  const finish = () => {
    const wall = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const workerUs = (threadNs('/proc/thread-self/schedstat') - worker0) / 1000;
    const mainUs = (threadNs(mainStat) - main0) / 1000;
    parentPort.postMessage({ type: 'result', lat, wall, cpuUs: cpu.user + cpu.system, mainUs, workerUs }, [lat.buffer]);
  };
  // Warm-up lasts `warmup` round trips and at least `warmupMs`: the JIT compiles on
  // background threads for a while after start-up, and that CPU is not per-event cost.
  const started = performance.now();
  let measuring = false;
  let n = 0; // timed round trips so far
  let i = 0; // all round trips so far
  /** Before each round trip: false when the run is over. */
  const next = () => {
    if (!measuring && i >= warmup && performance.now() - started >= warmupMs) {
      measuring = true;
      startMeasuring();
    }
    return n < trips;
  };
  const record = (dt) => {
    i++;
    if (measuring) lat[n++] = dt;
  };

  if (kind === 'butter' || kind === 'eventfd-block') {
    const { eventfdWrite, eventfdRead } = butter;
    const [toMain, fromMain] = kind === 'butter' ? [workerData.evFd, workerData.replyFd] : [workerData.pingFd, workerData.pongFd];
    while (next()) {
      const t0 = performance.now();
      eventfdWrite(toMain, 1n);
      eventfdRead(fromMain); // blocking fd: sleeps until the main thread answers
      record(performance.now() - t0);
    }
    finish();
    eventfdWrite(toMain, STOP); // the main thread stops without answering
  } else if (kind === 'atomics') {
    // floor and waitAsync: slot 0 is the ping counter, slot 1 the pong counter.
    const a = new Int32Array(workerData.sab);
    while (next()) {
      const t0 = performance.now();
      Atomics.store(a, 0, i + 1);
      Atomics.notify(a, 0);
      while (Atomics.load(a, 1) !== i + 1) Atomics.wait(a, 1, i);
      record(performance.now() - t0);
    }
    finish();
    Atomics.store(a, 0, -1); // stop
    Atomics.notify(a, 0);
  } else if (kind === 'messageport') {
    const port = workerData.port;
    let t0 = 0;
    const ping = () => {
      t0 = performance.now();
      port.postMessage(i);
    };
    port.on('message', () => {
      record(performance.now() - t0);
      if (next()) ping();
      else {
        finish();
        port.close(); // the main side sees 'close'
      }
    });
    next();
    ping();
  } else {
    throw new Error(`unknown worker kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------
// Child side: one case, one run; the main thread answers. Prints one JSON line.
// ---------------------------------------------------------------------------

/** The kernel thread id of the calling thread. */
function threadId() {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

/** Starts the Worker; `go()` pins the two threads (if asked) and lets the Worker start. */
function startWorker(data, transferList, pin) {
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(self, { workerData: { ...data, ctl: ctl.buffer, mainTid: threadId() }, transferList });
  let onTid;
  const tid = new Promise((resolve) => (onTid = resolve));
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => (m.type === 'tid' ? onTid(m.tid) : m.type === 'result' && resolve(m)));
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`worker exited (${code}) before reporting`)));
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const go = async () => {
    const workerTid = await Promise.race([tid, result]);
    if (pin === 'split') {
      // Main thread on CPU 0, Worker on CPU 1: every wake crosses CPUs.
      execFileSync('taskset', ['-pc', '0', String(threadId())], { stdio: 'ignore' });
      execFileSync('taskset', ['-pc', '1', String(workerTid)], { stdio: 'ignore' });
    }
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  return { worker, result, exited, go };
}

async function childMain(name, warmup, warmupMs, trips, pin) {
  const params = { warmup, warmupMs, trips };
  let run;
  let cleanup = () => {};

  if (name === 'butter-uv' || name === 'butter-epoll') {
    const { EventFd, eventfd, eventfdWrite, readinessBackend, constants } = await import('butter');
    const want = CASES[name].backend;
    if (readinessBackend() !== want) throw new Error(`expected backend ${want}, got ${readinessBackend()}`);
    const ev = new EventFd();
    const replyFd = eventfd(0, constants.EFD_CLOEXEC); // blocking: the Worker sleeps in read()
    run = startWorker({ kind: 'butter', ...params, evFd: ev.fd, replyFd }, [], pin);
    await run.go();
    for await (const n of ev) {
      if (n >= STOP) break;
      eventfdWrite(replyFd, 1n);
    }
    cleanup = () => {
      ev.close();
      closeSync(replyFd);
    };
  } else if (name === 'eventfd-block') {
    const { eventfd, eventfdRead, eventfdWrite, constants } = await import('butter');
    const pingFd = eventfd(0, constants.EFD_CLOEXEC);
    const pongFd = eventfd(0, constants.EFD_CLOEXEC);
    run = startWorker({ kind: 'eventfd-block', ...params, pingFd, pongFd }, [], pin);
    await run.go();
    while (eventfdRead(pingFd) < STOP) eventfdWrite(pongFd, 1n); // blocks the main thread
    cleanup = () => {
      closeSync(pingFd);
      closeSync(pongFd);
    };
  } else if (name === 'floor' || name === 'waitAsync') {
    const a = new Int32Array(new SharedArrayBuffer(8));
    run = startWorker({ kind: 'atomics', ...params, sab: a.buffer }, [], pin);
    await run.go();
    let seen = 0;
    for (;;) {
      if (name === 'floor') {
        Atomics.wait(a, 0, seen); // blocks the main thread
      } else {
        const w = Atomics.waitAsync(a, 0, seen);
        if (w.async) await w.value;
      }
      seen = Atomics.load(a, 0);
      if (seen < 0) break;
      Atomics.store(a, 1, seen);
      Atomics.notify(a, 1);
    }
  } else if (name === 'messageport') {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m) => port1.postMessage(m));
    run = startWorker({ kind: 'messageport', ...params, port: port2 }, [port2], pin);
    await run.go();
    cleanup = () => port1.close();
  } else {
    throw new Error(`unknown case ${name}`);
  }

  const r = await run.result;
  cleanup();
  await run.exited;
  const lat = Array.from(r.lat, (ms) => ms * 1000); // microseconds
  process.stdout.write(
    `${JSON.stringify({
      name,
      trips,
      wallMs: r.wall,
      cpuUs: r.cpuUs,
      mainUs: r.mainUs,
      workerUs: r.workerUs,
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      // Every 4th sample keeps the pooled percentiles across rounds honest at a quarter of the output.
      lat: lat.filter((_, i) => i % 4 === 0).map((x) => Math.round(x * 100) / 100),
    })}\n`,
  );
}

// ---------------------------------------------------------------------------
// Parent: runs every case in child processes, interleaved, and reports.
// ---------------------------------------------------------------------------

const PLACEMENTS = {
  split: 'main thread pinned to CPU 0, Worker to CPU 1 (every wake crosses CPUs)',
  free: 'unpinned (the scheduler places the threads)',
};

function runChild(name, warmup, warmupMs, trips, pin) {
  const env = { ...process.env };
  if (CASES[name].backend) env.BUTTER_READINESS = CASES[name].backend;
  const args = [self, '--child', name, '--warmup', String(warmup), '--warmup-ms', String(warmupMs), '--trips', String(trips), '--pin', pin];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`case ${name}: child exited with ${signal ?? code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`case ${name}: bad output ${JSON.stringify(out.slice(0, 200))}`));
      }
    });
  });
}

function summarize(rs) {
  const lat = rs.flatMap((x) => x.lat);
  const trips = rs.reduce((s, x) => s + x.trips, 0);
  return {
    runs: rs,
    trips,
    rtps: trips / (rs.reduce((s, x) => s + x.wallMs, 0) / 1000),
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    cpu: rs.reduce((s, x) => s + x.cpuUs, 0) / trips,
    cpuMain: rs.reduce((s, x) => s + x.mainUs, 0) / trips,
    cpuWorker: rs.reduce((s, x) => s + x.workerUs, 0) / trips,
  };
}

/**
 * Paired ratios: run r of case `a` against run r of case `b` (adjacent in time, so
 * they share whatever state the VM's host was in), one ratio per round.
 */
function paired(a, b, field) {
  const rs = a.runs.map((x, i) => (field === 'cpu' ? x.cpuUs / x.trips / (b.runs[i].cpuUs / b.runs[i].trips) : x.p50 / b.runs[i].p50));
  return { median: median(rs), min: min(rs), max: max(rs) };
}

const fmtRatio = (r) => `${r.median.toFixed(2)}x (${r.min.toFixed(2)}..${r.max.toFixed(2)})`;

function report(names, stats) {
  const floor = stats.floor;
  const mp = stats.messageport;
  console.log(
    table(
      ['case', 'round trips/s', 'p50 µs', 'p99 µs', 'CPU µs/trip', 'p50 / floor', 'p50 / MessagePort', 'CPU / MessagePort'],
      names.map((n) => {
        const s = stats[n];
        return [
          CASES[n].label,
          fmt(s.rtps, 0),
          fmt(s.p50, 1),
          fmt(s.p99, 1),
          fmt(s.cpu, 1),
          floor ? fmtRatio(paired(s, floor, 'p50')) : '',
          mp ? fmtRatio(paired(s, mp, 'p50')) : '',
          mp ? fmtRatio(paired(s, mp, 'cpu')) : '',
        ];
      }),
    ),
  );
  console.log('\nCPU µs per round trip by thread (scheduler accounting, /proc/.../schedstat):\n');
  console.log(
    table(
      ['case', 'main thread', 'Worker', 'other threads', 'total'],
      names.map((n) => {
        const s = stats[n];
        return [CASES[n].label, fmt(s.cpuMain, 1), fmt(s.cpuWorker, 1), fmt(Math.max(0, s.cpu - s.cpuMain - s.cpuWorker), 1), fmt(s.cpu, 1)];
      }),
    ),
  );
  if (!floor || !mp) return;
  console.log();
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  for (const n of names.filter((x) => CASES[x].backend)) {
    const f = paired(stats[n], floor, 'p50').median;
    const m = paired(stats[n], mp, 'p50').median;
    const c = paired(stats[n], mp, 'cpu').median;
    console.log(
      `  ${CASES[n].label}: p50 ${f.toFixed(2)}x floor (<= 1.05: ${verdict(f <= 1.05)}), ` +
        `${m.toFixed(2)}x MessagePort (< 1: ${verdict(m < 1)}), CPU ${c.toFixed(2)}x MessagePort (< 1: ${verdict(c < 1)})`,
    );
  }
}

async function parentMain(opts) {
  const names = opts.cases.split(',');
  for (const n of names) if (!CASES[n]) throw new Error(`unknown case ${n}; known: ${Object.keys(CASES).join(', ')}`);
  let placements = opts.placements.split(',');
  for (const p of placements) if (!PLACEMENTS[p]) throw new Error(`unknown placement ${p}; known: ${Object.keys(PLACEMENTS).join(', ')}`);
  if (placements.includes('split') && (availableParallelism() < 2 || spawnSync('taskset', ['-V']).status !== 0)) {
    console.log('Skipping the split placement: it needs 2 CPUs and taskset (util-linux).');
    placements = placements.filter((p) => p !== 'split');
  }
  const rounds = Number(opts.rounds);
  const trips = Number(opts.trips);
  const warmup = Number(opts.warmup);
  const warmupMs = Number(opts['warmup-ms']);

  printMachine('bench/eventfd.mjs: Worker -> main thread wake latency (round trips)');
  console.log(
    `${rounds} runs x ${trips.toLocaleString('en-US')} timed round trips per case and placement (after at least ${warmup} warm-up round trips and ${warmupMs} ms), ` +
      'each run a fresh child process, cases interleaved.',
  );
  console.log("p50/p99 over all runs' samples (every 4th kept); round trips/s = timed trips / timed wall time;");
  console.log('CPU = process.cpuUsage() user+system of the child over the timed trips (all its threads) / trips.');
  console.log('Ratios: median (min..max) over rounds of run-vs-run ratios within the same round (paired in time).');
  await checkIdle();

  const started = performance.now();
  const others = otherLoad();
  const runs = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const p of placements) {
      for (const n of names) {
        const key = `${p}/${n}`;
        if (!runs.has(key)) runs.set(key, []);
        runs.get(key).push(await runChild(n, warmup, warmupMs, trips, p));
      }
    }
  }
  for (const p of placements) {
    console.log(`\n## Placement: ${p}, ${PLACEMENTS[p]}\n`);
    report(names, Object.fromEntries(names.map((n) => [n, summarize(runs.get(`${p}/${n}`))])));
  }
  console.log(`\nTargets (issue 2): p50 within 5% of the floor and below MessagePort's, CPU per round trip below MessagePort's.`);
  console.log(`Total ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  reportOtherLoad(others());
}

// ---------------------------------------------------------------------------

if (!isMainThread) {
  await workerMain();
} else {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      pin: { type: 'string', default: 'split' },
      rounds: { type: 'string', default: '6' },
      trips: { type: 'string', default: '4000' },
      warmup: { type: 'string', default: '400' },
      'warmup-ms': { type: 'string', default: '300' },
      cases: { type: 'string', default: Object.keys(CASES).join(',') },
      placements: { type: 'string', default: 'split,free' },
    },
  });
  if (values.child) await childMain(values.child, Number(values.warmup), Number(values['warmup-ms']), Number(values.trips), values.pin);
  else await parentMain(values);
}
