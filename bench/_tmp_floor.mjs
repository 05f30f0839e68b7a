import { createRequire } from 'node:module';
const require = createRequire('/work/main/bench/x.mjs');
const a = require('/tmp/napifloor/build/Release/floor.node');
const b = require('/tmp/napifloor/build/Release/floor2.node');
const { getpid } = await import('butter');
const N = 1e6;
function mk(name, f) { return new Function('t', `return function ${name}(n){let s=0;for(let i=0;i<n;i++){const r=t(); s+= r|0;}return s}`)(f); }
const cs = { butterGetpid: getpid, napiGetpid: a.napiGetpid, napiNoop: a.napiNoop, napiConst: a.napiConst, v8Getpid: b.v8Getpid, v8Noop: b.v8Noop, napiSysNoRet: a.napiSysNoRet, napiGetpidDouble: a.napiGetpidDouble, napiGetpidU32: a.napiGetpidU32, v8SysNoRet: b.v8SysNoRet };
const loops = Object.fromEntries(Object.entries(cs).map(([k, f]) => [k, mk(k, f)]));
for (const l of Object.values(loops)) for (let i = 0; i < 3; i++) l(N);
const res = {};
for (let r = 0; r < 9; r++) for (const [k, l] of Object.entries(loops)) { const t0 = process.hrtime.bigint(); l(N); (res[k] ??= []).push(Number(process.hrtime.bigint() - t0) / N); }
for (const [k, v] of Object.entries(res)) { v.sort((x, y) => x - y); console.log(k.padEnd(14), v[4].toFixed(1)); }
