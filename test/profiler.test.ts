// The profiler from JS on a known workload: the model maker's "tiny" llama
// (Q4_0, 2 layers, 256 wide) evaluating a fixed prompt with 1 and 2 threads. Calls per op follow from the model's shape and
// the graph's chunking; the trace validates against the schema in the repo and
// nests per thread; self times add up; tokens/s agree with the phase time.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import {
  loadModel,
  makeModel,
  initProfiler,
  startProfiling,
  stopProfiling,
  isProfiling,
  saveProfile,
  getProfile,
  getHotspots,
  analyzeBottlenecks,
  getMachineLimits,
  attachProfile,
  parseProfileSummary,
  HyperionError,
  type Model,
  type ModelInfo,
  type ProfileSummary,
} from '../src/index';
import { root, tempDir } from './helpers';

const N_TOKENS = 20;
const BATCH = 8; // chunks of 8, 8, 4
const PROMPT = Array.from({ length: N_TOKENS }, (_, i) => (i * 37 + 1) % 1024);

function expectInvalid(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HyperionError);
    expect((e as HyperionError).code).toBe('HYPERION_INVALID_ARGUMENT');
    expect((e as HyperionError).fields.field).toBe(field);
    return;
  }
  throw new Error(`expected HYPERION_INVALID_ARGUMENT naming ${field}`);
}

async function expectRejectInvalid(p: Promise<unknown>, field: string): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(HyperionError);
  expect((e as HyperionError).code).toBe('HYPERION_INVALID_ARGUMENT');
  expect((e as HyperionError).fields.field).toBe(field);
}

/**
 * Zones per op name for evaluating n tokens in chunks of b on t threads: the graph's single-thread ops once per
 * use; an op split over the pool once on the dispatching thread plus one slice per participant, where
 * participants = min(t, chunks of the run) (threadpool.c) and weight products use chunks of
 * max(16, rows / (8 t) rounded up to 16) rows (llama.c).
 */
function expectedCalls(info: ModelInfo, n: number, b: number, t: number): Map<string, number> {
  const E = info.embeddingLength, Q = info.heads * info.headDim, KV = info.kvHeads * info.headDim;
  const F = info.feedForwardLength, V = info.vocabSize, L = info.layers;
  const calls = new Map<string, number>();
  const add = (name: string, k: number) => calls.set(name, (calls.get(name) ?? 0) + k);
  const participants = (items: number, grain: number) => Math.min(t, Math.ceil(items / grain));
  const productGrain = (rows: number) => {
    const g = Math.floor(rows / (t * 8));
    return g < 16 ? 16 : (g + 15) & ~15;
  };
  const product = (rows: number, cols: number, tokens: number) =>
    add(`${tokens > 1 ? 'matmul' : 'matvec'} ${rows}x${cols}`, 1 + participants(rows, productGrain(rows)));
  const quantize = (rows: number) => add('quantize', rows === 1 ? 1 : 1 + participants(rows, 4));
  const chunks: number[] = [];
  for (let done = 0; done < n; done += b) chunks.push(Math.min(b, n - done));
  // the load phase, and within it the copies in the kernels' layouts when there are any
  add('load', 1);
  if (info.repackedBytes > 0) add('repack', 1);
  // evaluate() takes one turn on the model per chunk (runtime/model.c), so each chunk is its own prefill pass
  add('prefill', chunks.length);
  chunks.forEach((c, i) => {
    add('embed', 1);
    add('rope_tables', 1);
    for (let l = 0; l < L; l++) {
      add('layer', 1);
      add('rmsnorm', 2);
      add('add', 2);
      quantize(c); // attention input, shared by q, k, v
      product(Q, E, c);
      product(KV, E, c);
      product(KV, E, c);
      add('rope', 1);
      add('kv_store', 1);
      add('attention', 1 + participants(c * info.heads, 1));
      quantize(c); // attention output
      product(E, Q, c);
      quantize(c); // feed-forward input, shared by gate and up
      product(F, E, c);
      product(F, E, c);
      add('swiglu', 1);
      quantize(c); // down input
      product(E, F, c);
    }
    if (i === chunks.length - 1) {
      // logits of the last token only
      add('logits', 1);
      add('rmsnorm', 1);
      quantize(1);
      product(V, E, 1);
    }
  });
  return calls;
}

interface TraceEvent {
  name: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  cat?: string;
  args: Record<string, unknown>;
}
interface Trace {
  displayTimeUnit: string;
  traceEvents: TraceEvent[];
  otherData: Record<string, unknown>;
}

const ns = (us: number) => Math.round(us * 1000);

interface Workload {
  threads: number;
  model: Model;
  summary: ProfileSummary;
  trace: Trace;
  traceText: string;
  summaryFile: ProfileSummary;
  summaryText: string;
}

