// bench/suite.ts — the benchmark suite behind `hyperion bench` and `npm run bench`:
// kernel micro-benchmarks (kernels.ts) and end-to-end runs (engine.ts), with the
// machine's description, into one result (types.ts). Measures; asserts nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../native';
import { getCpuFeatures, version } from '../system';
import { getMachineLimits } from '../profiler';
import { modelMakerCatalog } from '../maker';
import { invalidArgument } from '../errors';
import { kernelTasks, runKernelTask, type KernelTiming } from './kernels';
import { defaultModelsDir, engineRowNames, engineRows, ensureEngineModel, runEngineChild } from './engine';
import type { BenchProgress, BenchResult, BenchRow, MachineDescription } from './types';

export interface SuiteOptions {
  /** Seconds instead of minutes: the tiny shape only, few samples (CI and tests; the figures are rough). */
  quick?: boolean;
  /** Keep rows whose name contains any of these (case-insensitive). */
  filter?: string[];
  /** Shape of the end-to-end models (default stories110m; tiny with quick). */
  shape?: string;
  /** Model types of the end-to-end runs (default: every type the model maker writes; f32, q4_0, q4_k_m with quick). */
  types?: string[];
  /** Thread counts of the end-to-end runs (default 1 and 2). */
  threads?: number[];
  promptTokens?: number;
  genTokens?: number;
  /** Folder of the cached end-to-end models (default ~/.cache/hyperion-runtime/models). */
  modelsDir?: string;
  onProgress?: BenchProgress;
  /** Called with each row as soon as it is measured. */
  onRow?: (row: BenchRow) => void;
  /** Called with a line worth telling the user (a model being made, a row skipped). */
  onNote?: (line: string) => void;
}

interface ModeDefaults {
  shape: string;
  /** End-to-end types; undefined: every type the model maker writes. */
  types?: string[];
  promptTokens: number;
  genTokens: number;
  promptRuns: number;
  timing: KernelTiming;
}

const DEFAULTS: ModeDefaults = { shape: 'stories110m', promptTokens: 128, genTokens: 32, promptRuns: 3, timing: { timeMs: 100, iterations: 6, warmupMs: 25 } };
// quick: one float, one block and one K-quant type end to end
const QUICK: ModeDefaults = { shape: 'tiny', types: ['f32', 'q4_0', 'q4_k_m'], promptTokens: 16, genTokens: 8, promptRuns: 2, timing: { timeMs: 2, iterations: 3, warmupMs: 1 } };

