// bench/types.ts — the result file of `hyperion bench` (schemas/bench.schema.json
// describes the same shape; docs/benchmarks.md explains each field).
import type { MachineLimits } from '../profiler';

export type BenchUnit = 'GB/s' | 'GFLOP/s' | 'tok/s';

/** One measured row. Rows are matched across runs by `name`. */
export interface BenchRow {
  /** Unique and stable: kernel/<op>[/<type>]/<shape>[/<matrix>] or engine/<pp|tg>/<type>/<shape>/<threads>t. */
  name: string;
  kind: 'kernel' | 'engine';
  op: string;
  type: string | null;
  shape: string;
  /** What one sample is, in words (matrix and dimensions, tokens, context). */
  detail: string;
  threads: number;
  /** The row's main figure; higher is better. `--compare` compares it. */
  value: number;
  unit: BenchUnit;
  /** Relative margin of error of `value` in percent (95%), null when there are too few samples. */
  rme: number | null;
  /** Timed samples behind `value`. */
  samples: number;
  /** Every figure of the row (throughputs, share of the machine's limits, sizes). */
  metrics: Record<string, number | string | boolean | null>;
}

export interface MachineDescription {
  cpuModel: string;
  arch: string;
  logicalCores: number;
  physicalCores: number;
  memoryBytes: number;
  os: { platform: string; release: string; type: string };
  node: string;
  /** Measured by the profiler's probes (getMachineLimits). */
  limits: MachineLimits;
}

export interface BenchResult {
  benchmark: 'hyperion-bench';
  formatVersion: 1;
  timestamp: string;
  /** git commit of the package's checkout, null outside one. */
  commit: string | null;
  package: { name: string; version: string };
  options: {
    quick: boolean;
    filter: string[];
    kernelShapes: string[];
    engineShape: string | null;
    engineTypes: string[];
    engineThreads: number[];
    promptTokens: number;
    genTokens: number;
    promptRuns: number;
    kernelTimeMs: number;
  };
  machine: MachineDescription;
  /** The instruction set each kernel group uses in this run, and the CPU's feature flags. */
  cpuFeatures: { bestIsa: string; kernels: Record<string, string>; flags: string[] };
  rows: BenchRow[];
  /** Rows that could not run, with the reason. */
  skipped: Array<{ name: string; reason: string }>;
  durationMs: number;
}

/** Reports progress: `done` of `total` steps, `label` the step starting now. */
export type BenchProgress = (done: number, total: number, label: string) => void;
