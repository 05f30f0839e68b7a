// A periodic timer that keeps count of the ticks the event loop was too busy to see.
// Run: node examples/timerfd.mjs
import { TimerFd } from 'butter';

const timer = new TimerFd();                   // CLOCK_MONOTONIC
timer.set(10, { interval: 10 });                // in 10 ms, then every 10 ms
let ticks = 0n;
let blocked = false;
try {
  for await (const ev of timer) {
    ticks += ev.expirations;
    console.log(`${ev.expirations} expiration(s), ${ticks} in all`);
    if (ticks >= 3n && !blocked) {
      blocked = true;
      const end = Date.now() + 50;              // block the loop for 50 ms
      while (Date.now() < end);
    }
    if (ticks >= 10n) break;
  }
} finally {
  timer.close();
}