async function profileWorkload(file: string, threads: number, dir: string): Promise<Workload> {
  initProfiler({ trackFunctions: true, trackMemory: true, trackCache: true, sampleIntervalMs: 1 });
  startProfiling();
  expect(isProfiling()).toBe(true);
  const model = await loadModel(file, { threads, batchSize: BATCH });
  await model.evaluate(PROMPT);
  await stopProfiling();
  expect(isProfiling()).toBe(false);
  const saved = await saveProfile(path.join(dir, `t${threads}.json`));
  expect(saved.trace).toBe(path.join(dir, `t${threads}.json`));
  expect(saved.summary).toBe(path.join(dir, `t${threads}.summary.json`));
  const traceText = fs.readFileSync(saved.trace!, 'utf8');
  const summaryText = fs.readFileSync(saved.summary!, 'utf8');
  return {
    threads,
    model,
    summary: await getProfile(),
    trace: JSON.parse(traceText) as Trace,
    traceText,
    summaryFile: JSON.parse(summaryText) as ProfileSummary,
    summaryText,
  };
}

describe('profiler API validation', () => {
  it('names the field of a bad option', async () => {
    expectInvalid(() => initProfiler({ sampleIntervalMs: -1 }), 'config.sampleIntervalMs');
    expectInvalid(() => initProfiler({ sampleIntervalMs: 1.5 }), 'config.sampleIntervalMs');
    expectInvalid(() => initProfiler({ bufferEvents: 10 }), 'config.bufferEvents');
    expectInvalid(() => initProfiler({ trackCache: 'yes' as never }), 'config.trackCache');
    expectInvalid(() => initProfiler({ trackCpu: true } as never), 'config.trackCpu');
    expectInvalid(() => initProfiler(42 as never), 'config');
    await expect(getHotspots(0)).rejects.toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', fields: { field: 'n' } });
    await expect(saveProfile('')).rejects.toMatchObject({ fields: { field: 'path' } });
    await expect(saveProfile('x.json', { format: 'perfetto' as never })).rejects.toMatchObject({ fields: { field: 'options.format' } });
    await expect(analyzeBottlenecks({ weightBytesPerToken: 0 })).rejects.toMatchObject({ fields: { field: 'model.weightBytesPerToken' } });
    await expect(analyzeBottlenecks({ weightBytesPerToken: 1e6, threads: 0 })).rejects.toMatchObject({ fields: { field: 'model.threads' } });
    await expect(analyzeBottlenecks('model' as never)).rejects.toMatchObject({ fields: { field: 'model' } });
  });

  it('refuses to start twice or reconfigure while recording, and stays usable', async () => {
    initProfiler({ sampleIntervalMs: 0 });
    startProfiling();
    expect(() => startProfiling()).toThrow(HyperionError);
    expect(() => initProfiler({})).toThrow(/recording/);
    await stopProfiling();
    await expect(stopProfiling()).rejects.toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT' });
    const empty = await getProfile();
    expect(empty.kind).toBe('session');
    expect(empty.events).toBe(0);
  });

  it('attaches a per-request profile to a result, and leaves results without one alone', () => {
    const text = JSON.stringify({ version: 1, kind: 'request', request: 7, ops: [], phases: [] });
    const r = attachProfile({ text: 'hi' }, text);
    expect(r.profile?.request).toBe(7);
    expect(attachProfile({ text: 'hi' }, null)).toEqual({ text: 'hi' });
    expect(() => parseProfileSummary({ nope: 1 })).toThrow(HyperionError);
  });

  it('measures the machine limits off the main thread', async () => {
    const m = await getMachineLimits();
    expect(m.bandwidthGbps).toBeGreaterThan(0);
    expect(m.peakGflopsSimd).toBeGreaterThan(0);
    expect(m.mtThreads).toBeGreaterThanOrEqual(1);
    expect(['scalar', 'avx2', 'avx512']).toContain(m.simdIsa);
  });
});

