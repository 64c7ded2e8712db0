// bench/engine.ts — end-to-end runs: prompt processing and decode speed of a
// model-maker model, one child process per (type, threads) run so each run
// starts cold and its peak RSS is its own. Used by the suite (`hyperion
// bench`) and by benchmarks/engine.mjs (the issue-3 figures, llama.cpp side by side).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeModel } from '../maker';
import { defaultCacheDir } from '../cli/demo';
import type { MachineLimits } from '../profiler';
import { sampleStats } from './stats';
import type { BenchRow } from './types';

/** What the child process reports (native/addon/bench.cc's benchEngine, plus its peak RSS). */
export interface EngineRun {
  loadMs: number;
  /** Bytes of weights the load copied into a faster layout (LoadModelOptions.repackWeights); 0 when none. */
  repackedBytes?: number;
  promptTokens: number;
  /** The last prompt run; promptRunsMs has every run. */
  promptMs: number;
  promptRunsMs: number[];
  genTokens: number;
  genMs: number;
  /** Each decoded token's time. */
  tokenMs: number[];
  weightBytesPerToken: number;
  /** Mean KV-cache bytes one decoded token's attention reads (every cached position, every layer). */
  kvReadBytesPerToken?: number;
  kvBytes: number;
  fileBytes: number;
  threads: number;
  peakRssBytes: number;
  /** The streaming bandwidth (GB/s, the run's thread count) probed in the run's process right after the decode. */
  bandwidthGbps?: number;
  /** The weights' resident bytes after the decode (the model mapping and the repacked copies) and how many
   * of them are mapped in 2 MiB pages (/proc/self/smaps; absent where it is unreadable). Weights in 4 KiB
   * pages decoded tinyllama 4-12% slower. */
  weightsResidentBytes?: number;
  weightsHugePageBytes?: number;
  /** How fast the memory holding the layer weights streams (GB/s, the machine probe's read loop over the
   * weights as the decode reads them, mapped or repacked, after the decode). On a virtual machine the
   * page cache can sit on memory that streams
   * slower than the fresh memory the bandwidth probe reads (here 20.8 against 23.4 GB/s at 2 threads). */
  weightsReadGbps?: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests ("steal" in /proc/stat) during the
   * last prompt run and during the decode (absent where /proc/stat is unreadable, or when the phase was
   * shorter than one of its clock ticks). Threads that meet at a barrier every product wait for a
   * descheduled one: 34% steal halved the tinyllama decode on the VM here. */
  promptStealShare?: number;
  decodeStealShare?: number;
}

/** Share of the resident weights mapped in 2 MiB pages, or null when the run could not tell. */
export function weightsHugePageShare(run: EngineRun): number | null {
  if (!run.weightsResidentBytes || run.weightsHugePageBytes === undefined) return null;
  return run.weightsHugePageBytes / run.weightsResidentBytes;
}

export interface EngineRunOptions {
  threads: number;
  promptTokens: number;
  genTokens: number;
  /** Times the prompt is processed (fresh context each), for its spread; at least 1. */
  promptRuns: number;
  batchSize?: number;
  /** LoadModelOptions.repackWeights for the run (default true). */
  repackWeights?: boolean;
}

/** The folder engine models are cached in (shared with benchmarks/engine.mjs). */
export function defaultModelsDir(): string {
  return path.join(defaultCacheDir(), 'models');
}

export function engineModelPath(modelsDir: string, shape: string, type: string): string {
  return path.join(modelsDir, `${shape}-${type}.gguf`);
}

