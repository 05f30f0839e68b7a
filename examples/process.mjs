// The kernel's own ids, asked fresh each time: a Worker is a thread of the
// same process, so it shares the pid and has a thread id of its own.
// Run: node examples/process.mjs
import { getpid, getppid, gettid } from 'butter';
import { Worker } from 'node:worker_threads';

console.log(`main thread: pid ${getpid()}, tid ${gettid()}, parent ${getppid()}`);
const source = `
  const { getpid, gettid } = require('butter');
  require('node:worker_threads').parentPort.postMessage({ pid: getpid(), tid: gettid() });
`;
const worker = new Worker(source, { eval: true });
const { pid, tid } = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
console.log(`worker:      pid ${pid}, tid ${tid}`);
await worker.terminate();
