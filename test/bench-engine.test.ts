// The end-to-end benchmark's rows (src/bench/engine.ts): the decode ceiling is
// the bandwidth over every byte a decoded token reads (weights and KV cache),
// and the bandwidth is the higher of the caller's probe and the run's own; the
// share of the weights in 2 MiB pages is passed on when the run measured it.
// Pure arithmetic on a made-up run; nothing is timed here.
import { describe, expect, it } from 'vitest';
import { engineRows, type EngineRun } from '../src/bench/engine';
import type { MachineLimits } from '../src/profiler';

const run: EngineRun = {
  loadMs: 10,
  promptTokens: 512,
  promptMs: 1000,
  promptRunsMs: [1000, 1000],
  genTokens: 100,
  genMs: 4000, // 25 tok/s
  tokenMs: Array(100).fill(40),
  weightBytesPerToken: 600e6,
  kvReadBytesPerToken: 15e6,
  kvBytes: 20e6,
  fileBytes: 640e6,
  threads: 2,
  peakRssBytes: 700e6,
  bandwidthGbps: 20,
};

const limits = { bandwidthGbps: 11, bandwidthGbpsMt: 21, mtThreads: 2 } as MachineLimits;

describe('engine benchmark rows', () => {
  it('divides the bandwidth by the weight and KV-cache bytes of a token', () => {
    const tg = engineRows(run, 'tinyllama-1.1b', 'q4_0', limits)[1];
    expect(tg.value).toBeCloseTo(25, 10);
    const m = tg.metrics as Record<string, number>;
    expect(m.bytesPerToken).toBe(615e6);
    expect(m.bandwidthGbps).toBe(21); // the caller's 2-thread probe beat the run's own 20
    expect(m.decodeCeilingTokensPerSecond).toBeCloseTo(21e9 / 615e6, 10);
    expect(m.shareOfLimit).toBeCloseTo(25 / (21e9 / 615e6), 10);
  });

  it('uses the run probe when it is higher, and weights alone when the run reports no cache reads', () => {
    const { kvReadBytesPerToken: _, ...older } = run;
    const tg = engineRows({ ...older, bandwidthGbps: 24 }, 'tinyllama-1.1b', 'q4_0', limits)[1];
    const m = tg.metrics as Record<string, number>;
    expect(m.bandwidthGbps).toBe(24);
    expect(m.kvReadBytesPerToken).toBe(0);
    expect(m.decodeCeilingTokensPerSecond).toBeCloseTo(24e9 / 600e6, 10);
  });

  it('reports the share of the weights mapped in 2 MiB pages, or null when the run could not tell', () => {
    const measured = engineRows({ ...run, weightsResidentBytes: 600e6, weightsHugePageBytes: 150e6 }, 'tinyllama-1.1b', 'q4_0', limits)[1];
    expect(measured.metrics.weightsHugePageShare).toBeCloseTo(0.25, 10);
    expect(engineRows(run, 'tinyllama-1.1b', 'q4_0', limits)[1].metrics.weightsHugePageShare).toBeNull();
  });

  it('gives the ceiling the weights own memory sets when the run measured how fast it streams', () => {
    const tg = engineRows({ ...run, weightsReadGbps: 18 }, 'tinyllama-1.1b', 'q4_0', limits)[1];
    const m = tg.metrics as Record<string, number>;
    expect(m.weightsReadGbps).toBe(18);
    // decode rate over (18 GB/s / bytes per token), next to the machine ceiling's share
    expect(m.shareOfWeightsReadLimit).toBeCloseTo(tg.value / (18e9 / m.bytesPerToken), 10);
    expect(m.shareOfWeightsReadLimit).toBeGreaterThan(m.shareOfLimit);
    const none = engineRows(run, 'tinyllama-1.1b', 'q4_0', limits)[1].metrics;
    expect(none.weightsReadGbps).toBeNull();
    expect(none.shareOfWeightsReadLimit).toBeNull();
  });

  it('carries the host steal share of each phase into its row, or null when the run could not read it', () => {
    const [pp, tg] = engineRows({ ...run, promptStealShare: 0.02, decodeStealShare: 0.34 }, 'tinyllama-1.1b', 'q4_0', limits);
    expect(pp.metrics.stealShare).toBe(0.02);
    expect(tg.metrics.stealShare).toBe(0.34);
    const [ppNone, tgNone] = engineRows(run, 'tinyllama-1.1b', 'q4_0', limits);
    expect(ppNone.metrics.stealShare).toBeNull();
    expect(tgNone.metrics.stealShare).toBeNull();
  });
});
