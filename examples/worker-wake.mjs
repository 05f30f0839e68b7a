// Wake the main thread from a Worker without a message round trip.
// Run: node examples/worker-wake.mjs
import { EventFd } from 'butter';
import { Worker } from 'node:worker_threads';

const ready = new EventFd();
const worker = new Worker(new URL('./worker-wake-producer.mjs', import.meta.url), { workerData: ready.fd });

let received = 0n;
for await (const n of ready) {
  // n: the sum written since the last wake (more than 1 when writes outpace the reader)
  received += n;
  console.log(`woke with ${n}, ${received} so far`);
  if (received === 10n) break;
}
ready.close();
await new Promise((resolve) => worker.once('exit', resolve));
