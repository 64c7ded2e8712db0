// limits.test.ts — resource limits (model and session) and usage figures on a
// tiny model-maker model: each limit trips with its code and figures and the
// model stays usable; maxCpuPercent holds CPU over wall; usage agrees with the
// memory reports and the stats of the requests.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, beforeAll, afterEach } from 'vitest';
import {
  loadModel,
  makeModel,
  initMemory,
  checkMemoryLeaks,
  getMemoryDebugInfo,
  MEMORY_TAGS,
  type Model,
  type MemoryUsageEvent,
  type GenerationResult,
} from '../src/index';
import { tempDir } from './helpers';

const GREEDY = { temperature: 0, stopAtEos: false, seed: 1 } as const;
const MIB = 1024 * 1024;

let file = '';
const open: Model[] = [];

async function load(options: Parameters<typeof loadModel>[1] = {}): Promise<Model> {
  const m = await loadModel(file, { threads: 1, ...options });
  open.push(m);
  return m;
}

beforeAll(async () => {
  // every block tracked from here on, so the leak report can be the second
  // witness of a model's pool use
  initMemory({ trackAllocations: true });
  file = path.join(tempDir('hyperion-limits-'), 'tiny-q8_0.gguf');
  await makeModel(file, { shape: 'tiny', type: 'q8_0', seed: 9 });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.dispose()));
});

async function rejection(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected an error');
}

describe('limits: validation', () => {
  it('names the field of a bad limit, in loadModel, createSession and setResourceLimits', async () => {
    await expect(loadModel(file, { threads: 2, limits: { maxThreads: 3 } })).rejects.toMatchObject({
      code: 'HYPERION_INVALID_ARGUMENT',
      field: 'limits.maxThreads',
    });
    await expect(loadModel(file, { limits: { maxCpuPercent: 101 } })).rejects.toMatchObject({ field: 'limits.maxCpuPercent' });
    await expect(loadModel(file, { limits: { speed: 1 } as never })).rejects.toMatchObject({ field: 'limits.speed' });
    const m = await load({ threads: 2 });
    for (const [limits, field] of [
      [{ maxMemoryMb: 0 }, 'maxMemoryMb'],
      [{ maxMemoryMb: -1 }, 'maxMemoryMb'],
      [{ maxThreads: 3 }, 'maxThreads'],
      [{ maxThreads: 1.5 }, 'maxThreads'],
      [{ maxCpuPercent: 0 }, 'maxCpuPercent'],
      [{ maxCpuPercent: 101 }, 'maxCpuPercent'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ maxTokens: 'ten' }, 'maxTokens'],
    ] as const) {
      expect(thrown(() => m.setResourceLimits(limits as never))).toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field });
    }
    expect(thrown(() => m.createSession({ limits: { maxThreads: 3 } }))).toMatchObject({ field: 'limits.maxThreads' });
    const s = m.createSession({ contextSize: 32 });
    expect(thrown(() => s.setResourceLimits({ maxCpuPercent: 200 }))).toMatchObject({ field: 'maxCpuPercent' });
    // a failed call changes nothing; null and undefined clear
    m.setResourceLimits({ maxTokens: 7, timeoutMs: null, maxMemoryMb: 64 });
    expect(thrown(() => m.setResourceLimits({ maxTokens: 0 }))).toMatchObject({ field: 'maxTokens' });
    expect(m.getResourceLimits()).toEqual({ maxMemoryMb: 64, maxThreads: null, maxCpuPercent: null, timeoutMs: null, maxTokens: 7 });
    m.setResourceLimits({});
    expect(m.getResourceLimits()).toEqual({ maxMemoryMb: null, maxThreads: null, maxCpuPercent: null, timeoutMs: null, maxTokens: null });
  });

  it('a session narrows the model, never widens it', async () => {
    const m = await load({ threads: 2, limits: { maxTokens: 20, maxThreads: 2, timeoutMs: 60000 } });
    const s = m.createSession({ contextSize: 64, limits: { maxTokens: 50, maxThreads: 1, maxCpuPercent: 80 } });
    expect(s.getResourceLimits()).toEqual({ maxMemoryMb: null, maxThreads: 1, maxCpuPercent: 80, timeoutMs: 60000, maxTokens: 20 });
    m.setResourceLimits({ maxTokens: 10 });
    expect(s.getResourceLimits()).toMatchObject({ maxTokens: 10, maxThreads: 1, timeoutMs: null });
  });
});