describe('profiling a known workload (tiny Q4_0 model, 20 tokens in chunks of 8)', () => {
  const runs: Workload[] = [];
  const dir = tempDir('hyperion-profile-');
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas', 'chrome-trace.schema.json'), 'utf8')) as object;
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

  beforeAll(async () => {
    const made = await makeModel(path.join(dir, 'tiny-q4_0.gguf'), { shape: 'tiny', type: 'q4_0', seed: 6 });
    runs.push(await profileWorkload(made.path, 1, dir));
    runs.push(await profileWorkload(made.path, 2, dir));
  });

  it.each([1, 2])('calls per op match the graph with %i thread(s)', (threads) => {
    const w = runs.find((r) => r.threads === threads)!;
    const expected = expectedCalls(w.model.info, N_TOKENS, BATCH, threads);
    const got = new Map<string, number>();
    for (const o of w.summary.ops) got.set(o.name, (got.get(o.name) ?? 0) + o.calls);
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    expect(w.summary.droppedEvents).toBe(0);
    expect(w.summary.clampedEvents).toBe(0);
  });

  it.each([1, 2])('the trace validates against the schema and nests per thread (%i thread(s))', (threads) => {
    const w = runs.find((r) => r.threads === threads)!;
    const ok = validate(w.trace);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
    expect(ok).toBe(true);
    expect(w.traceText.startsWith('{"displayTimeUnit"')).toBe(true);

    const byTid = new Map<number, TraceEvent[]>();
    for (const e of w.trace.traceEvents) if (e.ph === 'X') byTid.set(e.tid!, [...(byTid.get(e.tid!) ?? []), e]);
    expect(byTid.size).toBe(threads + 1); // the loading thread, the evaluating thread, and worker-1 with two threads
    for (const [, events] of byTid) {
      const stack: Array<{ end: number }> = [];
      let lastTs = -1;
      for (const e of events) {
        const start = ns(e.ts!), end = start + ns(e.dur!);
        expect(start).toBeGreaterThanOrEqual(lastTs); // monotonic per thread
        lastTs = start;
        while (stack.length && stack[stack.length - 1].end <= start) stack.pop();
        if (stack.length) expect(end).toBeLessThanOrEqual(stack[stack.length - 1].end); // inside its parent
        stack.push({ end });
      }
    }
    // M events: the process and every thread with zones
    const meta = w.trace.traceEvents.filter((e) => e.ph === 'M');
    expect(meta.some((e) => e.name === 'process_name' && e.args.name === 'hyperion')).toBe(true);
    const named = new Map(meta.filter((e) => e.name === 'thread_name').map((e) => [e.tid!, e.args.name as string]));
    for (const tid of byTid.keys()) expect(named.has(tid)).toBe(true);
    if (threads === 2) expect([...named.values()]).toContain('worker-1');
    // C counter events from the sampler
    const counters = new Set(w.trace.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name));
    expect([...counters].sort()).toEqual(['pool in use', 'rss', 'tokens generated']);
  });

  it('puts the bytes and flops on the workers\' slices, none on the dispatching zone (2 threads)', () => {
    const w = runs.find((r) => r.threads === 2)!;
    const prefill = w.trace.traceEvents.find((e) => e.ph === 'X' && e.name === 'prefill')!;
    const xs = w.trace.traceEvents.filter((e) => e.ph === 'X');
    // ops by name (an op name can come with several tensor types, e.g. the output weight's quantization)
    const byName = new Map<string, { name: string; bytes: number; flops: number }>();
    for (const o of w.summary.ops.filter((o) => /^(matmul|matvec|attention|quantize)/.test(o.name))) {
      const t = byName.get(o.name) ?? { name: o.name, bytes: 0, flops: 0 };
      t.bytes += o.bytes;
      t.flops += o.flops;
      byName.set(o.name, t);
    }
    expect(byName.size).toBeGreaterThanOrEqual(6);
    for (const op of byName.values()) {
      const events = xs.filter((e) => e.name === op.name);
      const bytes = events.reduce((s, e) => s + ((e.args.bytes as number | undefined) ?? 0), 0);
      const flops = events.reduce((s, e) => s + ((e.args.flops as number | undefined) ?? 0), 0);
      expect(bytes, op.name).toBe(op.bytes);
      expect(flops, op.name).toBe(op.flops);
      expect(op.bytes, op.name).toBeGreaterThan(0);
      // on the dispatching thread, a zone of this op that contains another one (its own slice) carries nothing
      const mine = events.filter((e) => e.tid === prefill.tid);
      const end = (e: TraceEvent) => ns(e.ts!) + ns(e.dur!);
      const dispatch = mine.filter((e) => mine.some((s) => s !== e && ns(s.ts!) >= ns(e.ts!) && end(s) <= end(e)));
      if (op.name !== 'quantize') expect(dispatch.length, op.name).toBeGreaterThan(0);
      for (const d of dispatch) {
        expect(d.args.bytes, op.name).toBeUndefined();
        expect(d.args.flops, op.name).toBeUndefined();
      }
    }
    const worker = w.summary.threads.find((t) => t.name === 'worker-1');
    expect(worker?.events).toBeGreaterThan(0);
  });

  it.each([1, 2])('self times add up to the traced time and tokens/s is prefill tokens over prefill time (%i)', (threads) => {
    const s = runs.find((r) => r.threads === threads)!.summary;
    const selfSum = s.ops.reduce((a, o) => a + o.selfMs, 0);
    expect(s.tracedMs).toBeGreaterThan(0);
    expect(Math.abs(selfSum - s.tracedMs)).toBeLessThanOrEqual(s.tracedMs * 0.01);
    expect(Math.abs(s.selfSumMs - s.tracedMs)).toBeLessThanOrEqual(s.tracedMs * 0.01);
    const prefill = s.phases.find((p) => p.phase === 'prefill')!;
    expect(prefill.tokens).toBe(N_TOKENS);
    expect(prefill.calls).toBe(Math.ceil(N_TOKENS / BATCH)); // one prefill pass per chunk
    expect(prefill.tokensPerSecond).not.toBeNull();
    const tps = N_TOKENS / (prefill.totalMs / 1000);
    expect(Math.abs(prefill.tokensPerSecond! - tps)).toBeLessThanOrEqual(tps * 1e-6);
    expect(s.phases.find((p) => p.phase === 'load')!.calls).toBe(1);
    expect(s.layers.length).toBe(2);
    expect(s.samples?.count).toBeGreaterThan(0);
  });

  it('states why hardware counters are absent, and nothing else fails', () => {
    const c = runs[0].summary.counters;
    expect(runs[0].summary.config.trackCache).toBe(true);
    if (c.available) {
      expect(c.phases?.length).toBe(4);
    } else {
      expect(c.reason).not.toBe('ok');
      expect(c.detail.length).toBeGreaterThan(10);
    }
  });

  it('getProfile() is the summary file, camelCase keys throughout', () => {
    for (const w of runs) expect(w.summary).toEqual(w.summaryFile);
    const snake: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
        if (k.includes('_')) snake.push(k);
        walk(x);
      }
    };
    walk(runs[1].summary);
    expect(snake).toEqual([]);
  });

  it('finds hotspots and judges them against the machine, with the model\'s decode ceiling', async () => {
    // the last session is the 2-thread one
    const hot = await getHotspots(3);
    expect(hot.length).toBe(3);
    expect(hot.map((h) => h.rank)).toEqual([1, 2, 3]);
    for (const h of hot) {
      expect(h.category).toBe('op');
      expect(['memory', 'compute']).toContain(h.bound);
      expect(h.recommendation).toContain(h.name);
    }
    expect(hot[0].selfMs).toBeGreaterThanOrEqual(hot[1].selfMs);

    const model = runs[1].model;
    const report = await analyzeBottlenecks(model);
    expect(report.ops.length).toBeGreaterThan(5);
    expect(report.headline.length).toBeGreaterThan(0);
    expect(report.decode).toBeDefined();
    const d = report.decode!;
    // tiny Q4_0: ~1 MiB read per token (every weight but the embedding, plus one embedding row)
    expect(d.weightBytesPerToken).toBeGreaterThan(0.5 * 1024 * 1024);
    expect(d.weightBytesPerToken).toBeLessThan(model.info.fileSize);
    expect(d.threads).toBe(2);
    const ceiling = (d.bandwidthGbps * 1e9) / d.weightBytesPerToken;
    expect(Math.abs(d.ceilingTokensPerSecond - ceiling)).toBeLessThanOrEqual(ceiling * 1e-9);
    expect(d.measuredTokensPerSecond).toBeNull(); // evaluate is all prefill
    expect(report.findings[0]).toBe(d.recommendation);

    // a model too big for the cache: the ceiling is stated in plain words
    const big = await analyzeBottlenecks({ weightBytesPerToken: 4e9, threads: 2, name: 'big' });
    expect(big.decode!.fitsInCache).toBe(false);
    expect(big.decode!.recommendation).toMatch(/no decode tokens in this profile; reading 3815 MiB of weights per token/);
  });

  it('zones do not change the numbers: logits with and without profiling are identical', async () => {
    const model = runs[1].model;
    const off = await model.evaluate(PROMPT);
    startProfiling();
    const on = await model.evaluate(PROMPT);
    await stopProfiling();
    expect(Array.from(on)).toEqual(Array.from(off));
    for (const w of runs) await w.model.dispose();
  });
});

describe('profile errors', () => {
  it('reports a write failure with the path and stays usable', async () => {
    initProfiler({ sampleIntervalMs: 0 });
    startProfiling();
    await stopProfiling();
    const missing = path.join(tempDir(), 'no', 'such', 'dir', 'p.json');
    const e = await saveProfile(missing).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(HyperionError);
    expect((e as HyperionError).code).toBe('HYPERION_IO');
    expect(String((e as HyperionError).fields.path)).toBe(missing);
    await expectRejectInvalid(getHotspots(-3), 'n');
    const again = await saveProfile(path.join(tempDir(), 'ok.json'), { format: 'summary' });
    expect(again.trace).toBeUndefined();
    expect(fs.existsSync(again.summary!)).toBe(true);
  });
});
