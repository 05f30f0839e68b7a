// Zero-copy benchmarks (issue 14), side by side in one run, over loopback TCP:
//
//  1. A 1 GiB file to a TCP socket: Node's createReadStream().pipe(socket)
//     (64 KiB chunks), the same with 1 MiB chunks, Python's socket.sendfile,
//     and Butter's sendFile. The receiver is the same C sink for all.
//  2. A TCP proxy between a C source (1 GiB from memory) and the C sink: Node's
//     stream.pipeline both ways, a C splice proxy (bench/splice_ref.c, compiled
//     here), and Butter's proxy().
//  3. Copying a 1 GiB file: fs.copyFile, `cp --reflink=auto` and Butter's copyFile.
//
// What is counted: throughput is bytes over the sink's time from accept to EOF
// (no process start-up in it). CPU is each process's own getrusage/cpuUsage
// (user + system, all its threads: libuv's pool, Butter's work threads) over
// the same span, measured inside the process: the sender's (or proxy's) alone,
// and with the sink's (+ the source's, for the proxy) as "all ends".
//
//   node bench/splice.mjs [--size-mib 1024] [--rounds 3] [--parts send,proxy,copy]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { fmt, median, ratio, table, printMachine, checkIdle, otherLoad, reportOtherLoad, track, killChildren } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const HERE = dirname(SELF);
const GIB = 2 ** 30;

// ---------------------------------------------------------------- children (node roles)

/** Runs `body()` with CPU and wall time measured around it; prints the line splice_ref prints. */
async function measured(body) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const bytes = await body();
  const c = process.cpuUsage(c0);
  console.log(`bytes ${bytes} ns ${process.hrtime.bigint() - t0} cpu_ns ${(c.user + c.system) * 1000}`);
}

async function child(o) {
  const butter = o.role.includes('butter') ? await import(join(HERE, '..', 'dist', 'esm', 'index.mjs')) : null;
  if (o.role.startsWith('send-')) {
    const s = net.connect(o.port, '127.0.0.1');
    await once(s, 'connect');
    await measured(async () => {
      if (o.role === 'send-butter') {
        const n = await butter.sendFile(s, o.file);
        s.end();
        await once(s, 'finish');
        return n;
      }
      fs.createReadStream(o.file, { highWaterMark: o.role === 'send-node-1m' ? 2 ** 20 : undefined }).pipe(s);
      await once(s, 'finish');
      return s.bytesWritten;
    });
    s.destroy();
    return;
  }
  // proxies: accept one connection, join it to the upstream port
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  console.log(`port ${server.address().port}`);
  const [a] = await once(server, 'connection');
  server.close();
  await measured(async () => {
    const b = net.connect(o.up, '127.0.0.1');
    await once(b, 'connect');
    if (o.role === 'butter-proxy') {
      const r = await butter.proxy(a, b);
      return r.aToB + r.bToA;
    }
    // The second pipeline to end finds its streams destroyed by the first: premature close, as expected of a proxy.
    await Promise.allSettled([pipeline(a, b), pipeline(b, a)]);
    return a.bytesRead + b.bytesRead;
  });
}

// ---------------------------------------------------------------- the runner

/** Starts a child that prints "port N" and then "bytes B ns T cpu_ns C"; resolves `port` and `result`. */
function start(cmd, args, what) {
  const c = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }), what);
  let buf = '';
  let gotPort;
  let gotResult;
  const port = new Promise((r) => (gotPort = r));
  const result = new Promise((resolve, reject) => {
    gotResult = resolve;
    // 'close', not 'exit': its last line may still be in the pipe when it exits.
    c.on('close', (code) => reject(new Error(`${what} exited (${code}) without a result`)));
  });
  c.stdout.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      const line = buf.slice(0, i);
      let m;
      if ((m = /^port (\d+)$/.exec(line))) gotPort(Number(m[1]));
      else if ((m = /^bytes (\d+) ns (\d+) cpu_ns (\d+)$/.exec(line))) gotResult({ bytes: Number(m[1]), ns: Number(m[2]), cpu: Number(m[3]) / 1e9 });
    }
  });
  return { port, result, exited: c.exited };
}

const nodeRole = (role, extra) => [process.execPath, [SELF, '--child', JSON.stringify({ role, ...extra })]];

const PY_SEND = `
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
t0 = time.monotonic_ns(); c0 = time.process_time_ns()
with open(sys.argv[2], 'rb') as f: n = s.sendfile(f)
s.shutdown(socket.SHUT_WR)
print(f'bytes {n} ns {time.monotonic_ns() - t0} cpu_ns {time.process_time_ns() - c0}', flush=True)
`;

function senders(file) {
  return {
    'Node createReadStream().pipe(socket)': (port) => nodeRole('send-node', { port, file }),
    'Node, 1 MiB chunks': (port) => nodeRole('send-node-1m', { port, file }),
    "Python socket.sendfile": (port) => ['python3', ['-c', PY_SEND, String(port), file]],
    'Butter sendFile': (port) => nodeRole('send-butter', { port, file }),
  };
}

function proxies(ref) {
  return {
    'Node pipeline(a, b) both ways': (up) => nodeRole('node-proxy', { up }),
    'C splice proxy (1 MiB pipes)': (up) => [ref, ['proxy', String(up), String(2 ** 20)]],
    'Butter proxy()': (up) => nodeRole('butter-proxy', { up }),
  };
}

