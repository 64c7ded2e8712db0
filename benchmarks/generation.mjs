// benchmarks/generation.mjs — generation seen from Node: event-loop delay
// while generating, abort and timeout latency in the middle of a long prompt,
// and throughput of 1, 2 and 4 concurrent sessions. Prints a table and writes
// JSON (benchmarks/results/generation.json unless --out). Asserts nothing.
//
//   node benchmarks/generation.mjs [--model file.gguf] [--threads N] [--batch N]
//                                  [--prompt-tokens 2048] [--repeats 10] [--out file.json]
//
// Without --model it makes the model maker's `tiny` q4_0 model (context 256,
// so sessions of up to 2,048 positions) in benchmarks/results/. The
// long-prompt figures want a model whose sessions hold the prompt and the
// generated tokens (a session may hold 8 x the trained context: stories260K,
// trained on 128, caps it near 1,024); the report says what was used.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const h = require('../dist/cjs/index.js');
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..');

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '64' },
    'prompt-tokens': { type: 'string', default: '2048' },
    repeats: { type: 'string', default: '10' },
    'decode-tokens': { type: 'string', default: '200' },
    out: { type: 'string', default: path.join(root, 'benchmarks', 'results', 'generation.json') },
  },
});
const threads = Number(args.threads);
const repeats = Number(args.repeats);
const decodeTokens = Number(args['decode-tokens']);
if (!args.model) {
  args.model = path.join(root, 'benchmarks', 'results', 'tiny-q4_0.gguf');
  if (!fs.existsSync(args.model)) {
    fs.mkdirSync(path.dirname(args.model), { recursive: true });
    await h.makeModel(args.model, { shape: 'tiny', type: 'q4_0' });
  }
}
if (!fs.existsSync(args.model)) {
  console.error(`generation benchmark: ${args.model} not found`);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const ms = (ns) => ns / 1e6;

const model = await h.loadModel(args.model, { threads, batchSize: Number(args.batch) });
const maxCtx = Math.min(model.info.contextLength * 8, 1 << 16);
// the abort runs need only the prompt (and one sampled token, never processed)
const promptTokens = Math.min(Number(args['prompt-tokens']), maxCtx);
const longPrompt = Array.from({ length: promptTokens }, (_, i) => (i === 0 ? 1 : 3 + ((i * 7919) % (model.info.vocabSize - 3))));
const greedy = { temperature: 0, stopAtEos: false };
const report = {
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg: os.loadavg(), node: process.version },
  model: { path: args.model, ...pick(model.info, ['architecture', 'parameters', 'vocabSize', 'contextLength', 'layers', 'embeddingLength']) },
  threads,
  batchSize: model.info.batchSize,
  promptTokens,
  promptTokensWanted: Number(args['prompt-tokens']),
};
function pick(o, keys) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

// ---- 1. event-loop delay ---------------------------------------------------
async function loopDelayDuring(work) {
  const hist = monitorEventLoopDelay({ resolution: 1 });
  hist.enable();
  const t0 = performance.now();
  const result = await work();
  const wall = performance.now() - t0;
  hist.disable();
  return { p50Ms: ms(hist.percentile(50)), p99Ms: ms(hist.percentile(99)), maxMs: ms(hist.max), wallMs: wall, result };
}
const idle = await loopDelayDuring(() => sleep(1000));
const session = model.createSession({ contextSize: promptTokens });
const streamPrompt = longPrompt.slice(0, Math.max(1, promptTokens - decodeTokens));
const busy = await loopDelayDuring(async () => {
  let n = 0;
  for await (const piece of session.generate(streamPrompt, { ...greedy, maxTokens: decodeTokens })) n += piece.text.length >= 0 ? 1 : 0;
  return n;
});
session.reset();
const sessions4 = Array.from({ length: 4 }, () => model.createSession({ contextSize: 512 }));
const busy4 = await loopDelayDuring(() =>
  Promise.all(sessions4.map((s, i) => s.complete(longPrompt.slice(0, 256 + i), { ...greedy, maxTokens: decodeTokens }))),
);
report.eventLoopDelay = {
  idle: pick(idle, ['p50Ms', 'p99Ms', 'maxMs']),
  oneSession: { ...pick(busy, ['p50Ms', 'p99Ms', 'maxMs', 'wallMs']), work: `${streamPrompt.length}-token prompt + ${decodeTokens} tokens streamed` },
  fourSessions: { ...pick(busy4, ['p50Ms', 'p99Ms', 'maxMs', 'wallMs']), work: `4 x (256-token prompt + ${decodeTokens} tokens)` },
};

