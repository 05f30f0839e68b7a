// Signals as events, with their sender and the value sigqueue(3) sent along.
// Run: node examples/signals.mjs
import { SignalFd, sigqueue } from 'butter';

let signals;
try {
  signals = new SignalFd(['SIGUSR1', 'SIGTERM']);
} catch (err) {
  // Bun: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, with the reason.
  console.error(`${err.code}: ${err.message}`);
  process.exit(1);
}
setTimeout(() => sigqueue(process.pid, 'SIGUSR1', 42), 10);
const s = await signals.read();
console.log(`${s.name} from pid ${s.pid} (uid ${s.uid}, ${s.codeName}) with value ${s.int}`);
signals.close();
