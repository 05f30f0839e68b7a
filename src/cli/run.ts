/**
 * `butter run`: bubblewrap's command line on Butter's sandboxed spawn(), so a
 * script written for `bwrap` can switch: the same options (those listed in
 * `help`), in the same order-sensitive way (`--perms` and `--size` apply to
 * the next mount), and the same exit status: the command's, 128 + N when a
 * signal N ended it, 1 when the sandbox could not be set up.
 */
import type { SpawnOptions } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { CAPABILITIES, capabilityBit } from '../core/capabilities';
import { loadButter, parseOrUsage, UsageError } from './common';
import type { Command, Io } from './main';
import type { Namespace, SandboxMount, SandboxOptions } from '../high/sandbox';
import type { SeccompNotify } from '../high/seccomp-notify';

const EXIT_FAILURE = 1;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;

interface Parsed {
  /** `--help` came before the command. */
  help?: boolean;
  /** Root's own capabilities, kept as bwrap keeps them: not made ambient. */
  rootDefault: boolean;
  sandbox: SandboxOptions & { namespaces: Namespace[]; mounts: SandboxMount[] };
  env: NodeJS.ProcessEnv;
  chdir: string | undefined;
  /** Where the seccomp programs are read from (`--seccomp`, `--add-seccomp-fd`), in order. */
  seccompFds: number[];
  /** `--seccomp-supervise`: the last program's denials are logged, with the process that made each. */
  supervise?: boolean;
  command: string[];
}

/** bwrap's --unshare-all: cgroup and user only where they can be had ('-try'), which here means always asked for. */
const ALL: Namespace[] = ['user', 'ipc', 'pid', 'net', 'uts', 'cgroup'];

