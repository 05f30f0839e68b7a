// Files written into freshly created directories: does a consumer that asked
// only for `close_write` learn of every one of them? Butter's watch() and, if
// it is on PATH, `inotifywait -m -r -e close_write` watch the same root side by
// side while the system's own tools write:
//
//   mkdir  mkdir -p tK/a/b/c && echo x > tK/a/b/c/f          (1 file)
//   cp     cp -r <a small tree> tK                          (3 directories, 4 files)
//   tar    mkdir tK && tar xf <the same tree as a tarball> -C tK
//
//   node bench/newdirs.mjs [--trials 1000] [--gaps 50,5] [--install]
//
// --trials is per gap, shared out over the shapes in turn; a gap is the pause
// after a writer exits before the next starts (50 ms: an idle watcher; 5 ms: a
// warm one). --install runs `apt-get install -y inotify-tools` first when
// inotifywait is missing (nothing is installed without it).
//
// Capture rate: files reported as complete / files written. Each watcher runs
// in a process of its own (one's JavaScript would otherwise delay the others'
// wakes), all at once, over the same trials:
//   butter          watch(root, { recursive: true, events: ['close_write'] }):
//                   "kernel" counts the close_write events the kernel gave,
//                   "+ scanned" also those a scan of a new directory reported
//                   (`scanned: true`): what its consumer learns;
//   butter, JS adds the same with an ignore predicate that ignores nothing: the
//                   native side cannot ask a predicate, so JavaScript watches
//                   each new directory when its event reaches the watcher;
//   butter, buffer  the same as butter with `buffer`: the reading thread
//                   watches new directories;
//   inotifywait     -m -r -e close_write.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { watch } from 'butter';
import { fileURLToPath } from 'node:url';
import { table, printMachine, checkIdle, otherLoad, reportOtherLoad, track, killChildren, forkRole, message } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const CONFIGS = {
  butter: {},
  js: { ignore: () => false },
  buffer: { buffer: 1 << 20 },
};

/** A watcher child: watches `root` until told to stop, then sends the paths of its close_write events. */
async function watcherChild({ config, root }) {
  const kernel = [];
  const scanned = [];
  const w = watch(root, { recursive: true, events: ['close_write'], ...CONFIGS[config] }, (e) => {
    if (e.type === 'close_write') (e.scanned ? scanned : kernel).push(e.path);
  });
  await w.ready;
  process.send({ type: 'ready' });
  process.on('message', () => {
    w.close();
    process.send({ type: 'result', kernel, scanned }, () => process.exit(0));
  });
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  await watcherChild(JSON.parse(process.argv[childAt + 1]));
  await new Promise(() => {}); // until the parent says stop
}

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '1000' },
    gaps: { type: 'string', default: '50,5' },
    install: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(opts.trials);
const GAPS = opts.gaps.split(',').map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

if (!onPath('inotifywait') && opts.install) {
  const r = spawnSync('apt-get', ['install', '-y', 'inotify-tools'], { stdio: 'inherit' });
  if (r.status !== 0) console.log('apt-get install -y inotify-tools failed; running without inotifywait.\n');
}
const withInotifywait = onPath('inotifywait');

/** A small tree (outside the watched root) and its tarball: what cp and tar write. */
function fixtures(base) {
  const src = join(base, 'src');
  for (const d of ['x', 'x/y', 'x/y/z']) fs.mkdirSync(join(src, d), { recursive: true });
  const files = ['top', 'x/one', 'x/y/two', 'x/y/z/three'];
  for (const f of files) fs.writeFileSync(join(src, f), `${f}\n`);
  const tarball = join(base, 'tree.tar');
  const r = spawnSync('tar', ['cf', tarball, '-C', src, '.']);
  if (r.status !== 0) throw new Error(`tar cf: ${r.stderr}`);
  return { src, tarball, files };
}