function gitCommit(): string | null {
  if (!fs.existsSync(path.join(packageRoot, '.git'))) return null;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

export async function describeMachine(): Promise<{ machine: MachineDescription; cpuFeatures: BenchResult['cpuFeatures'] }> {
  const cpu = getCpuFeatures();
  const limits = await getMachineLimits();
  const flags = Object.entries(cpu).filter(([, v]) => v === true).map(([k]) => k);
  return {
    machine: {
      cpuModel: cpu.modelName || os.cpus()[0]?.model || 'unknown',
      arch: cpu.arch,
      logicalCores: cpu.logicalCores,
      physicalCores: cpu.physicalCores,
      memoryBytes: os.totalmem(),
      os: { platform: os.platform(), release: os.release(), type: os.type() },
      node: process.version,
      limits,
    },
    cpuFeatures: { bestIsa: cpu.bestIsa, kernels: { ...cpu.kernels }, flags },
  };
}

function positiveInt(value: number | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalidArgument(field, `an integer 1..${max}`, value);
  return value;
}

export async function runBenchSuite(options: SuiteOptions = {}): Promise<BenchResult> {
  const started = Date.now();
  const quick = options.quick === true;
  const d = quick ? QUICK : DEFAULTS;
  const catalog = modelMakerCatalog();
  const shape = options.shape ?? d.shape;
  if (!catalog.shapes.some((s) => s.name === shape)) throw invalidArgument('shape', `one of ${catalog.shapes.map((s) => s.name).join(', ')}`, shape);
  const types = options.types ?? d.types ?? catalog.types;
  for (const t of types) if (!catalog.types.includes(t)) throw invalidArgument('types', `types from ${catalog.types.join(', ')}`, t);
  const threads = options.threads ?? [1, 2];
  threads.forEach((t) => positiveInt(t, 'threads', 1, 256));
  const promptTokens = positiveInt(options.promptTokens, 'promptTokens', d.promptTokens, 4096);
  const genTokens = positiveInt(options.genTokens, 'genTokens', d.genTokens, 4096);
  const filter = (options.filter ?? []).map((f) => f.trim()).filter((f) => f.length > 0);
  const selected = (name: string) => filter.length === 0 || filter.some((f) => name.toLowerCase().includes(f.toLowerCase()));
  const modelsDir = path.resolve(options.modelsDir ?? defaultModelsDir());
  const note = options.onNote ?? (() => {});

  const kernelShapes = quick ? catalog.shapes.filter((s) => s.name === 'tiny') : catalog.shapes;
  const kernels = kernelTasks(kernelShapes).filter((t) => selected(t.name));
  const runs: Array<{ type: string; threads: number }> = [];
  for (const type of types) {
    for (const t of threads) {
      const names = engineRowNames(shape, type, t);
      if (selected(names.pp) || selected(names.tg)) runs.push({ type, threads: t });
    }
  }
  const total = kernels.length + runs.length;
  const progress = options.onProgress ?? (() => {});
  progress(0, total, 'measuring the machine (bandwidth, peak arithmetic)');
  const { machine, cpuFeatures } = await describeMachine();
  const timing: KernelTiming = d.timing;

  const rows: BenchRow[] = [];
  const skipped: BenchResult['skipped'] = [];
  const add = (row: BenchRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  let done = 0;
  for (const task of kernels) {
    progress(done, total, task.name);
    try {
      add(await runKernelTask(task, machine.limits, timing));
    } catch (e) {
      skipped.push({ name: task.name, reason: (e as Error).message });
      note(`skipped ${task.name}: ${(e as Error).message}`);
    }
    done++;
  }
  for (const run of runs) {
    const names = engineRowNames(shape, run.type, run.threads);
    progress(done, total, `${names.pp.replace('/pp/', '/pp+tg/')}`);
    try {
      const model = await ensureEngineModel(modelsDir, shape, run.type);
      if (model.made) note(`made ${model.path} (cached for the next runs)`);
      const result = await runEngineChild(model.path, { threads: run.threads, promptTokens, genTokens, promptRuns: d.promptRuns });
      for (const row of engineRows(result, shape, run.type, machine.limits)) if (selected(row.name)) add(row);
    } catch (e) {
      for (const name of [names.pp, names.tg]) if (selected(name)) skipped.push({ name, reason: (e as Error).message });
      note(`skipped ${names.pp} and tg: ${(e as Error).message}`);
    }
    done++;
  }
  progress(total, total, 'done');

  return {
    benchmark: 'hyperion-bench',
    formatVersion: 1,
    timestamp: new Date(started).toISOString(),
    commit: gitCommit(),
    package: { name: 'hyperion-runtime', version },
    options: {
      quick,
      filter,
      kernelShapes: kernelShapes.map((s) => s.name),
      engineShape: runs.length > 0 ? shape : null,
      engineTypes: [...new Set(runs.map((r) => r.type))],
      engineThreads: [...new Set(runs.map((r) => r.threads))],
      promptTokens,
      genTokens,
      promptRuns: d.promptRuns,
      kernelTimeMs: timing.timeMs,
    },
    machine,
    cpuFeatures,
    rows,
    skipped,
    durationMs: Date.now() - started,
  };
}

/** Read a result file written by an earlier run; throws HYPERION_INVALID_ARGUMENT naming the file when it is not one. */
export function readBenchResult(file: string): BenchResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalidArgument('--compare', 'a result file of hyperion bench', `${file} (${(e as Error).message})`);
  }
  const r = parsed as Partial<BenchResult>;
  if (r?.benchmark !== 'hyperion-bench' || !Array.isArray(r.rows)) {
    throw invalidArgument('--compare', 'a result file of hyperion bench (benchmark: "hyperion-bench")', file);
  }
  return r as BenchResult;
}
