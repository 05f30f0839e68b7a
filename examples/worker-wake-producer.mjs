// The Worker side of worker-wake.mjs: it only needs the fd number.
import { eventfdWrite } from 'butter';
import { workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';

for (let i = 0; i < 10; i++) {
  eventfdWrite(workerData, 1n);
  await sleep(10);
}
