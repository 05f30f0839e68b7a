/**
 * What the commands that run on Butter's objects (`watch`, `fatrace`) share:
 * usage errors, loading the addon only when a command runs, and error texts
 * in the tools' own style.
 */
import type { Io } from './main';

type Butter = typeof import('../index');

/** A bad command line: printed with the usage text. */
export class UsageError extends Error {}

/**
 * Parses `args` with `parse`; on a usage error (ours, or `util.parseArgs`'s)
 * prints it with `usage` and returns null. Other errors are Butter's bugs and go on.
 */
export function parseOrUsage<T>(name: string, usage: string, parse: (args: string[]) => T, args: string[], io: Io): T | null {
  try {
    return parse(args);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(err instanceof UsageError) && !(typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) throw err;
    io.err(`butter ${name}: ${(err as Error).message}\n\nUsage: ${usage}\n`);
    return null;
  }
}

/** The package, or null (said on stderr) when its addon does not load. */
export function loadButter(name: string, io: Io): Butter | null {
  try {
    // Loaded here, not imported: `butter --help` must work without the addon (see main.ts).
    return require('../index') as Butter;
  } catch (err) {
    io.err(`butter ${name}: Butter's native addon does not load (run \`butter doctor\`): ${describe(err)}\n`);
    return null;
  }
}

/** An error as the C tools word it: strerror's text, capitalized, without Node's syscall and path. */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const m = /^[A-Z0-9]+: (.*?)(?:, [a-z_0-9]+(?: '.*')?)?$/s.exec(err.message);
  const text = m?.[1] ?? err.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