describe('limits: memory', () => {
  it('a load over maxMemoryMb fails with HYPERION_MEMORY_LIMIT and leaves nothing', async () => {
    const before = checkMemoryLeaks({ tags: [...MEMORY_TAGS] }).bytes;
    const e = await rejection(loadModel(file, { limits: { maxMemoryMb: 0.004 } }));
    expect(e).toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', category: 'limit', limit: Math.floor(0.004 * MIB) });
    expect(e.budget).toMatch(/^model tiny-q8_0\.gguf/);
    expect(e.requested).toBeGreaterThan(0);
    expect(typeof e.inUse).toBe('number');
    expect(checkMemoryLeaks({ tags: [...MEMORY_TAGS] }).bytes).toBe(before);
    const m = await load({ limits: { maxMemoryMb: 4 } }); // one that fits
    expect((await m.complete('once upon', { ...GREEDY, maxTokens: 3 })).tokens).toHaveLength(3);
  });

  it('a session or a request over the limit fails with the figures; the model stays usable', async () => {
    const m = await load();
    const base = m.getResourceUsage().poolBytesInUse;
    m.setResourceLimits({ maxMemoryMb: (base + 2 * MIB) / MIB });
    // 2048 positions of KV cache alone are 2 MiB
    const e = thrown(() => m.createSession({ contextSize: 2048 }));
    expect(e).toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', limit: Math.floor(base + 2 * MIB) });
    expect((e.requested as number) + (e.inUse as number)).toBeGreaterThan(e.limit as number);
    expect(m.getResourceUsage().poolBytesInUse).toBe(base);
    // a session's own limit: below what it holds, its next request is refused
    const s = m.createSession({ contextSize: 64 });
    s.setResourceLimits({ maxMemoryMb: 0.01 });
    const r = await rejection(s.complete('once upon a time', { ...GREEDY, maxTokens: 4 }));
    expect(r).toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', limit: Math.floor(0.01 * MIB) });
    expect(r.budget).toMatch(/^session \d+ of model tiny-q8_0\.gguf/);
    expect(r.requested).toBeGreaterThan(0);
    expect(r.inUse).toBeGreaterThan(r.limit as number);
    s.setResourceLimits({});
    expect((await s.complete('once upon a time', { ...GREEDY, maxTokens: 4 })).stopReason).toBe('maxTokens');
    expect((await m.complete('the end', { ...GREEDY, maxTokens: 2 })).tokens).toHaveLength(2);
  });
});

describe('limits: tokens and time', () => {
  it('maxTokens is each request\'s default and cap, ending with stopReason maxTokens', async () => {
    const m = await load({ limits: { maxTokens: 5 } });
    const plain = await m.complete('once', GREEDY);
    expect(plain).toMatchObject({ stopReason: 'maxTokens' });
    expect(plain.tokens).toHaveLength(5);
    expect((await m.complete('once', { ...GREEDY, maxTokens: 3 })).tokens).toHaveLength(3);
    expect((await m.complete('once', { ...GREEDY, maxTokens: 100 })).tokens).toHaveLength(5);
    const s = m.createSession({ contextSize: 64, limits: { maxTokens: 2 } });
    expect((await s.complete('once', GREEDY)).tokens).toHaveLength(2);
  });

  it('timeoutMs ends a request with HYPERION_TIMEOUT and the figures; a request cannot raise it', async () => {
    const m = await load({ limits: { timeoutMs: 1 } });
    const s = m.createSession({ contextSize: 256 });
    const prompt = Array.from({ length: 200 }, (_, i) => 1 + ((i * 37) % 900));
    const e = await rejection(s.complete(prompt, { ...GREEDY, maxTokens: 50, timeoutMs: 60000 }));
    expect(e).toMatchObject({ code: 'HYPERION_TIMEOUT', category: 'limit', timeoutMs: 1, limit: 1, requestedTokens: 50 });
    expect(e.elapsedMs).toBeGreaterThanOrEqual(1);
    m.setResourceLimits({});
    expect((await s.complete('once', { ...GREEDY, maxTokens: 2 })).tokens).toHaveLength(2);
  });
});

describe('limits: threads and CPU', () => {
  it('maxThreads caps the pool, for the model and for one session', async () => {
    const m = await load({ threads: 2, limits: { maxThreads: 1 } });
    expect(m.getResourceUsage().threads).toEqual({ pool: 2, active: 1 });
    expect((await m.complete('once', { ...GREEDY, maxTokens: 3 })).tokens).toHaveLength(3);
    m.setResourceLimits({});
    expect(m.getResourceUsage().threads).toEqual({ pool: 2, active: 2 });
    const s = m.createSession({ contextSize: 64, limits: { maxThreads: 1 } });
    expect((await s.complete('once', { ...GREEDY, maxTokens: 3 })).tokens).toHaveLength(3);
  });

  it('maxCpuPercent 50 holds CPU time over wall time of a generation within 10 points', async () => {
    const m = await load({ threads: 1, limits: { maxCpuPercent: 50 } });
    const u0 = m.getResourceUsage();
    const p0 = process.cpuUsage();
    const t0 = performance.now();
    let requests = 0;
    // about 1.5 s of generation, on temporary sessions of the whole context
    while (performance.now() - t0 < 1500) {
      await m.complete([1], { ...GREEDY, maxTokens: 200 });
      requests++;
    }
    const wall = performance.now() - t0;
    const u1 = m.getResourceUsage();
    const p1 = process.cpuUsage(p0);
    const model = (u1.cpuUserMs + u1.cpuSystemMs - u0.cpuUserMs - u0.cpuSystemMs) / wall;
    const processWide = (p1.user + p1.system) / 1000 / wall;
    console.log(`maxCpuPercent 50: model CPU/wall ${(model * 100).toFixed(1)}%, process ${(processWide * 100).toFixed(1)}% over ${wall.toFixed(0)} ms, ${requests} requests`);
    // The bound is what the limit promises. CPU over wall can only drop when
    // other processes compete for the cores, so the lower bound is loose: it
    // only shows the work was not starved to nothing.
    expect(model).toBeLessThanOrEqual(0.6);
    expect(model).toBeGreaterThan(0.05);
    // the whole process (the main thread's share of handing pieces to JS included)
    // the whole process: the main thread, which takes the pieces and is not
    // limited, adds its share on top; a generous bound still catches a limit
    // that does not hold (unthrottled, this is 100% and more)
    expect(processWide).toBeLessThanOrEqual(0.75);
  });
});