// ---- 2. abort and timeout latency mid-prompt --------------------------------
const full = await session.complete(longPrompt, { ...greedy, maxTokens: 1 });
const promptMs = full.stats.promptMs;
const abortLatencies = [];
const abortProgress = [];
for (let i = 0; i < repeats; i++) {
  session.reset();
  const controller = new AbortController();
  const at = promptMs * (0.15 + (0.6 * i) / Math.max(1, repeats - 1));
  let abortedAt = 0;
  const timer = setTimeout(() => {
    abortedAt = performance.now();
    controller.abort();
  }, at);
  try {
    await session.complete(longPrompt, { ...greedy, maxTokens: 1, signal: controller.signal });
    clearTimeout(timer); // finished before the abort: not a sample
  } catch (e) {
    if (e.code !== 'HYPERION_ABORTED') throw e;
    abortLatencies.push(performance.now() - abortedAt);
    abortProgress.push(e.fields.promptTokensProcessed);
  }
}
const timeoutOvershoots = [];
for (let i = 0; i < repeats; i++) {
  session.reset();
  const timeoutMs = Math.max(5, Math.round(promptMs * (0.15 + (0.6 * i) / Math.max(1, repeats - 1))));
  const t0 = performance.now();
  try {
    await session.complete(longPrompt, { ...greedy, maxTokens: 1, timeoutMs });
  } catch (e) {
    if (e.code !== 'HYPERION_TIMEOUT') throw e;
    timeoutOvershoots.push(performance.now() - t0 - timeoutMs);
  }
}
report.abort = {
  promptTokens,
  fullPromptMs: promptMs,
  abortToRejectionMs: summary(abortLatencies),
  promptTokensDoneAtAbort: abortProgress,
  timeoutOvershootMs: summary(timeoutOvershoots),
};
await session.dispose();
await Promise.all(sessions4.map((s) => s.dispose()));

// ---- 3. throughput of concurrent sessions ----------------------------------
report.throughput = [];
for (const n of [1, 2, 4]) {
  const ss = Array.from({ length: n }, () => model.createSession({ contextSize: 64 + decodeTokens }));
  const t0 = performance.now();
  const results = await Promise.all(ss.map((s, i) => s.complete(longPrompt.slice(0, 32 + i), { ...greedy, maxTokens: decodeTokens })));
  const wall = performance.now() - t0;
  const generated = results.reduce((a, r) => a + r.stats.generatedTokens, 0);
  report.throughput.push({
    sessions: n,
    wallMs: wall,
    generatedTokens: generated,
    aggregateTokensPerSecond: generated / (wall / 1e3),
    perSessionDecodeTokensPerSecond: results.map((r) => r.stats.decodeTokensPerSecond),
    timeToFirstTokenMs: results.map((r) => r.stats.timeToFirstTokenMs),
  });
  await Promise.all(ss.map((s) => s.dispose()));
}
await model.dispose();

// ---- report -----------------------------------------------------------------
const f = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : String(x));
console.log(`generation benchmark — ${path.basename(args.model)}, ${threads} threads, batch ${report.batchSize}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (promptTokens < report.promptTokensWanted)
  console.log(`note: the model's context allows ${maxCtx} positions, so the long prompt has ${promptTokens} tokens, not ${report.promptTokensWanted}`);
console.log('');
console.log('event-loop delay (monitorEventLoopDelay)   p50 ms   p99 ms   max ms');
for (const [name, d] of [['idle (1 s)', report.eventLoopDelay.idle], ['1 session generating', report.eventLoopDelay.oneSession], ['4 sessions generating', report.eventLoopDelay.fourSessions]])
  console.log(`  ${name.padEnd(40)} ${f(d.p50Ms).padStart(6)}   ${f(d.p99Ms).padStart(6)}   ${f(d.maxMs).padStart(6)}`);
console.log('');
console.log(`stop mid-prompt (${promptTokens} tokens, ${f(promptMs, 0)} ms in full)   p50 ms   p99 ms   max ms   samples`);
const a = report.abort.abortToRejectionMs, t = report.abort.timeoutOvershootMs;
console.log(`  ${'abort() → rejection'.padEnd(40)} ${f(a.p50).padStart(6)}   ${f(a.p99).padStart(6)}   ${f(a.max).padStart(6)}   ${a.n}`);
console.log(`  ${'timeoutMs → rejection, past the deadline'.padEnd(40)} ${f(t.p50).padStart(6)}   ${f(t.p99).padStart(6)}   ${f(t.max).padStart(6)}   ${t.n}`);
console.log('');
console.log(`concurrent sessions (${decodeTokens} tokens each)   aggregate tok/s   per-session decode tok/s   wall ms`);
for (const r of report.throughput)
  console.log(`  ${String(r.sessions).padEnd(36)} ${f(r.aggregateTokensPerSecond, 0).padStart(15)}   ${r.perSessionDecodeTokensPerSecond.map((x) => f(x, 0)).join(' / ').padStart(24)}   ${f(r.wallMs, 0).padStart(7)}`);
fs.mkdirSync(path.dirname(args.out), { recursive: true });
fs.writeFileSync(args.out, JSON.stringify(report, null, 2));
console.log(`\nJSON: ${args.out}`);
