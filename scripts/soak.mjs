// `npm run soak -- [--requests 10000] [--seed N] [--concurrency 4] [--time-budget S] [--rss-limit-mib 1] [--json out.json]`
//
// Many generate requests on a tiny model-maker model, in phases (each loads the
// model, runs `concurrency` lanes of requests, each lane on a session of its
// own that it disposes and re-creates along the way, then disposes
// everything). Requests get random options (scripts/soak-plan.mjs), random
// aborts (AbortSignal fired at random moments, while the prompt is processed
// too, and signals aborted beforehand), consumers that stop early, timeouts,
// sessions disposed under a running request, invalid options, and memory
// limits (the pool's maxPoolSize, set a little above or at current use) that
// trip. Afterwards it checks:
//   - every failure was a HyperionError with a code the request could meet
//     (an abort, a timeout, a limit, a disposal, a full context, an invalid
//     option), and every success a consistent result;
//   - the pool's live bytes are back to the figure after the warm-up phase,
//     and checkMemoryLeaks() lists nothing allocated since;
//   - RSS after GC at the end is within 1 MiB of RSS after GC after warm-up
//     (the first half of the requests), the pool's retained free pages apart,
//     and malloc's bytes in use (the addon's C++ objects) too.
// It prints a report (outcomes, codes, requests/s, RSS curve, live bytes) and
// exits 1 when a check fails. `npm run soak:ci` is the short version CI runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { makeRng, planRequest, describePlan, CONTEXT_SIZES } from './soak-plan.mjs';

const require = createRequire(import.meta.url);
const h = require('../dist/cjs/index.js');

// ---- arguments ---------------------------------------------------------------------

