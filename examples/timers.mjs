// Node's timers with a timerfd under each: the same calls, and an interval that
// says how many ticks it missed.
// Run: node examples/timers.mjs
import { setInterval, clearInterval } from 'butter/timers';
import { setTimeout as sleep } from 'butter/timers/promises';

let ticks = 0;
const ticker = setInterval(function () {
  ticks++;
  if (this.overrun > 0) console.log(`tick ${ticks}: ${this.overrun} tick(s) missed`);
  if (ticks === 2) {
    const end = Date.now() + 35;                 // block the loop past three ticks
    while (Date.now() < end);
  }
}, 10);
await sleep(100);
clearInterval(ticker);
console.log(`${ticks} calls in 100 ms`);
