// benchmarks/profiler.mjs — what the profiler costs: tokens/s of a fixed
// evaluate workload with profiling off and on (several repetitions, median),
// and the overhead. Measures and prints; asserts nothing. Target: on costs
// under 2%.
//
//   node benchmarks/profiler.mjs [--model <file.gguf> | --model stories] [--threads N] [--reps N]
//                                [--decode-tokens K] [--prompt-tokens P] [--root <package dir>] [--out <file.json>]
//
// Workloads, each timed from JS around model.evaluate():
//   decode   K one-token evaluations (the matrix-vector path decode runs), tokens/s = K / time
//   prefill  one evaluation of P tokens (the matrix-matrix path), tokens/s = P / time
// Each is reported per wall second and per CPU second of the process.
// Modes: "off" (no session: every zone is one not-taken branch) and "on" (a
// session records every zone and samples counters every 10 ms). Repetitions
// alternate off/on so drift hits both alike.
//
// The default model is a synthetic llama written once into the temp folder:
// 8 layers, 1024 wide, Q8_0 weights (about 113 MB), so an op takes long enough
// for a per-op zone cost to be measured at its real proportion. `--model
// stories` uses ../shared/models/stories260K.gguf (a 1 MB model where ops take
// microseconds: the worst case for per-op zones).
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
    o[a.slice(2)] = argv[++i];
  }
  return o;
}

function int(v, fallback) {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${v}`);
  return n;
}

// ---------------------------------------------------------------- a synthetic Q8_0 llama

function toHalf(x) {
  // binary16 of a positive normal float (all we need: block scales)
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = (u >>> 13) & 0x3ff;
  return (exp << 10) | mant;
}

let seed = 0x9e3779b9;
function fillRandom(bytes) {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  let x = seed;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  seed = x;
}

function q8Tensor(rows, cols, std) {
  const blocks = (rows * cols) / 32;
  const bytes = new Uint8Array(Math.ceil((blocks * 34) / 4) * 4);
  fillRandom(bytes);
  const d = toHalf(std / 73.9); // a uniform int8 has a standard deviation of about 73.9
  for (let b = 0; b < blocks; b++) {
    bytes[b * 34] = d & 0xff;
    bytes[b * 34 + 1] = d >>> 8;
  }
  return { type: 8, dims: [cols, rows], data: bytes.subarray(0, blocks * 34) };
}

function f32Ones(n) {
  return { type: 0, dims: [n], data: new Uint8Array(new Float32Array(n).fill(1).buffer) };
}

function writeSyntheticModel(file, c) {
  const Q = c.heads * c.headDim, KV = c.kvHeads * c.headDim;
  const tensors = [
    ['token_embd.weight', () => q8Tensor(c.vocab, c.embd, 1)],
    ['output_norm.weight', () => f32Ones(c.embd)],
    ['output.weight', () => q8Tensor(c.vocab, c.embd, 1 / Math.sqrt(c.embd))],
  ];
  for (let l = 0; l < c.layers; l++) {
    const w = (rows, cols) => () => q8Tensor(rows, cols, 1 / Math.sqrt(cols));
    tensors.push(
      [`blk.${l}.attn_norm.weight`, () => f32Ones(c.embd)],
      [`blk.${l}.attn_q.weight`, w(Q, c.embd)],
      [`blk.${l}.attn_k.weight`, w(KV, c.embd)],
      [`blk.${l}.attn_v.weight`, w(KV, c.embd)],
      [`blk.${l}.attn_output.weight`, w(c.embd, Q)],
      [`blk.${l}.ffn_norm.weight`, () => f32Ones(c.embd)],
      [`blk.${l}.ffn_gate.weight`, w(c.ff, c.embd)],
      [`blk.${l}.ffn_up.weight`, w(c.ff, c.embd)],
      [`blk.${l}.ffn_down.weight`, w(c.embd, c.ff)],
    );
  }
  const kv = [
    ['general.architecture', 'str', 'llama'],
    ['general.name', 'str', 'hyperion synthetic benchmark model'],
    ['llama.context_length', 'u32', 2048],
    ['llama.embedding_length', 'u32', c.embd],
    ['llama.block_count', 'u32', c.layers],
    ['llama.feed_forward_length', 'u32', c.ff],
    ['llama.attention.head_count', 'u32', c.heads],
    ['llama.attention.head_count_kv', 'u32', c.kvHeads],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', 1e-5],
    ['llama.rope.freq_base', 'f32', 10000],
  ];
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { u64(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  u32(0x46554747); // "GGUF"
  u32(3);
  u64(tensors.length);
  u64(kv.length);
  for (const [key, type, value] of kv) {
    str(key);
    if (type === 'str') { u32(8); str(value); }
    else if (type === 'u32') { u32(4); u32(value); }
    else { u32(6); const b = Buffer.alloc(4); b.writeFloatLE(value); parts.push(b); }
  }
  // tensor infos need each tensor's size: build them (one at a time later) from the shapes
  const made = [];
  let offset = 0;
  for (const [name, make] of tensors) {
    const t = make();
    made.push({ name, t, offset });
    offset += Math.ceil(t.data.byteLength / 32) * 32;
    str(name);
    u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(t.type);
    u64(made[made.length - 1].offset);
  }
  const header = Buffer.concat(parts);
  const dataStart = Math.ceil(header.length / 32) * 32;
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, header);
  fs.writeSync(fd, Buffer.alloc(dataStart - header.length));
  for (const { t } of made) {
    fs.writeSync(fd, t.data);
    const pad = Math.ceil(t.data.byteLength / 32) * 32 - t.data.byteLength;
    if (pad) fs.writeSync(fd, Buffer.alloc(pad));
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

function modelPath() {
  if (args.model === 'stories') {
    const shared = process.env.HYPERION_SHARED_DIR ?? path.join(here, '..', '..', 'shared');
    return path.join(shared, 'models', 'stories260K.gguf');
  }
  if (args.model) return path.resolve(args.model);
  const c = { vocab: 8192, embd: 1024, layers: 8, ff: 2816, heads: 16, kvHeads: 4, headDim: 64 };
  const dir = path.join(os.tmpdir(), 'hyperion-bench');
  const file = path.join(dir, `synthetic-llama-q8_0-${c.layers}x${c.embd}-ff${c.ff}-v${c.vocab}.gguf`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const t = Date.now();
    writeSyntheticModel(file, c);
    console.log(`wrote ${file} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB) in ${Date.now() - t} ms`);
  }
  return file;
}

// ---------------------------------------------------------------- measuring

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const file = modelPath();
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

const modes = hasProfiler ? ['off', 'on'] : ['off'];
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
    const on = hasProfiler ? median(samples[name].on.map((s) => s[clock])) : null;
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
