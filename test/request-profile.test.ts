// Per-request profiles: generate()/complete() with `profile: true` return that
// request's profile summary (result.profile) without a global profiling
// session; the phases agree with the request's stats; concurrent profiled
// requests each see only their own zones and tokens; profiling stays off.
import path from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { loadModel, makeModel, isProfiling, startProfiling, stopProfiling, getProfile, type Model, type ProfileSummary, type GenerationResult } from '../src/index';
import { tempDir } from './helpers';

let model: Model;

beforeAll(async () => {
  const file = path.join(tempDir(), 'tiny-q4_0.gguf');
  await makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 5 });
  model = await loadModel(file, { threads: 2 });
});

afterAll(async () => {
  await model?.dispose();
});

function phase(p: ProfileSummary, name: string) {
  const ph = p.phases.find((x) => x.phase === name);
  expect(ph, `phase ${name}`).toBeDefined();
  return ph!;
}

const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + ((i * 37) % 900));
const OPTS = { temperature: 0, stopAtEos: false, profile: true } as const;

/** The layer zones of a request: one per layer per forward pass (the prompt fits in one chunk; the last token has none). */
function expectOwnWork(r: GenerationResult, promptLen: number): void {
  const p = r.profile!;
  expect(p.kind).toBe('request');
  expect(r.stats.processedTokens).toBe(promptLen);
  expect(phase(p, 'prefill').tokens).toBe(r.stats.processedTokens);
  expect(phase(p, 'decode').tokens).toBe(r.stats.generatedTokens);
  expect(phase(p, 'sample').tokens).toBe(r.stats.generatedTokens);
  const layer = p.ops.find((o) => o.category === 'layer');
  expect(layer?.calls).toBe(model.info.layers * r.stats.generatedTokens);
}

describe('per-request profiles', () => {
  it('complete() with profile: true returns the request summary, agreeing with its stats', async () => {
    expect(isProfiling()).toBe(false);
    const prompt = ids(20, 3);
    const r = await model.complete(prompt, { ...OPTS, maxTokens: 24 });
    expect(r.stats.generatedTokens).toBe(24);
    expect(r.profile).toBeDefined();
    const p = r.profile!;
    expect(p.request).toBeGreaterThan(0);
    expectOwnWork(r, 20);
    // weight products of the prompt (matrix-matrix) and of decode (matrix-vector) are named by kernel and shape
    expect(p.ops.some((o) => /^matmul \d+x\d+$/.test(o.name) && o.type === 'q4_0')).toBe(true);
    expect(p.ops.some((o) => /^matvec \d+x\d+$/.test(o.name))).toBe(true);
    expect(p.ops.some((o) => o.name === 'detokenize')).toBe(true);
    // the generation thread and the pool's workers are named in the profile
    expect(p.threads.map((t) => t.name)).toEqual(expect.arrayContaining(['hyperion-gen', 'worker-1']));

    // Tokens/s: the request's phase zones cover what the stats time (prefill: from the start of the work to the end
    // of the prompt; decode: every step from the first sample to the last token's callback), so the zones' time is
    // at most the stats' time and falls short only by the gaps between steps (an abort-flag check, clean-up after
    // the last step: microseconds per step against the step's forward pass). Hence profile tokens/s >= stats
    // tokens/s, and within 15% of it even on a loaded machine (a preemption inside a zone counts in both).
    const prefill = phase(p, 'prefill');
    const decode = phase(p, 'decode');
    const close = (profiled: number, stats: number) => {
      expect(profiled).toBeGreaterThanOrEqual(stats * (1 - 1e-6));
      expect(profiled).toBeLessThanOrEqual(stats * 1.15);
    };
    close(prefill.tokensPerSecond!, r.stats.promptTokensPerSecond);
    close(decode.tokensPerSecond!, r.stats.decodeTokensPerSecond);
    expect(isProfiling()).toBe(false);
  });

  it('a text prompt is tokenized, and generate() streams then returns the profile on its result', async () => {
    const stream = model.generate('Once upon a time', { ...OPTS, maxTokens: 6 });
    let n = 0;
    for await (const piece of stream) if (piece) n++;
    const r = await stream.result;
    expect(n).toBe(6);
    expect(phase(r.profile!, 'decode').tokens).toBe(6);
    expect(phase(r.profile!, 'prefill').tokens).toBe(r.stats.processedTokens);
  });

  it('without profile: true there is no profile', async () => {
    const r = await model.complete(ids(8, 1), { temperature: 0, maxTokens: 4, stopAtEos: false });
    expect(r.profile).toBeUndefined();
    expect('profile' in r).toBe(false);
    const off = await model.complete(ids(8, 1), { temperature: 0, maxTokens: 4, stopAtEos: false, profile: false });
    expect(off.profile).toBeUndefined();
  });

  it('two concurrent profiled requests on two sessions each get only their own tokens', async () => {
    const a = model.createSession();
    const b = model.createSession();
    try {
      for (let round = 0; round < 3; round++) {
        const [ra, rb] = await Promise.all([
          a.complete(ids(17, 5), { ...OPTS, maxTokens: 21 }),
          b.complete(ids(6, 9), { ...OPTS, maxTokens: 9 }),
        ]);
        a.reset();
        b.reset();
        expect(ra.profile!.request).not.toBe(rb.profile!.request);
        expectOwnWork(ra, 17);
        expectOwnWork(rb, 6);
      }
    } finally {
      await a.dispose();
      await b.dispose();
    }
    expect(isProfiling()).toBe(false);
  });

  it('an aborted profiled request still ends its capture; later ones still get profiles', async () => {
    const ctl = new AbortController();
    const stream = model.generate(ids(10, 2), { ...OPTS, maxTokens: 1000, signal: ctl.signal });
    let n = 0;
    await expect(
      (async () => {
        for await (const piece of stream) {
          void piece;
          if (++n === 3) ctl.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'HYPERION_ABORTED' });
    // 16 captures at most at once: if requests leaked their captures, the 17th would come back without a profile
    for (let i = 0; i < 17; i++) {
      const r = await model.complete(ids(4, i), { ...OPTS, maxTokens: 2 });
      expect(r.profile, `request ${i}`).toBeDefined();
    }
    expect(isProfiling()).toBe(false);
  });
});

describe('thread names', () => {
  it("an async job's thread carries its job name in a session profile", async () => {
    startProfiling();
    try {
      await model.evaluate(ids(9, 4));
    } finally {
      await stopProfiling();
    }
    const p = await getProfile();
    expect(p.threads.map((t) => t.name)).toContain('hyperion-eval');
    // prompts given as text are tokenized under a "tokenize" op zone (on the calling thread)
    startProfiling();
    try {
      model.tokenize('Once upon a time');
    } finally {
      await stopProfiling();
    }
    expect((await getProfile()).ops.some((o) => o.name === 'tokenize')).toBe(true);
  });
});
