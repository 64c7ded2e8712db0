// bench/kernels.ts — kernel micro-benchmarks: every op and weight type at the
// dimensions of the model maker's named shapes, timed with tinybench through
// the addon's kernel benchmark handles (native/addon/kernel_bench.cc), judged
// against the machine's measured limits (a roofline: bandwidth × intensity,
// capped by the peak arithmetic rate).
import { native } from '../native';
import type { MachineLimits } from '../profiler';
import type { MakerCatalog } from '../maker';
import type { BenchRow, BenchUnit } from './types';

/** The weight types with matrix kernels, as the suite names them. */
export const KERNEL_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k', 'q5_k', 'q6_k'] as const;

/** Tokens of one matrix-matrix (prompt processing) call. */
export const MATMUL_TOKENS = 64;

export interface KernelTask {
  name: string;
  op: string;
  type: string | null;
  shape: string;
  detail: string;
  unit: BenchUnit;
  /** The spec kernelBenchCreate takes (copies filled in at run time for matvec). */
  spec: Record<string, number | string>;
}

type Shape = MakerCatalog['shapes'][number];

/** The tasks for the given shapes, in a fixed order. */
export function kernelTasks(shapes: Shape[]): KernelTask[] {
  const tasks: KernelTask[] = [];
  for (const s of shapes) {
    const matrices: Array<[string, number, number]> = [
      ['ffn_up', s.feedForward, s.embedding], // [n_ff, n_embd]: rows x cols
      ['ffn_down', s.embedding, s.feedForward],
      ['output', s.vocab, s.embedding],
    ];
    for (const type of KERNEL_TYPES) {
      for (const [m, rows, cols] of matrices) {
        tasks.push({ name: `kernel/matvec/${type}/${s.name}/${m}`, op: 'matvec', type, shape: s.name, detail: `${m} ${rows}x${cols}, 1 token`,
          unit: 'GB/s', spec: { op: 'matvec', type, rows, cols } });
      }
      // prompt processing multiplies the layer matrices; the output matrix only sees the last token
      for (const [m, rows, cols] of matrices.slice(0, 2)) {
        tasks.push({ name: `kernel/matmul/${type}/${s.name}/${m}`, op: 'matmul', type, shape: s.name,
          detail: `${m} ${rows}x${cols}, ${MATMUL_TOKENS} tokens`, unit: 'GFLOP/s', spec: { op: 'matmul', type, rows, cols, tokens: MATMUL_TOKENS } });
      }
    }
    const headDim = s.embedding / s.heads;
    const cheap: Array<[string, string | null, string, Record<string, number | string>]> = [
      ['rmsnorm', null, `n ${s.embedding}`, { op: 'rmsnorm', n: s.embedding }],
      ['rope', null, `${s.heads} heads x ${headDim}`, { op: 'rope', heads: s.heads, headDim }],
      ['softmax', null, `n ${s.context}`, { op: 'softmax', n: s.context }],
      ['attention', null, `${s.heads} heads (kv ${s.kvHeads}) x ${headDim}, ctx ${s.context}, f16 cache`,
        { op: 'attention', heads: s.heads, kvHeads: s.kvHeads, headDim, ctx: s.context }],
      ['swiglu', null, `n ${s.feedForward}`, { op: 'swiglu', n: s.feedForward }],
      ['quantize', 'q8_0', `n ${s.embedding} to q8_0`, { op: 'quantize', type: 'q8_0', n: s.embedding }],
      ['quantize', 'q8_k', `n ${s.embedding} to q8_K`, { op: 'quantize', type: 'q8_K', n: s.embedding }],
    ];
    for (const [op, type, detail, spec] of cheap) {
      tasks.push({ name: `kernel/${op}${type ? `/${type}` : ''}/${s.name}`, op, type, shape: s.name, detail,
        unit: op === 'attention' ? 'GFLOP/s' : 'GB/s', spec });
    }
  }
  return tasks;
}

export interface KernelTiming {
  /** tinybench's time budget per task (ms) and minimum samples. */
  timeMs: number;
  iterations: number;
  warmupMs: number;
}

interface KernelHandleInfo {
  bytesPerCall: number;
  flopsPerCall: number;
  allocatedBytes: number;
  matrixBytes: number;
  copies: number;
  group: string;
  isa: string;
}

/** A sample should last at least this long, so the timer's own cost does not show. */
const MIN_SAMPLE_NS = 20_000;

/**
 * Run one task: prepare its buffers, let tinybench time calls, free the buffers.
 * Matrix-vector products cycle through enough copies of the matrix to exceed
 * twice the last-level cache, so the weights come from DRAM as in decode.
 */
export async function runKernelTask(task: KernelTask, limits: MachineLimits, timing: KernelTiming): Promise<BenchRow> {
  const { Bench } = await import('tinybench');
  const addon = native();
  const spec = task.op === 'matvec' ? { ...task.spec, coldBytes: 2 * limits.llcBytes } : task.spec;
  const handle = addon.kernelBenchCreate(spec);
  try {
    const info = addon.kernelBenchDescribe(handle) as KernelHandleInfo;
    // calls per sample: enough that one sample lasts MIN_SAMPLE_NS
    const t0 = process.hrtime.bigint();
    addon.kernelBenchRun(handle, 4);
    const perCallNs = Math.max(1, Number(process.hrtime.bigint() - t0) / 4);
    const calls = Math.max(1, Math.min(100_000, Math.ceil(MIN_SAMPLE_NS / perCallNs)));
    const bench = new Bench({
      time: timing.timeMs,
      iterations: timing.iterations,
      warmupTime: timing.warmupMs,
      warmupIterations: 2,
      throws: true,
    });
    bench.add(task.name, () => {
      addon.kernelBenchRun(handle, calls);
    });
    await bench.run();
    const result = bench.tasks[0].result;
    if (result.state !== 'completed') throw new Error(`kernel benchmark ${task.name}: ${result.state}`);
    const latencyMs = result.latency;
    const nsPerCall = (latencyMs.mean * 1e6) / calls;
    const gbps = info.bytesPerCall / nsPerCall;
    const gflops = info.flopsPerCall / nsPerCall;
    // roofline: what this op could reach on this machine, one thread
    const intensity = info.flopsPerCall / info.bytesPerCall;
    const memoryCeiling = intensity * limits.bandwidthGbps;
    const bound = memoryCeiling < limits.peakGflopsSimd ? 'memory' : 'compute';
    const attainable = Math.min(limits.peakGflopsSimd, memoryCeiling);
    const fromDram = task.op === 'matvec' && info.matrixBytes * info.copies > limits.llcBytes;
    return {
      name: task.name,
      kind: 'kernel',
      op: task.op,
      type: task.type,
      shape: task.shape,
      detail: task.detail,
      threads: 1,
      value: task.unit === 'GFLOP/s' ? gflops : gbps,
      unit: task.unit,
      rme: Number.isFinite(latencyMs.rme) && latencyMs.samplesCount > 1 ? latencyMs.rme : null,
      samples: latencyMs.samplesCount,
      metrics: {
        nsPerCall,
        gbps,
        gflops,
        bytesPerCall: info.bytesPerCall,
        flopsPerCall: info.flopsPerCall,
        intensity,
        bound,
        shareOfLimit: gflops / attainable,
        weightsFrom: task.op === 'matvec' ? (fromDram ? 'dram' : 'cache') : 'cache',
        weightCopies: task.op === 'matvec' ? info.copies : null,
        callsPerSample: calls,
        isa: info.isa,
        kernelGroup: info.group,
      },
    };
  } finally {
    addon.kernelBenchFree(handle);
  }
}