function parseArgs(argv) {
  const a = { requests: 10000, seed: 1, concurrency: 4, timeBudget: 0, json: null, rssLimit: 1 << 20 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${key} needs a number, got ${value}`);
      i++;
      return n;
    };
    if (key === '--requests') a.requests = Math.floor(num());
    else if (key === '--seed') a.seed = Math.floor(num());
    else if (key === '--concurrency') a.concurrency = Math.max(1, Math.floor(num()));
    else if (key === '--time-budget') a.timeBudget = num();
    else if (key === '--json') (a.json = value), i++;
    else if (key === '--rss-limit-mib') a.rssLimit = Math.round(num() * 1048576);
    else throw new Error(`unknown argument ${key} (--requests N --seed N --concurrency N --time-budget S --rss-limit-mib M --json FILE)`);
  }
  return a;
}

// V8 grows its young generation with the allocation rate (up to 3 x 16 MiB of
// semi-spaces, reached after thousands of requests): a fixed small one keeps
// V8's own sizing out of the RSS figure, so the drift is the runtime's.
const V8_FLAGS = ['--expose-gc', '--max-semi-space-size=1'];
if (!V8_FLAGS.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...V8_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const args = parseArgs(process.argv.slice(2));
const gc = global.gc;
const { native } = require('../dist/cjs/native.js');

// ---- state -------------------------------------------------------------------------

const outcomes = {};
const codes = {};
const unexpected = [];
const logCounts = {};
const curve = [];
let done = 0;
let fatal = null;
const started = Date.now();

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

function problem(text) {
  if (unexpected.length < 50) unexpected.push(text);
  else if (unexpected.length === 50) unexpected.push('(more problems left out)');
}

process.on('unhandledRejection', (e) => problem(`unhandled rejection: ${e?.stack ?? e}`));

/** Live pool bytes, the logger's queue left out (its own thread allocates it when it likes). */
function liveBytes() {
  const info = h.getMemoryDebugInfo();
  return info.inUseBytes - (info.byTag.logging?.bytes ?? 0);
}

// ---- memory limits -----------------------------------------------------------------
// A limit is process-wide: every request in flight while one is set may meet it.

const inflight = new Set();
let limits = 0;

function beginLimit(headroom) {
  limits++;
  h.initMemory({ maxPoolSize: Math.max(1, h.getMemoryDebugInfo().inUseBytes + headroom) });
  for (const r of inflight) r.expect.add('HYPERION_MEMORY_LIMIT');
}

function endLimit() {
  if (--limits === 0) h.initMemory({ maxPoolSize: 0 });
}

// ---- one request ------------------------------------------------------------------

function checkResult(p, r) {
  const o = p.options;
  const max = o.maxTokens;
  const bad = [];
  if (r.tokens.length > max) bad.push(`${r.tokens.length} tokens for maxTokens ${max}`);
  if (o.logprobs && r.logprobs?.length !== r.tokens.length) bad.push('logprobs do not match the tokens');
  if (o.debug && r.debug?.steps.length !== r.tokens.length) bad.push('debug steps do not match the tokens');
  if (r.stopReason === 'stop' && !o.stop) bad.push('stopReason stop without stop strings');
  if (r.stopReason === 'eos' && o.stopAtEos === false) bad.push('stopReason eos with stopAtEos false');
  for (const s of o.stop ?? []) if (r.text.includes(s)) bad.push(`text contains the stop string ${JSON.stringify(s)}`);
  return bad;
}

async function withSession(lane, p, rec, model) {
  const wantNew = p.recreate || (p.limit && p.limit.recreate) || !lane.session;
  if (!wantNew) return true;
  if (lane.session) await lane.session.dispose();
  lane.session = null;
  lane.history = null;
  try {
    lane.session = model.createSession({ contextSize: p.recreate || lane.contextSize });
    return true;
  } catch (e) {
    const code = e instanceof h.HyperionError ? e.code : 'untyped';
    count(outcomes, `createSession:${code}`);
    count(codes, code);
    if (!(code === 'HYPERION_MEMORY_LIMIT' && rec.expect.has(code))) problem(`createSession (request ${p.index}): ${e?.stack ?? e}`);
    return false;
  }
}

async function runRequest(lane, p, model) {
  const rec = { expect: p.expect };
  inflight.add(rec);
  if (limits > 0) rec.expect.add('HYPERION_MEMORY_LIMIT');
  if (p.limit) beginLimit(p.limit.headroom);
  const timers = [];
  try {
    if (!p.temporary && !(await withSession(lane, p, rec, model))) return;
    const session = p.temporary ? null : lane.session;
    const ctx = session ? session.contextSize : model.info.contextSize;
    const controller = new AbortController();
    const options = { ...p.options, signal: p.preAborted ? AbortSignal.abort() : controller.signal };
    let outcome;
    try {
      const promptLength = typeof p.prompt === 'string' ? model.tokenize(p.prompt).length + 2 : p.prompt.length;
      if (promptLength + p.options.maxTokens > ctx) rec.expect.add('HYPERION_CONTEXT_FULL');
      const stream = session ? session.generate(p.prompt, options) : model.generate(p.prompt, options);
      if (p.abortAfterMs !== undefined) timers.push(setTimeout(() => controller.abort(), p.abortAfterMs));
      if (p.abortAfterPieces === 0) stream.abort();
      if (p.disposeAfterMs !== undefined) {
        timers.push(
          setTimeout(() => {
            if (lane.session === session) lane.session = null;
            void session.dispose();
          }, p.disposeAfterMs),
        );
      }
      let pieces = 0;
      let stopped = false;
      for await (const piece of stream) {
        void piece;
        pieces++;
        if (p.abortAfterPieces === pieces) stream.abort();
        if (p.breakAfterPieces !== undefined && pieces > p.breakAfterPieces) {
          stopped = true;
          break;
        }
      }
      const result = await stream.result;
      outcome = stopped ? 'ok:consumer-stopped' : `ok:${result.stopReason}`;
      if (p.only) problem(`${describePlan(p)}: succeeded (${result.stopReason}) but only ${p.only} was possible`);
      for (const b of checkResult(p, result)) problem(`${describePlan(p)}: ${b}`);
      if (session && lane.session === session) lane.history = [...(typeof p.prompt === 'string' ? [] : p.prompt), ...result.tokens];
    } catch (e) {
      const code = e instanceof h.HyperionError ? e.code : 'untyped';
      outcome = `error:${code}`;
      count(codes, code);
      const allowed = code === p.only || rec.expect.has(code);
      if (!allowed) problem(`${describePlan(p)}: ${e instanceof h.HyperionError ? `${code}: ${e.message}` : e?.stack ?? e}`);
      if (session && lane.session === session) lane.history = null;
    }
    count(outcomes, outcome);
  } finally {
    for (const t of timers) clearTimeout(t);
    inflight.delete(rec);
    if (p.limit) endLimit();
  }
}

// ---- lanes and phases -------------------------------------------------------------

async function watchdog(promise, what) {
  let timer;
  const hang = new Promise((resolve) => {
    timer = setTimeout(() => resolve('hang'), 60_000);
  });
  const r = await Promise.race([promise.then(() => 'done'), hang]);
  clearTimeout(timer);
  if (r === 'hang') fatal = `${what} did not finish within 60 s`;
}

function timeUp() {
  return args.timeBudget > 0 && (Date.now() - started) / 1000 > args.timeBudget;
}

async function lane(id, model, next, end, sampleEvery) {
  const state = { session: null, history: null, contextSize: CONTEXT_SIZES[id % CONTEXT_SIZES.length] };
  while (next.value < end && !fatal && !timeUp()) {
    const index = next.value++;
    const rng = makeRng((args.seed * 1000003 + index * 7919) >>> 0);
    const p = planRequest(rng, index, model.info.vocabSize, state.history);
    await watchdog(runRequest(state, p, model), describePlan(p));
    done++;
    if (done % sampleEvery === 0) curve.push(sample(false));
  }
  if (state.session) await state.session.dispose();
}

/** One point of the RSS curve: process RSS, V8's heap, the pool's committed and live bytes. */
function sample(afterGc) {
  const mu = process.memoryUsage();
  const heap = h.getHeapStats();
  return { requests: done, rssBytes: mu.rss, v8HeapBytes: mu.heapTotal, v8UsedBytes: mu.heapUsed, externalBytes: mu.external, poolCommittedBytes: heap.committedBytes, liveBytes: liveBytes(), gc: afterGc };
}

async function settle(target) {
  await h.flushLogs();
  for (let i = 0; i < 200 && liveBytes() !== target; i++) await new Promise((r) => setTimeout(r, 10));
  return liveBytes();
}

/**
 * RSS once everything is disposed: after full GCs, with the C library's free
 * heap pages handed back (malloc_trim: the addon's C++ objects come from
 * malloc, whose arenas otherwise keep their peak). The median of five
 * readings, as V8 releases pages on its own threads.
 */
async function rssAfterGc() {
  const readings = [];
  let malloc = null;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 40));
    malloc = native()._test.trimMalloc();
    readings.push(process.memoryUsage().rss);
  }
  readings.sort((a, b) => a - b);
  const heap = h.getHeapStats();
  return {
    rssBytes: readings[2],
    minBytes: readings[0],
    maxBytes: readings[4],
    poolCommittedBytes: heap.committedBytes,
    v8UsedBytes: process.memoryUsage().heapUsed,
    mallocInUseBytes: malloc?.inUseBytes ?? null,
    mallocFreeBytes: malloc?.freeBytes ?? null,
  };
}

async function phase(file, index, from, end, sampleEvery) {
  const model = await h.loadModel(file, { threads: 1 + (index % 2), batchSize: 16 });
  const next = { value: from };
  await Promise.all(Array.from({ length: args.concurrency }, (_, i) => lane(i, model, next, end, sampleEvery)));
  await model.dispose();
  return next.value;
}

// ---- main ---------------------------------------------------------------------------

async function main() {
  h.configureLogging({ level: 'warn', console: false, handler: (r) => count(logCounts, `${r.level}:${r.category}`) });
  h.initMemory({ reset: true, trackAllocations: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperion-soak-'));
  const file = path.join(dir, 'tiny.gguf');
  await h.makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 1 });
  const startLive = liveBytes();
  const total = args.requests;
  // The first half warms up: RSS after GC settles over thousands of requests
  // (malloc's fragmentation on the main thread and in the session threads'
  // arenas, V8's code and old space; measured: +2.5 MiB from request 1,000 to
  // 3,250, +0.2 MiB from 5,500 to 10,000). Its requests are checked like all others.
  const warmup = Math.min(total, Math.max(300, Math.round(total / 2)));
  const sampleEvery = Math.max(25, Math.round(total / 40));
  // phases of up to ~1,250 requests, at most 4 in each half: each loads the model afresh
  const split = (from, to) => {
    const n = Math.max(1, Math.min(4, Math.ceil((to - from) / 1250)));
    return Array.from({ length: n }, (_, k) => from + Math.round(((to - from) * (k + 1)) / n));
  };
  const warmBounds = split(0, warmup);
  const bounds = warmup < total ? split(warmup, total) : [];
  const phaseLive = [];

  let at = 0;
  for (const end of warmBounds) {
    if (fatal) break;
    at = await phase(file, phaseLive.length, at, end, sampleEvery);
    phaseLive.push(await settle(startLive));
  }
  const warmLive = phaseLive.at(-1);
  const warmRss = await rssAfterGc();
  const since = h.getMemoryDebugInfo().nextSequence;
  curve.push(sample(true));
  const runStart = Date.now();
  const doneAtWarm = done;
  for (const end of bounds) {
    if (fatal || timeUp()) break;
    at = await phase(file, phaseLive.length, at, end, sampleEvery);
    phaseLive.push(await settle(warmLive));
    await rssAfterGc();
    curve.push(sample(true));
  }
  const seconds = (Date.now() - runStart) / 1000;
  const endLive = await settle(warmLive);
  const endRss = await rssAfterGc();
  const leaks = h.checkMemoryLeaks({ sinceSequence: since });
  // The pool keeps freed pages committed (up to 64 MiB, by design:
  // native/memory/pages.c); a new peak of concurrent use raises that figure,
  // a cache, not a leak: the checked drift sets it apart (both reported).
  // malloc's figures tell a leak of the addon's C++ objects (in use) from
  // fragmentation (free chunks on resident pages).
  const rawDrift = endRss.rssBytes - warmRss.rssBytes;
  const poolDrift = endRss.poolCommittedBytes - warmRss.poolCommittedBytes;
  const mallocFreeDrift = (endRss.mallocFreeBytes ?? 0) - (warmRss.mallocFreeBytes ?? 0);
  const mallocInUseDrift = (endRss.mallocInUseBytes ?? 0) - (warmRss.mallocInUseBytes ?? 0);
  const drift = rawDrift - poolDrift;
  h.initMemory({ maxPoolSize: 0 });

  const checks = [
    ['no hang', !fatal, fatal ?? ''],
    ['every failure typed and expected, every result consistent', unexpected.length === 0, `${unexpected.length} problem(s)`],
    ['live pool bytes back to one figure after every phase', phaseLive.every((b) => b === warmLive) && endLive === warmLive, `${phaseLive.join(', ')} bytes`],
    ['checkMemoryLeaks() lists nothing allocated after warm-up', leaks.blocks === 0, `${leaks.blocks} blocks, ${leaks.bytes} bytes`],
    [`RSS drift under ${args.rssLimit >> 10} KiB after warm-up (the pool's retained pages apart)`, drift < args.rssLimit, `${(drift / 1024).toFixed(0)} KiB`],
    [`malloc's bytes in use drift under ${args.rssLimit >> 10} KiB after warm-up`, mallocInUseDrift < args.rssLimit, `${(mallocInUseDrift / 1024).toFixed(0)} KiB`],
  ];
  const report = {
    requests: done,
    planned: total,
    seed: args.seed,
    concurrency: args.concurrency,
    phases: phaseLive.length,
    stoppedByTimeBudget: done < total && !fatal,
    seconds: (Date.now() - started) / 1000,
    requestsPerSecond: (done - doneAtWarm) / Math.max(seconds, 1e-3),
    outcomes,
    errorsByCode: codes,
    logRecords: logCounts,
    memory: {
      liveBytesStart: startLive,
      liveBytesAfterWarmup: warmLive,
      liveBytesEnd: endLive,
      leakBlocks: leaks.blocks,
      rssAfterWarmup: warmRss,
      rssEnd: endRss,
      rssDriftBytes: drift,
      rssDriftRawBytes: rawDrift,
      poolCommittedDriftBytes: poolDrift,
      mallocFreeDriftBytes: mallocFreeDrift,
      mallocInUseDriftBytes: mallocInUseDrift,
      v8UsedDriftBytes: endRss.v8UsedBytes - warmRss.v8UsedBytes,
    },
    rssCurve: curve,
    checks: checks.map(([name, ok, detail]) => ({ name, ok, detail })),
    problems: unexpected,
    leakText: leaks.text,
  };
  printReport(report);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

function printReport(r) {
  const mib = (b) => (b / 1048576).toFixed(2);
  const sorted = (m) => Object.entries(m).sort((a, b) => b[1] - a[1]);
  console.log(`soak: ${r.requests} requests (seed ${r.seed}, ${r.concurrency} lanes, ${r.phases} phases) in ${r.seconds.toFixed(1)} s; ${r.requestsPerSecond.toFixed(1)} requests/s after warm-up${r.stoppedByTimeBudget ? ' (stopped by the time budget)' : ''}`);
  console.log('outcomes:');
  for (const [k, v] of sorted(r.outcomes)) console.log(`  ${k.padEnd(36)} ${v}`);
  console.log('errors by code:');
  for (const [k, v] of sorted(r.errorsByCode)) console.log(`  ${k.padEnd(36)} ${v}`);
  if (Object.keys(r.logRecords).length) console.log(`log records: ${sorted(r.logRecords).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const m = r.memory;
  console.log(`live pool bytes: start ${m.liveBytesStart}, after warm-up ${m.liveBytesAfterWarmup}, end ${m.liveBytesEnd}; leak check: ${m.leakBlocks} blocks`);
  const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
  console.log(`RSS after GC and malloc_trim: after warm-up ${mib(m.rssAfterWarmup.rssBytes)} MiB, end ${mib(m.rssEnd.rssBytes)} MiB: ${kib(m.rssDriftRawBytes)}`);
  console.log(`  of which the pool's committed pages ${kib(m.poolCommittedDriftBytes)}: drift ${kib(m.rssDriftBytes)}`);
  console.log(`  malloc in use ${kib(m.mallocInUseDriftBytes)}, malloc free ${kib(m.mallocFreeDriftBytes)}, V8 heap used ${kib(m.v8UsedDriftBytes)}`);
  console.log('RSS curve (requests: RSS / V8 heap / pool committed MiB, live pool KiB; * = after GC, everything disposed):');
  for (let i = 0; i < r.rssCurve.length; i += 4) {
    const row = r.rssCurve.slice(i, i + 4);
    console.log(`  ${row.map((c) => `${String(c.requests).padStart(6)}: ${mib(c.rssBytes)}/${mib(c.v8HeapBytes)}/${mib(c.poolCommittedBytes)} ${(c.liveBytes / 1024).toFixed(0)}${c.gc ? '*' : ' '}`).join('  ')}`);
  }
  for (const p of r.problems) console.log(`PROBLEM ${p}`);
  if (r.leakText) console.log(r.leakText);
  for (const c of r.checks) console.log(`${c.ok ? 'PASS' : 'FAIL'} ${c.name} (${c.detail})`);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
