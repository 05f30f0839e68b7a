// Every family has an example in examples/, and each runs as its header says.
// The host name example runs only inside a UTS namespace of its own (and is
// checked to refuse in one shared with its parent), so the machine's name is
// never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './support/child.mjs';

/** family -> its example, and what the example prints when it works. */
const examples = {
  process: ['process.mjs', /^main thread: pid (\d+), tid \1, parent \d+\nworker: +pid \1, tid (?!\1)\d+\n$/],
  eventfd: ['worker-wake.mjs', /woke with \d+, 10 so far\n$/],
  // A loaded machine may stall the loop too, so the total can pass 10.
  timerfd: ['timerfd.mjs', /^(?:.|\n)*\b([2-9]|\d\d) expiration\(s\)(?:.|\n)*, (1\d|[2-9]\d) in all\n$/],
  signals: ['signals.mjs', /^SIGUSR1 from pid \d+ \(uid \d+, SI_QUEUE\) with value 42\n$/],
  inotify: ['inotify.mjs', /^create \S+\/draft\.txt\nclose_write \S+\/draft\.txt\nrename \S+\/draft\.txt -> \S+\/final\.txt\ndelete \S+\/final\.txt\n$/],
  watch: ['watch.mjs', /^create \S+\/a \(dir\)\ncreate \S+\/a\/b \(dir\)\n(?:.*\n)*create \S+\/a\/b\/notes\.txt \n$/],
  timers: ['timers.mjs', /^tick 3: [1-9]\d* tick\(s\) missed\n(?:.*\n)*\d+ calls in 100 ms\n$/],
  fanotify: ['fanotify.mjs', /^create \S+\/draft\.txt by pid (\d+)\nrename \S+\/draft\.txt -> \S+\/final\.txt by pid \1\ndelete \S+\/final\.txt by pid \1\n$/],
  seccomp: ['seccomp.mjs', /^mkdir: EACCES, as the filter says\n(\d+) of \1 threads filtered; \d+ instructions\n$/],
  aio: ['aio.mjs', /^Linux AIO, O_DIRECT: 4096 \+ 4096 \+ 4096 \+ 4096 bytes of \d+\nPOSIX AIO: the same bytes: true\n$/],
  sandbox: ['sandbox.mjs', /^pid 2 on sandbox in \/work\nbin\ndev\nlib\nlib64\nproc\ntmp\nusr\nwork\n\/usr is read-only\nexited with code 0\n$/],
  host: ['hostname-in-namespace.mjs', /^host name here: butter-sandbox \| uname: butter-sandbox\n$/],
  mount: ['mount-in-namespace.mjs', /^tmpfs on scratch: rw,nosuid,nodev\S* \(size=1024k\)\ntmpfs on view: ro,nosuid,nodev\S* \(size=1024k\)\n$/],
  'seccomp-notify': ['seccomp-supervise.mjs', /^sh: in \/tmp\ndenied chdir\("\/etc"\) for sh\[(\d+)\]: EACCES\nsh: cd \/etc refused\ndenied mkdir(?:at)?\("\/tmp\/butter-example-\1"\) for mkdir\[\d+\]: EPERM\nsh: mkdir refused\nsupervised 3 syscalls, denied 2; the shell exited with 0\n$/],
  splice: ['sendfile-http.mjs', /^\/first: sent (\d+) of \1 bytes with sendfile\n\/second: sent \1 of \1 bytes with sendfile\nclient got \/first: \1 bytes, this file\nclient got \/second: \1 bytes, this file\n1 connection\(s\)\n$/],
};

// The suite also runs on Bun and Deno (scripts/runtimes.sh): the examples run on the runtime running it.
const runtimeArgs = 'deno' in process.versions ? ['run', '-A'] : [];

function run(file, prefix = []) {
  const [cmd, ...args] = [...prefix, process.execPath, ...runtimeArgs, join(root, 'examples', file)];
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
}

const canUnshareUts = spawnSync('unshare', ['--uts', 'true'], { stdio: 'ignore' }).status === 0;
const MOUNT_NS = process.getuid() === 0 ? ['unshare', '--mount', '--propagation', 'private'] : ['unshare', '--user', '--map-root-user', '--mount'];
const canUnshareMount = spawnSync(MOUNT_NS[0], [...MOUNT_NS.slice(1), 'true'], { stdio: 'ignore' }).status === 0;

test('every example is one family\'s, and every family has one', () => {
  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs') && f !== 'worker-wake-producer.mjs');
  assert.deepEqual(files.sort(), Object.values(examples).map(([file]) => file).sort());
});

for (const [family, [file, expected]] of Object.entries(examples)) {
  if (family === 'host' || family === 'mount') continue;
  if (family === 'splice' && ('bun' in process.versions || 'deno' in process.versions)) {
    test(`splice: examples/${file} says why a socket cannot be taken over here`, () => {
      const r = run(file);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /The argument 'out' (has no libuv handle on this runtime to take its fd from|is not backed by an fd of its own)/);
    });
    continue;
  }
  if (family === 'signals' && 'bun' in process.versions) {
    test(`signals: examples/${file} says why it cannot run on Bun`, () => {
      const r = run(file);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^ERR_FEATURE_UNAVAILABLE_ON_PLATFORM: SignalFd and blockSignals are unavailable on bun: .*epoll_pwait2/);
    });
    continue;
  }
  test(`${family}: examples/${file} runs`, () => {
    const r = run(file);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.match(r.stdout, expected);
  });
}

test('host: the example sets the name inside `unshare --uts`', { skip: !canUnshareUts && 'unshare --uts is not permitted here' }, () => {
  const r = run(examples.host[0], ['unshare', '--uts']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, examples.host[1]);
});

test('host: the example refuses in a UTS namespace it shares with its parent, and leaves the name alone', { skip: !canUnshareUts && 'unshare --uts is not permitted here' }, () => {
  // The shell is the parent and shares the fresh namespace: it stands for the machine.
  const example = join(root, 'examples', examples.host[0]);
  const r = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname before; "$@"; echo "exit $?"; hostname', 'sh', process.execPath, ...runtimeArgs, example], { encoding: 'utf8', timeout: 30_000 });
  assert.match(r.stderr, /^refusing: .*\nrun it as: unshare --uts /);
  assert.equal(r.stdout, 'exit 2\nbefore\n');
});

// Deno's fs.closeSync closes only fds Deno opened: the raw fds fsmount and openTree return are not (README, Runtimes).
const denoFds = 'deno' in process.versions && "Deno's fs.closeSync refuses fds it did not open";

test('mount: the example mounts inside a mount namespace of its own', { skip: (!canUnshareMount && 'unshare --mount is not permitted here') || denoFds }, () => {
  const r = run(examples.mount[0], MOUNT_NS);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, examples.mount[1]);
});

test('mount: the example refuses in a mount namespace it shares with its parent, and mounts nothing', { skip: !canUnshareMount && 'unshare --mount is not permitted here' }, () => {
  // The shell is the parent and shares the fresh namespace: it stands for the machine.
  const example = join(root, 'examples', examples.mount[0]);
  const r = spawnSync(MOUNT_NS[0], [...MOUNT_NS.slice(1), 'sh', '-c', 'a=$(cat /proc/self/mountinfo); "$@"; echo "exit $?"; [ "$a" = "$(cat /proc/self/mountinfo)" ] && echo same', 'sh', process.execPath, ...runtimeArgs, example], { encoding: 'utf8', timeout: 30_000 });
  assert.match(r.stderr, /^refusing: .*\nrun it as: unshare --mount /);
  assert.equal(r.stdout, 'exit 2\nsame\n');
});