function shapes({ src, tarball, files }) {
  return [
    { name: 'mkdir -p + 1 file', cmd: (t) => `mkdir -p ${t}/a/b/c && echo x > ${t}/a/b/c/f`, files: (t) => [`${t}/a/b/c/f`] },
    { name: 'cp -r (3 dirs, 4 files)', cmd: (t) => `cp -r ${src} ${t}`, files: (t) => files.map((f) => `${t}/${f}`) },
    { name: 'tar x (3 dirs, 4 files)', cmd: (t) => `mkdir ${t} && tar xf ${tarball} -C ${t}`, files: (t) => files.map((f) => `${t}/${f}`) },
  ];
}

function run(cmd) {
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: exit ${code}`))));
  });
}

/** inotifywait on `root`; resolves once its watches are established, with the set of paths it reported. */
async function startInotifywait(root) {
  const c = track(spawn('inotifywait', ['-m', '-r', '-e', 'close_write', '--format', '%w%f', root], { stdio: ['ignore', 'pipe', 'pipe'] }), 'inotifywait');
  const seen = new Set();
  let rest = '';
  c.stdout.setEncoding('utf8').on('data', (s) => {
    const lines = (rest + s).split('\n');
    rest = lines.pop();
    for (const l of lines) seen.add(l);
  });
  await new Promise((resolve, reject) => {
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (s) => {
      err += s;
      if (err.includes('Watches established')) resolve();
    });
    c.exited.then((code) => reject(new Error(`inotifywait exited (${code}): ${err}`)));
  });
  return { seen, stop: () => c.kill('SIGTERM') };
}

async function measure(gap, fx) {
  const root = fs.mkdtempSync(join(os.tmpdir(), 'butter-newdirs-'));
  const children = Object.keys(CONFIGS).map((config) => forkRole(SELF, { config, root }, `watcher ${config}`));
  await Promise.all(children.map((c) => message(c, 'ready')));
  const iw = withInotifywait ? await startInotifywait(root) : null;
  const list = shapes(fx);
  const perShape = list.map(() => []);
  try {
    for (let k = 0; k < TRIALS; k++) {
      const s = k % list.length;
      const t = join(root, `t${k}`);
      await run(list[s].cmd(t));
      perShape[s].push(...list[s].files(t));
      await sleep(gap);
    }
    await sleep(500);
  } finally {
    iw?.stop();
  }
  const results = {};
  for (const [i, config] of Object.keys(CONFIGS).entries()) {
    children[i].send({ type: 'stop' });
    const r = await message(children[i], 'result');
    results[config] = { kernel: new Set(r.kernel), all: new Set([...r.kernel, ...r.scanned]) };
  }
  fs.rmSync(root, { recursive: true, force: true });
  const pct = (n, d) => `${((100 * n) / d).toFixed(1)}% (${n}/${d})`;
  return list.map((shape, s) => {
    const files = perShape[s];
    const count = (set) => pct(files.filter((f) => set.has(f)).length, files.length);
    const row = [shape.name, String(gap), count(results.js.kernel), count(results.butter.kernel), count(results.buffer.kernel), count(results.butter.all)];
    if (iw) row.push(pct(files.filter((f) => iw.seen.has(f)).length, files.length));
    return row;
  });
}

printMachine('newdirs: close_write of files written into new directories');
await checkIdle();
const load = otherLoad();
const base = fs.mkdtempSync(join(os.tmpdir(), 'butter-newdirs-fx-'));
try {
  const fx = fixtures(base);
  const rows = [];
  for (const gap of GAPS) rows.push(...(await measure(gap, fx)));
  const header = ['shape', 'gap ms', 'Butter, JS adds: kernel', 'Butter: kernel', 'Butter, buffer: kernel', 'Butter: + scanned'];
  if (withInotifywait) header.push('inotifywait');
  else console.log('inotifywait is not on PATH (--install installs inotify-tools): Butter only.\n');
  console.log(table(header, rows));
  console.log('');
  reportOtherLoad(load());
} finally {
  killChildren();
  fs.rmSync(base, { recursive: true, force: true });
}
