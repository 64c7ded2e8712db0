// Fault injection through the whole package: a sequence of calls (load,
// session, generation, dispose) is run once to count its pool allocations
// across every thread (the load's job thread, the session threads, the main
// thread), then once per allocation with that allocation made to fail
// (_test.failAllocation(n, true)). Every run must end in a HyperionError
// HYPERION_OUT_OF_MEMORY marked `injected` (or, where a failure is allowed to
// be absorbed, succeed and say so in a log record), leave the pool's live bytes
// where they were and no tracked block behind, and the next run without a
// failure must give the same result. The C-level walk (native/tests/
// test_fault_walk.c) covers the same core paths under ASan.
//
// Its own file: the hook is process-wide, so no other test may run beside it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeModel,
  loadModel,
  initMemory,
  getMemoryDebugInfo,
  checkMemoryLeaks,
  configureLogging,
  flushLogs,
  HyperionError,
  type LogRecord,
  type MemoryTag,
} from '../src/index';
import { native } from '../src/native';
import { tempDir, waitFor } from './helpers';

interface TestHooks {
  failAllocation(n: number, allThreads: boolean): void;
  allocationAttempts(allThreads: boolean): number;
}
const hooks = (): TestHooks => native()._test as TestHooks;

let file = '';
const records: LogRecord[] = [];

beforeAll(async () => {
  file = path.join(tempDir('hyperion-walk-'), 'tiny.gguf');
  await makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 9 });
  initMemory({ trackAllocations: true });
  configureLogging({ level: 'warn', console: false, handler: (r) => records.push(r) });
});

afterAll(() => {
  hooks().failAllocation(0, true);
  configureLogging({ level: 'warn', console: true, handler: null });
  initMemory({ reset: true });
});

/** Live pool bytes but those of the given tags (the logger's own always). */
function liveBytes(except: MemoryTag[] = []): number {
  const info = getMemoryDebugInfo();
  let bytes = info.inUseBytes;
  for (const tag of ['logging', ...except] as MemoryTag[]) bytes -= info.byTag[tag]?.bytes ?? 0;
  return bytes;
}

interface Walk {
  /** The sequence under test; returns what the next unfailed run must repeat. */
  run: () => Promise<string>;
  /** Tags whose blocks are process-level caches, not the sequence's (left out of the live-byte figure). */
  cacheTags?: MemoryTag[];
  /** An absorbed failure is allowed when a warning it logged says so. */
  absorbed?: (logged: LogRecord[]) => boolean;
}

interface WalkResult {
  count: number;
  outcomes: Record<string, number>;
  problems: string[];
}

async function settle(target: number, except: MemoryTag[]): Promise<number> {
  await flushLogs();
  try {
    await waitFor(() => liveBytes(except) === target, 3000);
  } catch {
    /* reported by the caller with the figure */
  }
  return liveBytes(except);
}

async function walk(w: Walk): Promise<WalkResult> {
  const except = w.cacheTags ?? [];
  const expected = await w.run(); // warm: one-time process state (logger queue, kernels, profiler buffers)
  await flushLogs();
  await new Promise((r) => setTimeout(r, 100));
  const before = hooks().allocationAttempts(true);
  expect(await w.run()).toBe(expected);
  const count = hooks().allocationAttempts(true) - before;
  const base = await settle(liveBytes(except), except);
  const since = getMemoryDebugInfo().nextSequence;
  const outcomes: Record<string, number> = {};
  const problems: string[] = [];
  for (let n = 1; n <= count && problems.length < 5; n++) {
    records.length = 0;
    let outcome: string;
    hooks().failAllocation(n, true);
    try {
      await w.run();
      outcome = 'absorbed';
    } catch (e) {
      if (!(e instanceof HyperionError)) outcome = `untyped: ${String(e)}`;
      else if (e.code !== 'HYPERION_OUT_OF_MEMORY' || e.fields.injected !== 1) outcome = `${e.code}: ${e.message}`;
      else outcome = e.code;
    } finally {
      hooks().failAllocation(0, true);
    }
    const left = (await settle(base, except)) - base;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (outcome === 'absorbed' && !(w.absorbed && w.absorbed(records))) problems.push(`allocation ${n}: the failure was absorbed silently`);
    else if (outcome !== 'absorbed' && outcome !== 'HYPERION_OUT_OF_MEMORY') problems.push(`allocation ${n}: ${outcome}`);
    if (left !== 0) problems.push(`allocation ${n}: ${left} bytes left behind (${outcome})`);
    let again: string;
    try {
      again = await w.run();
    } catch (e) {
      again = `failed: ${String(e)}`;
    }
    if (again !== expected) problems.push(`the run after failing allocation ${n}: ${again}`);
  }
  await settle(base, except);
  const leaks = checkMemoryLeaks({ sinceSequence: since, tags: ['kv-cache', 'activations', 'scratch', 'tokenizer', 'sampler', 'model', 'session', 'binding'] });
  if (leaks.blocks !== 0) problems.push(`tracked blocks left: ${leaks.text}`);
  console.log(`fault walk: ${count} allocations`, outcomes);
  return { count, outcomes, problems };
}

