'use strict';
// The fuzz tests against the addon built with AddressSanitizer and UBSan (part
// of `npm test`; see docs/development.md). The build happens in a copy of the
// package in a temporary directory, so build/Release is left as it is. Fails
// when the build or a test fails, or when a sanitizer reports anything: ASan's
// reports go to files (checked here, so one from a child counts whatever the
// child's test made of it); UBSan ignores log_path and ends the process that
// hit it (halt_on_error), which fails its test (the fuzz tests check the exit
// status of every child).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tests = ['test/fuzz.test.mjs', 'test/fuzz-families.test.mjs'];

function gccLib(name) {
  const r = spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' });
  const file = r.status === 0 ? r.stdout.trim() : '';
  // gcc echoes the bare name when it has no such library.
  if (!path.isAbsolute(file)) throw new Error(`test-sanitizers: gcc has no ${name} (install gcc's ASan and UBSan runtimes)`);
  return file;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-sanitize-'));
try {
  const preload = [gccLib('libasan.so'), gccLib('libubsan.so')].join(' ');
  for (const p of ['package.json', 'binding.gyp', 'scripts', 'src/native', 'src/helper', 'dist', 'test']) {
    fs.cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  // build/Debug, the only build in the copy, so the loader takes it.
  const build = spawnSync('node-gyp', ['rebuild', '--debug', '--', '-Dbutter_sanitize=1'], { cwd: dir, encoding: 'utf8' });
  if (build.error) throw build.error;
  if (build.status !== 0) throw new Error(`test-sanitizers: the sanitizer build failed:\n${build.stdout}${build.stderr}`);
  const reports = path.join(dir, 'reports');
  fs.mkdirSync(reports);
  const env = {
    ...process.env,
    LD_PRELOAD: preload,
    // Leaks are not checked: Node's own allocations at exit would drown the report.
    ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${reports}/asan`,
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
  const r = spawnSync(process.execPath, ['--test', '--test-timeout=300000', ...tests], { cwd: dir, env, stdio: 'inherit' });
  if (r.error) throw r.error;
  const passed = r.status === 0;
  const found = fs.readdirSync(reports);
  for (const f of found) process.stderr.write(`test-sanitizers: ${f}:\n${fs.readFileSync(path.join(reports, f), 'utf8')}\n`);
  if (!passed || found.length > 0) {
    process.stderr.write(`test-sanitizers: ${passed ? `${found.length} sanitizer report(s)` : 'the fuzz tests failed under the sanitizers'}\n`);
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
