// Shared helpers for the benchmark scripts: statistics, formatting, machine facts.
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