describe('usage', () => {
  it('agrees with the memory reports: pool bytes with the leak report, kv-cache with the tag figure', async () => {
    const m = await load({ threads: 2 });
    const s1 = m.createSession({ contextSize: 128 });
    const s2 = m.createSession({ contextSize: 256 });
    await s1.complete('hello there', { ...GREEDY, maxTokens: 4 });
    const u = m.getResourceUsage();
    const all = { tags: [...MEMORY_TAGS], format: 'json' as const };
    expect(u.poolBytesInUse).toBe(checkMemoryLeaks({ ...all, model: m }).bytes);
    expect(u.poolBytesPeak).toBeGreaterThanOrEqual(u.poolBytesInUse);
    expect(u.kvCacheBytes).toBe(getMemoryDebugInfo().byTag['kv-cache']?.bytes);
    const perPosition = u.kvCacheBytes / (128 + 256);
    expect(Number.isInteger(perPosition) && perPosition > 0).toBe(true); // keys and values of every layer, per position
    expect(u.mappedModelBytes).toBe(fs.statSync(file).size);
    expect(u.activeSessions).toBe(2);
    expect(u.threads).toEqual({ pool: 2, active: 2 });
    expect(u.wallMs).toBeGreaterThan(0);
    await s2.dispose();
    const after = m.getResourceUsage();
    expect(after.activeSessions).toBe(1);
    expect(after.kvCacheBytes).toBe(128 * perPosition);
    expect(after.kvCacheBytes).toBe(getMemoryDebugInfo().byTag['kv-cache']?.bytes);
    expect(after.poolBytesInUse).toBe(checkMemoryLeaks({ ...all, model: m }).bytes);
  });

  it('counts tokens and requests as the completed requests\' stats say, and CPU time', async () => {
    const m = await load();
    const results: GenerationResult[] = [];
    const s = m.createSession({ contextSize: 128 });
    results.push(await s.complete('one two three', { ...GREEDY, maxTokens: 6 }));
    results.push(await s.complete('one two three four', { ...GREEDY, maxTokens: 4 }));
    results.push(await m.complete('five', { ...GREEDY, maxTokens: 3 }));
    await m.evaluate([1, 2, 3]);
    const u = m.getResourceUsage();
    const sum = (f: (r: GenerationResult) => number) => results.reduce((a, r) => a + f(r), 0);
    expect(u.tokensGenerated).toBe(sum((r) => r.stats.generatedTokens));
    // prompts processed, every generated token but the last fed back, and evaluate's 3
    expect(u.tokensProcessed).toBe(sum((r) => r.stats.processedTokens + r.stats.generatedTokens - 1) + 3);
    expect(u.requestsServed).toBe(4);
    expect(u.cpuUserMs + u.cpuSystemMs).toBeGreaterThan(0);
  });

  it('calls the usage callback when the model crosses a fraction of maxMemoryMb, on the main thread', async () => {
    // weights mapped, not repacked (0.87 MiB on AVX-512): the model starts well under a quarter of 4 MiB
    const m = await load({ limits: { maxMemoryMb: 4 }, repackWeights: false });
    const events: MemoryUsageEvent[] = [];
    let wake: () => void = () => {};
    m.setUsageCallback(
      (e) => {
        events.push(e);
        wake();
      },
      { memoryThresholds: [0.25] },
    );
    const arrived = (n: number) => new Promise<void>((resolve) => {
      wake = () => events.length >= n && resolve();
      wake();
    });
    const s = m.createSession({ contextSize: 1024 }); // 2 MiB of KV cache: above a quarter of 4 MiB
    await arrived(1);
    expect(events[0]).toMatchObject({ threshold: 0.25, rising: true, limitBytes: 4 * MIB, tag: 'kv-cache' });
    expect(events[0].inUseBytes).toBeGreaterThanOrEqual(MIB);
    await s.dispose();
    await arrived(2);
    expect(events[1]).toMatchObject({ threshold: 0.25, rising: false });
    m.setUsageCallback(null);
    expect(thrown(() => m.setUsageCallback(() => {}, { memoryThresholds: [0.9, 0.5] }))).toMatchObject({ field: 'memoryThresholds[1]' });
  });
});