async function runSend(ref, file, rounds) {
  const cases = senders(file);
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, make] of Object.entries(cases)) {
      const sink = start(ref, ['sink'], 'sink');
      const [cmd, args] = make(await sink.port);
      const sender = start(cmd, args, name);
      const [s, snd] = await Promise.all([sink.result, sender.result]);
      await Promise.all([sink.exited, sender.exited]);
      samples[name].push({ gbps: s.bytes / s.ns, cpu: snd.cpu / (s.bytes / GIB), all: (snd.cpu + s.cpu) / (s.bytes / GIB) });
    }
  }
  return samples;
}

async function runProxy(ref, size, rounds) {
  const cases = proxies(ref);
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, make] of Object.entries(cases)) {
      const sink = start(ref, ['sink'], 'sink');
      const [cmd, args] = make(await sink.port);
      const px = start(cmd, args, name);
      const source = start(ref, ['source', String(await px.port), String(size)], 'source');
      const [s, p, src] = await Promise.all([sink.result, px.result, source.result]);
      await Promise.all([sink.exited, px.exited, source.exited]);
      samples[name].push({ gbps: s.bytes / s.ns, cpu: p.cpu / (s.bytes / GIB), all: (p.cpu + s.cpu + src.cpu) / (s.bytes / GIB) });
    }
  }
  return samples;
}

function report(samples, base, againstLabel) {
  const names = Object.keys(samples);
  const med = (name, key) => median(samples[name].map((x) => x[key]));
  const rows = names.map((n) => [
    n,
    fmt(med(n, 'gbps')),
    fmt(med(n, 'cpu'), 3),
    fmt(med(n, 'all'), 3),
    ratio(med(n, 'gbps'), med(base, 'gbps')),
    ratio(med(n, 'cpu'), med(base, 'cpu')),
  ]);
  console.log(table(['case', 'GB/s', 'CPU-s/GiB (it)', 'CPU-s/GiB (all ends)', `throughput vs ${againstLabel}`, `CPU/GiB vs ${againstLabel}`], rows));
  console.log();
}

async function runCopy(file, rounds) {
  const dst = `${file}.copy`;
  const { copyFile } = await import(join(HERE, '..', 'dist', 'esm', 'index.mjs'));
  const cases = {
    'fs.promises.copyFile': () => fs.promises.copyFile(file, dst),
    'cp --reflink=auto': async () => {
      const r = spawnSync('cp', ['--reflink=auto', file, dst]);
      if (r.status !== 0) throw new Error(`cp: ${r.stderr}`);
    },
    'Butter copyFile': () => copyFile(file, dst),
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const size = fs.statSync(file).size;
  for (let r = 0; r < rounds; r++) {
    // Each round in another order, and every copy after a sync: the previous copy's writeback is not the next one's.
    const order = Object.entries(cases);
    for (let k = 0; k < r % order.length; k++) order.push(order.shift());
    for (const [name, run] of order) {
      fs.rmSync(dst, { force: true });
      execFileSync('sync');
      const t0 = process.hrtime.bigint();
      await run();
      samples[name].push(size / Number(process.hrtime.bigint() - t0));
    }
  }
  fs.rmSync(dst, { force: true });
  const base = 'fs.promises.copyFile';
  const med = (n) => median(samples[n]);
  console.log(table(['case', 'GB/s', 'vs fs.copyFile'], Object.keys(samples).map((n) => [n, fmt(med(n)), ratio(med(n), med(base))])));
  console.log(`(${fs.statfsSync(dirname(file)).type === 0xef53 ? 'ext4' : 'this filesystem'}, page cache warm, after a sync; wall time of the whole copy, open to close)\n`);
}

async function main() {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, rounds: { type: 'string', default: '3' }, parts: { type: 'string', default: 'send,proxy,copy' } } });
  const size = Number(values['size-mib']) * 2 ** 20;
  const rounds = Number(values.rounds);
  const parts = values.parts.split(',');
  printMachine('splice: zero-copy file sends, proxies and copies');
  const dir = fs.mkdtempSync(join(tmpdir(), 'butter-splice-bench-'));
  process.on('exit', () => {
    killChildren();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ref = join(dir, 'splice_ref');
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-pthread', '-o', ref, join(HERE, 'splice_ref.c')], { stdio: 'inherit' });
  const file = join(dir, 'data');
  if (parts.includes('send') || parts.includes('copy')) {
    execFileSync('head', ['-c', String(size), '/dev/urandom'], { stdio: ['ignore', fs.openSync(file, 'w'), 'inherit'] });
    execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // into the page cache
  }
  await checkIdle();
  const load = otherLoad();
  console.log(`${fmt(size / GIB, 2)} GiB per transfer, median of ${rounds} rounds\n`);
  if (parts.includes('send')) {
    console.log('## File to TCP socket\n');
    report(await runSend(ref, file, rounds), 'Node createReadStream().pipe(socket)', 'Node pipe');
  }
  if (parts.includes('proxy')) {
    console.log('## TCP proxy (C source -> proxy -> C sink)\n');
    report(await runProxy(ref, size, rounds), 'Node pipeline(a, b) both ways', 'Node pipeline');
  }
  if (parts.includes('copy')) {
    console.log('## Copy a file\n');
    await runCopy(file, rounds);
  }
  reportOtherLoad(load());
}

const i = process.argv.indexOf('--child');
if (i >= 0) await child(JSON.parse(process.argv[i + 1]));
else await main();
