// What a test file opens and must not leave behind: fds and scratch directories.
// A leak check compares which fds are open, not how many: the runtime opens and
// closes fds of its own meanwhile (Node 22+'s libuv rings, a Worker's
// leftovers), so a count moves one down as easily as one up.
import { after } from 'node:test';
import { closeSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The open fds, each with what it names. */
export function openFds() {
  const fds = new Map();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the listing's own fd, closed by now
    }
  }
  return fds;
}

/**
 * The fds open now that were not open, naming the same thing, in `before`
 * (from `openFds()`), as "fd -> target". A new fd on the process's own stdin,
 * stdout or stderr is the runtime's (Bun opens one for output written to a
 * file), not a test's.
 */
export function fdsOpenedSince(before) {
  const now = openFds();
  const stdio = new Set(['0', '1', '2'].map((fd) => now.get(fd)));
  const opened = [];
  for (const [fd, target] of now) if (before.get(fd) !== target && !stdio.has(target)) opened.push(`${fd} -> ${target}`);
  return opened;
}

/**
 * An array for the file's tests to push the fds they open to; each one still
 * open is closed after the file's tests, so a test that fails half-way leaves
 * none behind.
 */
export function closedAfter() {
  const opened = [];
  after(() => {
    for (const fd of opened) {
      try {
        closeSync(fd);
      } catch {
        // closed by its test already
      }
    }
  });
  return opened;
}

/** A new directory under the system's temp dir, removed with its contents after the file's tests. */
export function scratchDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `butter-${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `keep(object)` returns the object and closes it (`object.close()`) after the file's tests: Node 20 has no `using`. */
export function closeAfterTests() {
  const kept = [];
  after(() => {
    for (const object of kept) object.close();
  });
  return (object) => (kept.push(object), object);
}
