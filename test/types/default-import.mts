// `import butter from 'butter'` (and the subpaths' defaults), as run time allows:
// checked under node16, nodenext and bundler resolution (test/types.test.mjs).
import butter from 'butter';
import timers from 'butter/timers';
import timersPromises from 'butter/timers/promises';

export async function checks(): Promise<void> {
  const pid: number = butter.getpid();
  const ev: InstanceType<typeof butter.EventFd> = new butter.EventFd();
  ev.close();
  const t = timers.setTimeout(() => {}, 1);
  timers.clearTimeout(t);
  await timersPromises.setTimeout(1);
  void pid;
}