/** Text of a session's two requests: the second reuses the first's cache. */
async function sessionWalk(): Promise<string> {
  const model = await loadModel(file, { threads: 2 });
  try {
    const session = model.createSession({ contextSize: 64 });
    try {
      const first = await session.complete('Once upon a time', { maxTokens: 4, temperature: 0 });
      const second = await session.complete(`Once upon a time${first.text} there`, { maxTokens: 4, temperature: 0 });
      return `${first.text}|${second.text}|${second.stats.cachedTokens}`;
    } finally {
      await session.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** Streaming with every sampling option, a temporary session, evaluate and the tokenizer. */
async function optionsWalk(): Promise<string> {
  const model = await loadModel(file, { threads: 1, batchSize: 4 });
  try {
    const ids = model.tokenize('a tale of two');
    const session = model.createSession({ contextSize: 48 });
    const parts: string[] = [model.detokenize(ids)];
    try {
      const stream = session.generate(ids, {
        maxTokens: 6, temperature: 0.9, topK: 30, topP: 0.9, minP: 0.02, repeatPenalty: 1.2, frequencyPenalty: 0.3,
        presencePenalty: 0.2, logitBias: { 5: -Infinity }, seed: 17, stop: ['zz', 'q '], logprobs: true, debug: { topN: 3 },
        timeoutMs: 60_000,
      });
      for await (const piece of stream) parts.push(`${piece.token}:${piece.candidates?.length}`);
      parts.push((await stream.result).stopReason);
    } finally {
      await session.dispose();
    }
    parts.push((await model.complete([1, 7, 9], { maxTokens: 3, temperature: 0 })).text);
    const logits = await model.evaluate([1, 2, 3], { allLogits: true });
    parts.push(String(logits.length));
    return parts.join('|');
  } finally {
    await model.dispose();
  }
}

/** A profiled request (the per-request capture and its summary). */
async function profileWalk(): Promise<string> {
  const model = await loadModel(file, { threads: 1 });
  try {
    const session = model.createSession({ contextSize: 32 });
    try {
      const r = await session.complete([1, 5, 6], { maxTokens: 3, temperature: 0, profile: true });
      return `${r.text}|${r.profile ? 'profiled' : 'no profile'}`;
    } finally {
      await session.dispose();
    }
  } finally {
    await model.dispose();
  }
}

// Repacking the weights at load (LoadModelOptions.repackWeights, on by
// default; it copies Q4_0 and Q8_0 weights on AVX-512 CPUs) is an optimisation: when one
// of its allocations fails, the model loads with every weight mapped and a
// warning says so. Those failures (three: the slot list, the tensor table, the
// block) are the only ones a load may absorb; elsewhere, none copy.
const repackAbsorbed = (logged: LogRecord[]): boolean =>
  logged.some((x) => x.level === 'warn' && x.category === 'memory' && /weights not repacked/.test(x.message));

function expectOnlyRepackAbsorbed(r: WalkResult): void {
  expect(r.problems).toEqual([]);
  expect(r.outcomes.absorbed ?? 0).toBeLessThanOrEqual(3);
  expect(r.outcomes.HYPERION_OUT_OF_MEMORY + (r.outcomes.absorbed ?? 0)).toBe(r.count);
}

describe('every pool allocation of a request can fail cleanly', () => {
  it('load + session + two generations + dispose', async () => {
    const r = await walk({ run: sessionWalk, absorbed: repackAbsorbed });
    expect(r.count).toBeGreaterThan(40);
    expectOnlyRepackAbsorbed(r);
  }, 120_000);

  it('sampling options, stop strings, debug, timeout, a temporary session, evaluate, tokenize', async () => {
    const r = await walk({ run: optionsWalk, absorbed: repackAbsorbed });
    expect(r.count).toBeGreaterThan(60);
    expectOnlyRepackAbsorbed(r);
  }, 120_000);

  // Profiling a request is best-effort by contract (GenerationResult.profile is
  // absent when no capture could be made): a failed allocation of the capture
  // or of a thread's zone buffer loses (part of) the profile, with a warning,
  // and the request itself succeeds. The profiler's per-thread zone buffers
  // live as long as their thread's registration and are reaped at the next
  // capture, so the 'profiler' tag is left out of the live-byte figure.
  it('a profiled request: the capture is best-effort, the request is not', async () => {
    const r = await walk({
      run: profileWalk,
      cacheTags: ['profiler'],
      absorbed: (logged) =>
        repackAbsorbed(logged) || logged.some((x) => x.level === 'warn' && x.category === 'performance' && /profile/.test(x.message)),
    });
    expect(r.problems).toEqual([]);
    expect(r.outcomes.HYPERION_OUT_OF_MEMORY).toBeGreaterThan(40);
    expect(Object.keys(r.outcomes).sort()).toEqual(['HYPERION_OUT_OF_MEMORY', 'absorbed']);
  }, 120_000);
});
