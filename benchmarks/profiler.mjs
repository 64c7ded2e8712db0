// benchmarks/profiler.mjs — what the profiler costs: tokens/s of a fixed
// evaluate workload with profiling off and on (several repetitions, median),
// and the overhead. Measures and prints; asserts nothing. Target: on costs
// under 2%.
//
//   node benchmarks/profiler.mjs [--model <file.gguf> | --model stories] [--threads N] [--reps N]
//                                [--decode-tokens K] [--prompt-tokens P] [--root <package dir>] [--off-only]
//                                [--out <file.json>]
//
// Workloads, each timed from JS around model.evaluate():
//   decode   K one-token evaluations (the matrix-vector path decode runs), tokens/s = K / time
//   prefill  one evaluation of P tokens (the matrix-matrix path), tokens/s = P / time
// Each is reported per wall second and per CPU second of the process.
// Modes: "off" (no session: every zone is one not-taken branch) and "on" (a
// session records every zone and samples counters every 10 ms). Repetitions
// alternate off/on so drift hits both alike.
//
// The default model is made once by the model maker into the temp folder: the
// stories110m shape (12 layers, 768 wide, 32000 vocabulary) with Q8_0 weights,
// about 140 MB, so an op takes long enough for a per-op zone cost to show at its
// real proportion. `--model stories` uses ../shared/models/stories260K.gguf (a
// 1 MB model whose ops take about a microsecond: the worst case for per-op zones).
//
// --root points at another build of the package (its dist/ and build/): use it
// to compare "off" with a build that has no zones at all, e.g. main before the
// profiler was wired in (only "off" is measured when that build has no profiler).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
const root = path.resolve(args.root ?? path.join(here, '..'));
const require = createRequire(path.join(root, 'package.json'));
const h = require(path.join(root, 'dist', 'cjs', 'index.js'));
const threads = int(args.threads, 2);
const reps = int(args.reps, 9);
const decodeTokens = int(args['decode-tokens'], 16);
const promptTokens = int(args['prompt-tokens'], 64);
const out = path.resolve(args.out ?? path.join(here, 'results', 'profiler.json'));

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    o[a.slice(2)] = i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[++i] : true;
  }
  return o;
}

function int(v, fallback) {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${v}`);
  return n;
}

// ---------------------------------------------------------------- the model

async function modelPath() {
  if (args.model === 'stories') {
    const shared = process.env.HYPERION_SHARED_DIR ?? path.join(here, '..', '..', 'shared');
    return path.join(shared, 'models', 'stories260K.gguf');
  }
  if (args.model) return path.resolve(args.model);
  const dir = path.join(os.tmpdir(), 'hyperion-bench');
  const file = path.join(dir, 'stories110m-q8_0-seed1.gguf');
  if (!fs.existsSync(file)) {
    if (typeof h.makeModel !== 'function') throw new Error(`${root} has no makeModel: pass --model <file.gguf>`);
    fs.mkdirSync(dir, { recursive: true });
    const made = await h.makeModel(file, { shape: 'stories110m', type: 'q8_0', seed: 1 });
    console.log(`made ${file} (${(made.bytes / 1e6).toFixed(0)} MB) in ${made.ms.toFixed(0)} ms`);
  }
  return file;
}

// ---------------------------------------------------------------- measuring

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const file = await modelPath();
const model = await h.loadModel(file, { threads });
const vocab = model.info.vocabSize;
const ids = (n, salt) => Array.from({ length: n }, (_, i) => (i * 7919 + salt * 104729 + 17) % vocab);
const hasProfiler = typeof h.startProfiling === 'function';
if (hasProfiler) h.initProfiler({ trackFunctions: true, trackMemory: true, trackCache: false, sampleIntervalMs: 10 });

// tokens per wall second, and per CPU second of the whole process (the pool's
// spinning included): on a machine shared with other work the CPU figure is the
// steadier one, since time spent descheduled does not count
async function timed(tokens, work) {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  await work();
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(cpu);
  return { wall: tokens / wall, cpu: tokens / ((used.user + used.system) / 1e6) };
}

async function decodeRun() {
  return timed(decodeTokens, async () => {
    for (let k = 0; k < decodeTokens; k++) await model.evaluate([(k * 31 + 5) % vocab]);
  });
}

async function prefillRun() {
  const prompt = ids(promptTokens, 1);
  return timed(promptTokens, () => model.evaluate(prompt));
}

async function measure(run, on) {
  if (on) h.startProfiling();
  try {
    return await run();
  } finally {
    if (on) await h.stopProfiling();
  }
}

// warm-up: page the weights in, wake the pool, run the machine probes
await decodeRun();
await prefillRun();
if (hasProfiler) await h.getMachineLimits();

const modes = hasProfiler && !args['off-only'] ? ['off', 'on'] : ['off'];
const samples = { decode: { off: [], on: [] }, prefill: { off: [], on: [] } };
let zonesPerRun = { decode: 0, prefill: 0 };
for (let r = 0; r < reps; r++) {
  const order = r % 2 ? [...modes].reverse() : modes;
  for (const mode of order) {
    samples.decode[mode].push(await measure(decodeRun, mode === 'on'));
    if (mode === 'on') zonesPerRun.decode = (await h.getProfile()).events;
    samples.prefill[mode].push(await measure(prefillRun, mode === 'on'));
    if (mode === 'on') zonesPerRun.prefill = (await h.getProfile()).events;
  }
}
await model.dispose();

const result = {
  benchmark: 'profiler overhead',
  date: new Date().toISOString(),
  root,
  model: { path: file, layers: model.info.layers, embedding: model.info.embeddingLength, types: Object.keys(model.info.tensorTypes), bytes: model.info.fileSize },
  threads,
  reps,
  cpu: h.getCpuFeatures().modelName,
  workloads: {},
};
console.log(`model ${path.basename(file)}, ${threads} thread(s), ${reps} repetitions (median)${hasProfiler ? '' : ' — this build has no profiler: "off" only'}`);
console.log('workload                  clock    off tok/s    on tok/s   overhead   zones/run');
for (const [name, label] of [['decode', `decode (${decodeTokens} x 1 token)`], ['prefill', `prefill (${promptTokens} tokens)`]]) {
  result.workloads[name] = { zonesPerRun: zonesPerRun[name], samples: samples[name] };
  for (const clock of ['wall', 'cpu']) {
    const off = median(samples[name].off.map((s) => s[clock]));
    const on = modes.includes('on') ? median(samples[name].on.map((s) => s[clock])) : null;
    const overhead = on === null ? null : (off - on) / off;
    result.workloads[name][clock] = { offTokensPerSecond: off, onTokensPerSecond: on, overhead };
    console.log(
      `${(clock === 'wall' ? label : '').padEnd(24)} ${clock.padStart(6)} ${off.toFixed(2).padStart(12)} ` +
        `${(on === null ? '-' : on.toFixed(2)).padStart(11)} ${(overhead === null ? '-' : `${(overhead * 100).toFixed(2)}%`).padStart(10)} ` +
        `${String(clock === 'wall' ? zonesPerRun[name] || '-' : '').padStart(11)}`,
    );
  }
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${out}`);
