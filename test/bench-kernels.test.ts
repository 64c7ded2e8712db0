// The kernel benchmark handles behind `hyperion bench` (native/addon/kernel_bench.cc):
// buffers from the pool under the "test" tag, freed explicitly; one kernel call
// per run; bad specs rejected with the field named. Nothing is timed here.
import { describe, expect, it } from 'vitest';
import { native } from '../src/native';
import { getHeapStats, initMemory } from '../src/memory';
import { kernelTasks } from '../src/bench/kernels';
import { modelMakerCatalog } from '../src/maker';

const testBytes = () => getHeapStats().byTag.test?.bytes ?? 0;

describe('kernel benchmark handles', () => {
  it('every task of the tiny shape prepares, runs and frees its buffers from the pool', () => {
    const addon = native();
    const tiny = modelMakerCatalog().shapes.filter((s) => s.name === 'tiny');
    const tasks = kernelTasks(tiny);
    expect(tasks.length).toBe(8 * 5 + 7);
    const before = testBytes();
    for (const task of tasks) {
      const handle = addon.kernelBenchCreate({ ...task.spec, coldBytes: 1 << 20 });
      const info = addon.kernelBenchDescribe(handle);
      expect(info.bytesPerCall, task.name).toBeGreaterThan(0);
      expect(info.flopsPerCall, task.name).toBeGreaterThan(0);
      expect(testBytes() - before, task.name).toBeGreaterThanOrEqual(info.allocatedBytes);
      addon.kernelBenchRun(handle);
      addon.kernelBenchRun(handle, 3);
      addon.kernelBenchFree(handle);
      expect(testBytes(), task.name).toBe(before);
      expect(() => addon.kernelBenchRun(handle)).toThrow(expect.objectContaining({ code: 'HYPERION_INVALID_ARGUMENT' }));
    }
  });

  it('matvec cycles through enough copies to cover coldBytes', () => {
    const addon = native();
    const handle = addon.kernelBenchCreate({ op: 'matvec', type: 'q8_0', rows: 64, cols: 256, coldBytes: 1 << 20 });
    const info = addon.kernelBenchDescribe(handle);
    expect(info.matrixBytes).toBe(64 * 8 * 34);
    expect(info.copies).toBe(Math.ceil((1 << 20) / info.matrixBytes));
    addon.kernelBenchFree(handle);
  });

  it('rejects bad specs naming the field, and a pool limit with HYPERION_MEMORY_LIMIT', () => {
    const addon = native();
    const bad = (spec: object, field: string) =>
      expect(() => addon.kernelBenchCreate(spec)).toThrow(expect.objectContaining({ code: 'HYPERION_INVALID_ARGUMENT', field }));
    bad({ op: 'fft' }, 'spec.op');
    bad({ op: 'matvec', type: 'q4_0', rows: 8, cols: 33 }, 'spec.cols');
    bad({ op: 'matvec', type: 'no-such-type', rows: 8, cols: 32 }, 'spec.type');
    bad({ op: 'matmul', type: 'f32', rows: 8, cols: 32, tokens: 1 }, 'spec.tokens');
    bad({ op: 'quantize', type: 'q4_0', n: 256 }, 'spec.type');
    bad({ op: 'attention', heads: 6, kvHeads: 4, headDim: 8, ctx: 4 }, 'spec.kvHeads');
    bad({ op: 'rmsnorm', n: -1 }, 'spec.n');
    expect(() => addon.kernelBenchCreate({ op: 'matvec', type: 'q2_K', rows: 8, cols: 256 })).toThrow(expect.objectContaining({ code: 'HYPERION_MODEL_UNSUPPORTED' }));
    const before = testBytes();
    initMemory({ maxPoolSize: 64 << 20 });
    try {
      expect(() => addon.kernelBenchCreate({ op: 'matvec', type: 'f32', rows: 8192, cols: 4096 })).toThrow(expect.objectContaining({ code: 'HYPERION_MEMORY_LIMIT' }));
    } finally {
      initMemory({ maxPoolSize: 0 });
    }
    expect(testBytes()).toBe(before);
  });
});
