// benchmarks/memory.mjs — what the memory debugger costs. Measures and prints;
// asserts nothing (tests never assert speed).
//   node benchmarks/memory.mjs [--model path.gguf] [--rounds 5] [--evals 300] [--out file.json]
//
// 1. Decode speed through the public API: model.evaluate() of one token (a
//    fresh context each call: KV cache, activations and scratch are allocated
//    and freed every token, so the allocator is on the path), and a 128-token
//    evaluation, with the debugger off, tracking on, stacks on, and guard pages
//    sampled (1%). Modes alternate within each round (short rounds, so a busy
//    machine hits every mode alike); the table shows the median round and the
//    best round (the least disturbed: the better estimate on a loaded machine).
// 2. The cost of one hyperionAlloc/hyperionFree pair in each mode (a native
//    loop, test hook), for a small and a large block.
// Writes a table to stdout and JSON to benchmarks/results/memory.json (or --out).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const h = require('../dist/cjs/index.js');
const { native } = require('../dist/cjs/native.js');

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const sharedDir = process.env.HYPERION_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const modelPath = opt('model', path.join(sharedDir, 'models', 'stories260K.gguf'));
const rounds = Number(opt('rounds', 15));
const evals = Number(opt('evals', 100));
const out = opt('out', path.join(here, 'results', 'memory.json'));

const MODES = {
  off: { reset: true },
  tracking: { reset: true, trackAllocations: true },
  stacks: { reset: true, trackStackTraces: true },
  'guard 1%': { reset: true, enableGuardPages: { sampleRate: 0.01 } },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const best = (xs) => Math.max(...xs);
const pct = (x, base) => `${(((x - base) / base) * 100).toFixed(1)}%`;

// Tokens per second of wall time, and the process's CPU time per token (user +
// system, all threads): the second is less disturbed by other processes on a
// busy machine.
async function decodeRate(model, n) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await model.evaluate([1 + (i % 500)]);
  const cpu = process.cpuUsage(c0);
  results.decodeCpuUs[currentMode]?.push((cpu.user + cpu.system) / n);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}
let currentMode = null;

async function prefillRate(model, n) {
  const tokens = Array.from({ length: 128 }, (_, i) => (i * 7) % 512);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await model.evaluate(tokens);
  return (n * tokens.length) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const results = { model: null, rounds, evals, decode: {}, decodeCpuUs: {}, prefill: {}, allocFreeNs: {} };

if (fs.existsSync(modelPath)) {
  const model = await h.loadModel(modelPath, { threads: 1 });
  results.model = { path: modelPath, parameters: model.info.parameters, threads: model.info.threads };
  for (const mode of Object.keys(MODES)) {
    results.decode[mode] = [];
    results.decodeCpuUs[mode] = [];
    results.prefill[mode] = [];
  }
  await decodeRate(model, 50); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const [mode, config] of Object.entries(MODES)) {
      h.initMemory(config);
      currentMode = mode;
      results.decode[mode].push(await decodeRate(model, evals));
      currentMode = null;
      results.prefill[mode].push(await prefillRate(model, Math.max(5, evals / 20)));
    }
  }
  h.initMemory({ reset: true });
  await model.dispose();
} else {
  console.log(`(${modelPath} is absent: decode speed not measured)`);
}

// alloc/free pairs: native loop, timed on the main thread; modes interleaved,
// the fastest of the rounds kept (the least disturbed)
const SIZES = [64, 4096, 262144];
const PAIR_MODES = { ...MODES, 'guard all': { reset: true, enableGuardPages: 'all' } };
for (const mode of Object.keys(PAIR_MODES)) results.allocFreeNs[mode] = Object.fromEntries(SIZES.map((s) => [s, Infinity]));
for (let r = 0; r < 7; r++) {
  for (const [mode, config] of Object.entries(PAIR_MODES)) {
    h.initMemory(config);
    for (const size of SIZES) {
      const n = mode === 'guard all' ? 5000 : 50000;
      if (r === 0) native()._test.allocFreeLoop(n / 10, size); // warm up
      results.allocFreeNs[mode][size] = Math.min(results.allocFreeNs[mode][size], native()._test.allocFreeLoop(n, size));
    }
  }
}
h.initMemory({ reset: true });

// ---- table ------------------------------------------------------------------------
if (results.model) {
  console.log(`\ntokens/s through model.evaluate (${path.basename(modelPath)}, 1 thread, ${rounds} rounds; change vs off)`);
  console.log('mode        decode median          decode best            prefill(128) median    prefill(128) best');
  const cell = (xs, base, f) => `${f(xs).toFixed(0).padStart(7)} ${pct(f(xs), f(base)).padStart(7)}`.padEnd(23);
  for (const mode of Object.keys(MODES)) {
    const d = results.decode[mode], p = results.prefill[mode];
    console.log(`${mode.padEnd(11)} ${cell(d, results.decode.off, median)}${cell(d, results.decode.off, best)}${cell(p, results.prefill.off, median)}${cell(p, results.prefill.off, best)}`);
  }
  console.log('\nCPU time per decoded token (µs, all threads; change vs off)');
  console.log('mode        median                 best');
  const least = (xs) => Math.min(...xs);
  const cpuCell = (xs, base, f) => `${f(xs).toFixed(1).padStart(7)} ${pct(f(xs), f(base)).padStart(7)}`.padEnd(23);
  for (const mode of Object.keys(MODES)) {
    const c = results.decodeCpuUs[mode];
    console.log(`${mode.padEnd(11)} ${cpuCell(c, results.decodeCpuUs.off, median)}${cpuCell(c, results.decodeCpuUs.off, least)}`);
  }
  console.log(`(load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')})`);
}
console.log('\none hyperionAlloc + hyperionFree pair, ns');
console.log('mode        ' + SIZES.map((s) => `${s} B`.padStart(10)).join(''));
for (const [mode, row] of Object.entries(results.allocFreeNs)) {
  console.log(mode.padEnd(12) + SIZES.map((s) => row[s].toFixed(1).padStart(10)).join(''));
}

results.summary = {};
if (results.model) {
  for (const mode of Object.keys(MODES)) {
    const over = (f, xs, base) => ((f(base) - f(xs)) / f(base)) * 100;
    results.summary[mode] = {
      decodeTokensPerSecondMedian: median(results.decode[mode]),
      decodeTokensPerSecondBest: best(results.decode[mode]),
      decodeOverheadPercentMedian: over(median, results.decode[mode], results.decode.off),
      decodeOverheadPercentBest: over(best, results.decode[mode], results.decode.off),
      decodeCpuUsPerTokenMedian: median(results.decodeCpuUs[mode]),
      decodeCpuOverheadPercentMedian: ((median(results.decodeCpuUs[mode]) - median(results.decodeCpuUs.off)) / median(results.decodeCpuUs.off)) * 100,
      prefillTokensPerSecondMedian: median(results.prefill[mode]),
      prefillTokensPerSecondBest: best(results.prefill[mode]),
    };
  }
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`\nwritten: ${path.relative(process.cwd(), out)}`);