/** The model file for shape and type, made once with the model maker and reused after. */
export async function ensureEngineModel(modelsDir: string, shape: string, type: string,
  onProgress?: (done: number, total: number) => void): Promise<{ path: string; made: boolean }> {
  const file = engineModelPath(modelsDir, shape, type);
  if (fs.existsSync(file)) return { path: file, made: false };
  fs.mkdirSync(modelsDir, { recursive: true });
  // write under a temporary name, so an interrupted make never leaves a truncated model in the cache
  const partial = `${file}.partial-${process.pid}`;
  try {
    await makeModel(partial, { shape, type, seed: 1, onProgress });
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return { path: file, made: true };
}

/** One run in a child process (dist/cjs/bench/engine-child.js). Rejects with the child's error text. */
export function runEngineChild(file: string, o: EngineRunOptions): Promise<EngineRun> {
  const script = path.join(__dirname, 'engine-child.js');
  const arg = JSON.stringify({ file, ...o });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, arg], { encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) {
        const text = (stderr || error.message).trim().split('\n').slice(-3).join(' ');
        reject(new Error(`engine run failed (${path.basename(file)}, ${o.threads} threads): ${text}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as EngineRun);
      } catch {
        reject(new Error(`engine run printed no result (${path.basename(file)}): ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** The row names a (type, threads) run produces. */
export function engineRowNames(shape: string, type: string, threads: number): { pp: string; tg: string } {
  return { pp: `engine/pp/${type}/${shape}/${threads}t`, tg: `engine/tg/${type}/${shape}/${threads}t` };
}

/**
 * The two rows of one run: prompt processing (tokens/s over each prompt run)
 * and decode (tokens/s over the decoded tokens), with the decode ceiling the
 * measured bandwidth implies (bandwidth / bytes read per token: the weights and the KV cache).
 */
export function engineRows(run: EngineRun, shape: string, type: string, limits: MachineLimits): BenchRow[] {
  const names = engineRowNames(shape, type, run.threads);
  const pp = sampleStats(run.promptRunsMs);
  const tg = sampleStats(run.tokenMs);
  const decodeRate = run.genTokens / (run.genMs / 1000);
  // the higher of the run's own probe (same process, right after its decode) and the caller's: a
  // read loop cannot beat the machine, so the higher figure is the truer ceiling (a probe that lands
  // in a neighbour's burst of traffic reads low and would put decode above 100%)
  const callers = run.threads > 1 ? limits.bandwidthGbpsMt : limits.bandwidthGbps;
  const bandwidth = Math.max(callers, run.bandwidthGbps && run.bandwidthGbps > 0 ? run.bandwidthGbps : 0);
  // a decoded token reads every weight matrix once and the whole KV cache so far (~2% of the bytes
  // for tinyllama after a 512-token prompt); both are memory traffic the token cannot avoid
  const bytesPerToken = run.weightBytesPerToken + (run.kvReadBytesPerToken ?? 0);
  const ceiling = (bandwidth * 1e9) / bytesPerToken;
  // the same ceiling from the weights' own memory: what decode could reach reading where its weights live
  const weightsRead = run.weightsReadGbps && run.weightsReadGbps > 0 ? run.weightsReadGbps : null;
  const common = {
    fileBytes: run.fileBytes,
    kvBytes: run.kvBytes,
    peakRssBytes: run.peakRssBytes,
    loadMs: run.loadMs,
  };
  const rme = (s: { rme: number }) => (Number.isFinite(s.rme) ? s.rme : null);
  return [
    {
      name: names.pp,
      kind: 'engine',
      op: 'pp',
      type,
      shape,
      detail: `prompt of ${run.promptTokens} tokens in one call`,
      threads: run.threads,
      value: run.promptTokens / (pp.mean / 1000),
      unit: 'tok/s',
      rme: rme(pp),
      samples: pp.samples,
      metrics: { promptTokens: run.promptTokens, meanPromptMs: pp.mean, stealShare: run.promptStealShare ?? null, ...common },
    },
    {
      name: names.tg,
      kind: 'engine',
      op: 'tg',
      type,
      shape,
      detail: `${run.genTokens} tokens decoded one at a time (greedy)`,
      threads: run.threads,
      value: decodeRate,
      unit: 'tok/s',
      rme: rme(tg),
      samples: tg.samples,
      metrics: {
        genTokens: run.genTokens,
        meanTokenMs: tg.mean,
        weightBytesPerToken: run.weightBytesPerToken,
        kvReadBytesPerToken: run.kvReadBytesPerToken ?? 0,
        bytesPerToken,
        bandwidthGbps: bandwidth,
        decodeCeilingTokensPerSecond: ceiling,
        shareOfLimit: decodeRate / ceiling,
        weightsReadGbps: weightsRead,
        shareOfWeightsReadLimit: weightsRead ? decodeRate / ((weightsRead * 1e9) / bytesPerToken) : null,
        weightsHugePageShare: weightsHugePageShare(run),
        stealShare: run.decodeStealShare ?? null,
        ...common,
      },
    },
  ];
}
