// Shared helpers for the benchmark scripts: statistics, formatting, machine facts,
// child processes.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The q-quantile (0..1) of an array of numbers, by linear interpolation. Does not modify `values`. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

export function min(values) {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

export function max(values) {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** Formats a number with `digits` decimals (default: 3 significant digits, at least 0 decimals). */
export function fmt(value, digits) {
  if (!Number.isFinite(value)) return String(value);
  if (digits === undefined) {
    const a = Math.abs(value);
    digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  }
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

/** A plain-text table (also valid Markdown): `rows` are arrays of cells, `align` 'l'/'r' per column. */
export function table(header, rows, align = header.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const width = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (align[i] === 'l' ? c.padEnd(width[i]) : c.padStart(width[i]))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (align[i] === 'l' ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

/** Facts about the machine, for the header of a run and for docs/benchmarks.md. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {}
  return {
    kernel: os.release(),
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

export function printMachine(title) {
  const m = machine();
  console.log(`# ${title}`);
  console.log(`kernel ${m.kernel}, ${m.cpus} CPUs (${m.cpu}), ${m.memory}, Node ${m.node}, ${m.date}\n`);
}

function cpuTimes() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const v = f.map(Number);
  const idle = v[3] + (v[4] || 0); // idle + iowait
  return { idle, total: v.reduce((a, b) => a + b, 0) };
}

/**
 * How busy the machine is (0..1, all CPUs) over the next `ms` milliseconds while
 * this process sleeps: other work running during a benchmark makes its numbers noisy.
 */
export async function systemBusy(ms = 500) {
  try {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuTimes();
    return 1 - (b.idle - a.idle) / (b.total - a.total || 1);
  } catch {
    return NaN;
  }
}

/** Prints a warning when the machine is not idle before a run. */
export async function checkIdle() {
  const busy = await systemBusy();
  const pct = (busy * 100).toFixed(0);
  if (busy > 0.1) console.log(`WARNING: the machine was ${pct}% busy just before this run; expect noisy numbers.\n`);
  else console.log(`Machine ${pct}% busy just before this run.\n`);
  return busy;
}

function ownTicks() {
  // /proc/self/stat: utime stime cutime cstime are fields 14-17 (after the "(comm)" field).
  const st = readFileSync('/proc/self/stat', 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number);
  return f[11] + f[12] + f[13] + f[14];
}

/**
 * Watches how much CPU everything else on the machine uses while a benchmark runs:
 * call at the start; the returned function gives the fraction of all CPUs (0..1)
 * busy with work other than this process and its waited-for children.
 */
export function otherLoad() {
  try {
    const a = cpuTimes();
    const own = ownTicks();
    return () => {
      const b = cpuTimes();
      const busy = b.total - a.total - (b.idle - a.idle);
      return Math.max(0, (busy - (ownTicks() - own)) / (b.total - a.total || 1));
    };
  } catch {
    return () => NaN;
  }
}

export function reportOtherLoad(fraction) {
  const pct = (fraction * 100).toFixed(0);
  if (fraction > 0.05) console.log(`WARNING: other work used ${pct}% of the machine's CPU during this run; the numbers are disturbed.`);
  else console.log(`Other work on the machine during this run: ${pct}% of its CPU.`);
}

// ---- child processes ----

/** Every child a bench started and that has not exited: `killChildren()` on the way out. */
const children = new Set();

/** Tracks child `c`: `c.exited` resolves with its exit code (or signal), `c.what` names it in errors. */
export function track(c, what) {
  children.add(c);
  c.what = what;
  c.exited = new Promise((r) => c.on('exit', (code, sig) => {
    children.delete(c);
    r(code ?? sig);
  }));
  return c;
}

/**
 * A Node child (IPC) running `file --child <args as JSON>`, named `what`;
 * `message(c, type)` takes its messages by type, in any order.
 */
export function forkRole(file, args, what, execArgv = []) {
  const c = track(fork(file, ['--child', JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }), what);
  c.queue = [];
  c.waiters = [];
  c.on('message', (m) => {
    const i = c.waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) c.waiters.splice(i, 1)[0].resolve(m);
    else c.queue.push(m);
  });
  c.exited.then((code) => {
    for (const w of c.waiters.splice(0)) w.reject(new Error(`${what} exited (${code}) before '${w.type}'`));
  });
  return c;
}

/** The next message of `type` from a `forkRole` child (one that came already, or the next). */
export function message(c, type, timeoutMs = 60000) {
  const i = c.queue.findIndex((m) => m.type === type);
  if (i >= 0) return Promise.resolve(c.queue.splice(i, 1)[0]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${c.what}: timeout waiting for '${type}'`)), timeoutMs);
    c.waiters.push({ type, resolve: (m) => { clearTimeout(t); resolve(m); }, reject: (e) => { clearTimeout(t); reject(e); } });
  });
}

/** SIGKILLs every tracked child still running. */
export function killChildren() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
}
