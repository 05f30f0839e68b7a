// Preloaded (`node -r`) into each child of bench/load.mjs: at exit, prints the
// CPU time the whole process used (all threads, from getrusage), which other
// work on a shared machine disturbs much less than the wall time does.
'use strict';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${(user + system) / 1000}\n`);
});
