/**
 * The `butter` command: dispatch to one module per subcommand.
 *
 * A subcommand is a `Command` object in its own module (src/cli/doctor.ts,
 * watch.ts, fatrace.ts, run.ts), listed once in `commands` below. This file
 * must not import the library itself: `butter --help` and `butter --version`
 * have to work even when the native addon cannot load, which is exactly when
 * someone needs `butter doctor` to say why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { doctor } from './doctor';
import { fatrace } from './fatrace';
import { run as runCommand } from './run';
import { watch } from './watch';

/** Where a command writes, and whether it may use colors. */
export interface Io {
  /** Bytes are written as they are (names that are not UTF-8); text as UTF-8. */
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** Stdout is a terminal that takes colors (and NO_COLOR is unset). */
  readonly color: boolean;
  /** Columns to wrap human output at. */
  readonly width: number;
}

/** One subcommand of `butter`. */
export interface Command {
  readonly name: string;
  /** One line for `butter --help`. */
  readonly summary: string;
  /** The synopsis, e.g. `butter doctor [--json]`. */
  readonly usage: string;
  /** Text after the synopsis in `butter <name> --help`. */
  readonly help: string;
  /**
   * Runs with the arguments after the command name and returns the exit code.
   * Argument errors from `util.parseArgs` may be thrown as they are: main turns
   * them into a usage message and exit code 2.
   */
  run(args: string[], io: Io): Promise<number>;
  /** It finds `-h`/`--help` among its own options itself: its arguments carry another program's (`butter run -- ls --help`). */
  readonly ownHelp?: boolean;
}

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
/** A bug in butter itself (sysexits' EX_SOFTWARE), so scripts can tell it from a finding. */
export const EXIT_INTERNAL = 70;

const commands: readonly Command[] = [doctor, watch, fatrace, runCommand];

/** The package's version, from its package.json (dist/cjs/cli -> package root). */
export function version(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
    if (pkg !== null && typeof pkg === 'object' && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Fall through: a missing version must not stop the command.
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  const lines = commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: butter <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s with `butter <command> --help`',
    '  -V, --version  print the version',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary}\n\n${c.help.trimEnd()}\n`;
}

function isUsageError(err: unknown): err is Error {
  // util.parseArgs marks every argument error with an ERR_PARSE_ARGS_* code.
  if (!(err instanceof Error)) return false;
  const { code } = err as NodeJS.ErrnoException;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** Runs `butter` with `args` (without node and the script) and returns the exit code. */
export async function run(args: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    io.err(usage());
    return EXIT_USAGE;
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    const name = rest[0];
    if (name === undefined) {
      io.out(usage());
      return EXIT_OK;
    }
    const c = commands.find((x) => x.name === name);
    if (!c) {
      io.err(`butter: unknown command '${name}'\n\n${usage()}`);
      return EXIT_USAGE;
    }
    io.out(commandHelp(c));
    return EXIT_OK;
  }
  if (first === '-V' || first === '--version') {
    io.out(`${version()}\n`);
    return EXIT_OK;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    const what = first.startsWith('-') ? 'unknown option' : 'unknown command';
    io.err(`butter: ${what} '${first}'\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (!command.ownHelp && (rest.includes('-h') || rest.includes('--help'))) {
    io.out(commandHelp(command));
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (isUsageError(err)) {
      io.err(`butter ${command.name}: ${err.message}\n\nUsage: ${command.usage}\n`);
      return EXIT_USAGE;
    }
    io.err(`butter ${command.name}: internal error (please report it)\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_INTERNAL;
  }
}

/** The entry point of bin/butter.js: `argv` is `process.argv`. */
export async function main(argv: readonly string[]): Promise<void> {
  // `butter doctor | head -1` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const stdout = process.stdout;
  const io: Io = {
    out: (text) => void stdout.write(text),
    err: (text) => void process.stderr.write(text),
    // hasColors() honours NO_COLOR, FORCE_COLOR and TERM=dumb; a pipe or file never gets colors.
    color: stdout.isTTY === true && stdout.hasColors(),
    width: stdout.isTTY === true && stdout.columns > 0 ? Math.min(stdout.columns, 120) : 100,
  };
  // exitCode rather than process.exit(): a piped stdout is written asynchronously and must drain.
  process.exitCode = await run(argv.slice(2), io);
}