/** The capabilities this process's children can hold (its bounding set): `ALL`. */
function boundingSet(): string[] {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const mask = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

const BPF_RET_K = 0x06;
const SECCOMP_RET_ACTION_FULL = 0xffff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_USER_NOTIF = 0x7fc00000;

/** `program` with every `ret ERRNO(n)` made `ret USER_NOTIF`: what it denies comes to the supervisor instead. */
function notifyInsteadOfErrno(program: Uint8Array): Uint8Array {
  const copy = Buffer.from(program);
  for (let at = 0; at + 8 <= copy.length; at += 8) {
    if (copy.readUInt16LE(at) === BPF_RET_K && ((copy.readUInt32LE(at + 4) & SECCOMP_RET_ACTION_FULL) >>> 0) === SECCOMP_RET_ERRNO) {
      copy.writeUInt32LE(SECCOMP_RET_USER_NOTIF, at + 4);
    }
  }
  return copy;
}

/**
 * Answers each notification with what the original program says for it (the
 * same syscall, arguments and architecture) and prints the denial with the
 * process that made it, as `butter run: denied mkdir (83) for sh[1234]: EPERM`.
 */
async function superviseDenials(notify: SeccompNotify, original: Uint8Array, io: Io): Promise<void> {
  const { seccompInterpret } = require('../high/seccomp') as typeof import('../high/seccomp');
  const names = Object.fromEntries(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
  for await (const n of notify) {
    const arch = n.arch === AUDIT_ARCH_AARCH64 ? 'aarch64' : (n.nr & X32_SYSCALL_BIT) !== 0 ? 'x32' : 'x86_64';
    const verdict = seccompInterpret(original, { nr: n.nr, arch, args: [...n.args], instructionPointer: n.instructionPointer });
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${n.pid}/comm`, 'utf8').trim();
    } catch {
      // gone already: its answer is void too
    }
    io.err(`butter run: denied ${n.syscall ?? 'syscall'} (${n.nr}) for ${comm}[${n.pid}]: ${names[verdict.data] ?? verdict.data}\n`);
    // ERRNO(0) makes the call return 0 without running.
    n.respond(verdict.data === 0 ? { value: 0 } : { error: verdict.data });
  }
}

function parse(args: string[]): Parsed {
  const namespaces = new Set<Namespace>();
  let shareNet = false;
  const mounts: SandboxMount[] = [];
  // As bwrap: root keeps its capabilities unless told otherwise; anyone else keeps none.
  const root = process.getuid!() === 0;
  const caps = new Set<string>(root ? boundingSet() : []);
  let capsGiven = false;
  const sandbox: Parsed['sandbox'] = { namespaces: [], mounts };
  const env: NodeJS.ProcessEnv = { ...process.env };
  let chdir: string | undefined;
  let perms: number | undefined;
  let size: number | undefined;
  let seccompFds: number[] = [];
  let seccompMode: '--seccomp' | '--add-seccomp-fd' | undefined;
  let supervise = false;
  let i = 0;
  const next = (option: string): string => {
    const value = args[++i];
    if (value === undefined) throw new UsageError(`${option} takes an argument`);
    return value;
  };
  const integer = (option: string, text: string, radix = 10): number => {
    const n = Number.parseInt(text, radix);
    if (!/^[0-9a-f]+$/i.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${option}: not a number: ${text}`);
    return n;
  };
  /** --perms applies to the next mount that takes a mode, and only to it. */
  const mode = (): { mode?: number } => {
    const m = perms;
    perms = undefined;
    return m === undefined ? {} : { mode: m };
  };
  const cap = (option: string, name: string): string[] => {
    capsGiven = true;
    if (name.toUpperCase() === 'ALL') return boundingSet();
    const bit = capabilityBit(name);
    if (bit < 0) throw new UsageError(`${option}: unknown capability ${name}`);
    return [CAPABILITIES[bit]!];
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-h' || a === '--help') return { help: true, rootDefault: false, sandbox: { namespaces: [], mounts: [] }, env: {}, chdir: undefined, seccompFds: [], command: [] };
    if (!a.startsWith('--')) break;
    const unshare = /^--unshare-(user|ipc|pid|net|uts|cgroup)(-try)?$/.exec(a);
    if (unshare !== null && (unshare[2] === undefined || unshare[1] === 'user' || unshare[1] === 'cgroup')) {
      namespaces.add(unshare[1] as Namespace);
      continue;
    }
    switch (a) {
      case '--unshare-all': ALL.forEach((ns) => namespaces.add(ns)); break;
      case '--share-net': shareNet = true; break;
      case '--uid': sandbox.uidMap = integer(a, next(a)); break;
      case '--gid': sandbox.gidMap = integer(a, next(a)); break;
      case '--hostname': sandbox.hostname = next(a); break;
      case '--chdir': chdir = next(a); break;
      case '--setenv': { const name = next(a); env[name] = next(a); break; }
      case '--unsetenv': delete env[next(a)]; break;
      // As bwrap: all but PWD.
      case '--clearenv': for (const k of Object.keys(env)) if (k !== 'PWD') delete env[k]; break;
      case '--perms': perms = integer(a, next(a), 8); break;
      case '--size': size = integer(a, next(a)); break;
      case '--bind': case '--bind-try': case '--ro-bind': case '--ro-bind-try': case '--dev-bind': case '--dev-bind-try': {
        const source = next(a);
        const type = a.replace(/^--|-try$/g, '') as 'bind' | 'ro-bind' | 'dev-bind';
        mounts.push({ type, source, target: next(a), optional: a.endsWith('-try') });
        break;
      }
      case '--remount-ro': mounts.push({ type: 'remount-ro', target: next(a) }); break;
      case '--proc': mounts.push({ type: 'proc', target: next(a) }); break;
      case '--dev': mounts.push({ type: 'dev', target: next(a) }); break;
      case '--mqueue': mounts.push({ type: 'mqueue', target: next(a) }); break;
      case '--tmpfs':
        mounts.push({ type: 'tmpfs', target: next(a), ...mode(), ...(size === undefined ? {} : { size }) });
        size = undefined;
        break;
      case '--dir': mounts.push({ type: 'dir', target: next(a), ...mode() }); break;
      case '--file': { const fd = integer(a, next(a)); mounts.push({ type: 'file', fd, target: next(a), ...mode() }); break; }
      case '--symlink': { const source = next(a); mounts.push({ type: 'symlink', source, target: next(a) }); break; }
      case '--new-session': sandbox.newSession = true; break;
      case '--die-with-parent': sandbox.dieWithParent = true; break;
      case '--as-pid-1': sandbox.asPid1 = true; break;
      case '--cap-add': cap(a, next(a)).forEach((c) => caps.add(c)); break;
      case '--cap-drop': cap(a, next(a)).forEach((c) => caps.delete(c)); break;
      case '--seccomp': case '--add-seccomp-fd': {
        if (seccompMode !== undefined && seccompMode !== a) throw new UsageError('--seccomp cannot be combined with --add-seccomp-fd');
        seccompMode = a;
        const fd = integer(a, next(a));
        // As bwrap: the last --seccomp is the one used; every --add-seccomp-fd stacks.
        seccompFds = a === '--seccomp' ? [fd] : [...seccompFds, fd];
        break;
      }
      case '--seccomp-supervise': supervise = true; break;
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  if (shareNet) namespaces.delete('net');
  // bwrap always builds a new root in a mount namespace; without privileges only a user namespace gives one.
  namespaces.add('mount');
  if (!root) namespaces.add('user');
  if (sandbox.asPid1 && !namespaces.has('pid')) throw new UsageError('--as-pid-1 requires --unshare-pid');
  if ((sandbox.uidMap !== undefined || sandbox.gidMap !== undefined) && !namespaces.has('user')) throw new UsageError('--uid and --gid require --unshare-user');
  if (sandbox.hostname !== undefined && !namespaces.has('uts')) throw new UsageError('--hostname requires --unshare-uts');
  const command = args.slice(i);
  if (command.length === 0) throw new UsageError('no command given');
  sandbox.namespaces = [...namespaces];
  // Root as uid 0 inside keeps the caller's bounding set, not the full one a new user namespace brings.
  const rootDefault = root && !capsGiven && namespaces.has('user') && (sandbox.uidMap ?? 0) === 0;
  if (capsGiven || !root || rootDefault) sandbox.capabilities = [...caps];
  // As bwrap: PWD names the directory the command starts in.
  env.PWD = chdir ?? process.cwd();
  if (supervise && seccompFds.length === 0) throw new UsageError('--seccomp-supervise requires --seccomp or --add-seccomp-fd');
  return { rootDefault, sandbox, env, chdir, seccompFds, supervise, command };
}

export const run: Command = {
  name: 'run',
  summary: 'run a command in a sandbox, with bubblewrap\'s (bwrap\'s) command line',
  usage: 'butter run [options] [--] <command> [args...]',
  ownHelp: true,
  help: [
    'Runs the command in new namespaces and a new root built on an empty tmpfs from',
    'the mounts given, in order, as bwrap does. Options (bwrap\'s):',
    '  --unshare-user, -ipc, -pid, -net, -uts, -cgroup (and -user-try, -cgroup-try)',
    '  --unshare-all        all of them; --share-net keeps the network namespace',
    '  --uid UID, --gid GID the ids inside the user namespace',
    '  --hostname NAME      (needs --unshare-uts)',
    '  --chdir DIR          default: the current directory if the sandbox has it, else /',
    '  --setenv VAR VALUE, --unsetenv VAR, --clearenv (keeps PWD)',
    '  --bind SRC DEST, --ro-bind SRC DEST, --dev-bind SRC DEST (and each -try: a missing SRC is skipped)',
    '  --remount-ro DEST, --tmpfs DEST, --proc DEST, --dev DEST, --mqueue DEST',
    '  --dir DEST, --symlink SRC DEST, --file FD DEST (the file holds what FD reads)',
    '  --perms OCTAL        the mode of the next --tmpfs, --dir or --file; --size BYTES of the next --tmpfs',
    '  --new-session, --die-with-parent, --as-pid-1',
    '  --cap-add CAP, --cap-drop CAP (or ALL): the command keeps no capability unless added',
    '  --seccomp FD         a compiled seccomp program (struct sock_filter records) read from FD',
    '  --add-seccomp-fd FD  the same, repeatable: each program stacks (not with --seccomp)',
    '  --seccomp-supervise  (Butter\'s own) print each syscall the last program denies, with its process',
    '',
    'Exit status: the command\'s; 128 + N when signal N ended it; 1 when the sandbox',
    'could not be set up.',
  ].join('\n'),

  async run(args: string[], io: Io): Promise<number> {
    const o = parseOrUsage('run', run.usage, parse, args, io);
    if (o === null) return EXIT_FAILURE;
    if (o.help) {
      io.out(`Usage: ${run.usage}\n\n${run.summary}\n\n${run.help}\n`);
      return 0;
    }
    if (loadButter('run', io) === null) return EXIT_FAILURE;
    const { spawnSandbox } = require('../high/sandbox') as typeof import('../high/sandbox');
    if (o.seccompFds.length > 0) {
      try {
        // As bwrap, the programs are read to their end and their fds closed: the command does not inherit them.
        o.sandbox.seccomp = o.seccompFds.map((fd) => {
          const program = readFileSync(fd);
          closeSync(fd);
          return program;
        });
      } catch (err) {
        io.err(`butter run: cannot read the seccomp program: ${(err as Error).message}\n`);
        return EXIT_FAILURE;
      }
    }
    let denials: ((notify: SeccompNotify) => Promise<void>) | undefined;
    if (o.supervise) {
      const programs = o.sandbox.seccomp as Uint8Array[];
      const original = programs[programs.length - 1]!;
      programs[programs.length - 1] = notifyInsteadOfErrno(original);
      o.sandbox.seccompNotify = { deadline: Infinity };
      denials = (notify) => superviseDenials(notify, original, io);
    }
    const [file, ...rest] = o.command as [string, ...string[]];
    const options: SpawnOptions = { stdio: 'inherit', env: o.env };
    // bwrap keeps the current directory when the sandbox has it.
    const place = o.chdir !== undefined ? { cwd: o.chdir } : { cwd: process.cwd(), cwdTry: true };
    const extras = { ...place, noAmbient: o.rootDefault };
    let child;
    try {
      child = spawnSandbox(file, rest, o.sandbox, options, extras);
      // A sandbox that fails before the listener arrives is reported below, as 'error'.
      if (denials !== undefined) child.seccompNotify!.then(denials, () => {});
    } catch (err) {
      io.err(`butter run: ${(err as Error).message}\n`);
      return EXIT_FAILURE;
    }
    let failed = false;
    child.on('error', (err) => {
      failed = true;
      const step = (err as { step?: unknown }).step;
      io.err(`butter run: ${err.message}${typeof step === 'string' ? ` (${step})` : ''}\n`);
    });
    // A terminal's SIGINT and SIGQUIT reach the command itself (same process group): here they are ignored.
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = new Map<NodeJS.Signals, () => void>([['SIGTERM', forward('SIGTERM')], ['SIGHUP', forward('SIGHUP')], ['SIGINT', () => {}], ['SIGQUIT', () => {}]]);
    for (const [signal, fn] of handlers) process.on(signal, fn);
    const [code, signal] = (await new Promise((resolve) => child.once('close', (...a) => resolve(a)))) as [number | null, NodeJS.Signals | null];
    for (const [sig, fn] of handlers) process.off(sig, fn);
    if (failed) return EXIT_FAILURE;
    if (signal !== null) return 128 + (require('node:os') as typeof import('node:os')).constants.signals[signal];
    return code ?? EXIT_FAILURE;
  },
};
