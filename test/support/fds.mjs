// The fds a test left open, told apart from those the runtime opened or closed
// on its own meanwhile (Node 22+'s libuv rings, a Worker's leftovers): a count
// alone moves with those, one down as easily as one up.
import { readdirSync, readlinkSync } from 'node:fs';

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

/** The fds open now that were not open, naming the same thing, in `before` (from `openFds()`), as "fd -> target". */
export function fdsOpenedSince(before) {
  const opened = [];
  for (const [fd, target] of openFds()) if (before.get(fd) !== target) opened.push(`${fd} -> ${target}`);
  return opened;
}
