// `npm run bench` — measures and prints; asserts nothing.
// Today: the cost of a native log call (enabled and filtered out), measured on
// a native thread, and the JS log call. The full suite comes with the engine.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const h = require('../dist/cjs/index.js');
const { native } = require('../dist/cjs/native.js');

h.configureLogging({ level: 'info', console: false, file: null, handler: null, queueCapacity: 1 << 16 });
const n = 50000;
const enabledNs = native()._test.logFromNativeThread(n, 2, 0);
const filteredNs = native()._test.logFromNativeThread(n, 0, 0);
await h.flushLogs(10000);
let t = process.hrtime.bigint();
for (let i = 0; i < n; i++) h.log('info', 'general', 'js record');
const jsNs = Number(process.hrtime.bigint() - t);
await h.flushLogs(10000);
const stats = h.getLogStats();
const rows = [
  ['native log call, enabled (incl. thread start)', enabledNs / n],
  ['native log call, filtered out', filteredNs / n],
  ['JS log call, enabled', jsNs / n],
];
console.log('benchmark                                      ns/call');
for (const [name, ns] of rows) console.log(`${name.padEnd(46)} ${ns.toFixed(1)}`);
console.log(`records dropped: ${stats.droppedQueue} (queue) ${stats.droppedHandler} (handler)`);
