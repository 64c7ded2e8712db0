// The memory debugger with a real model (stories260K; skipped with a message
// when ../shared is absent): the pool limit on a load and on an evaluation, the
// leak check when a model is disposed, create/dispose cycles, V8's external
// memory, and the cleanup of live models when a worker or the process exits.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModel, initMemory, getMemoryDebugInfo, getHeapStats, checkMemoryLeaks, configureLogging, flushLogs, HyperionError, type LogRecord } from '../src/index';
import { native } from '../src/native';
import { nativeModelHandle } from '../src/model';
import { root, sharedDir, waitFor } from './helpers';

const stories = path.join(sharedDir, 'models', 'stories260K.gguf');
const haveStories = fs.existsSync(stories);
if (!haveStories) console.warn(`memory-model.test: ${stories} is absent; its tests are skipped`);

/** Pool bytes in use by everything but the logger (whose queue comes and goes on its own thread). */
function liveBytes(): number {
  const info = getMemoryDebugInfo();
  return info.inUseBytes - (info.byTag.logging?.bytes ?? 0);
}

afterEach(() => {
  initMemory({ reset: true });
});

describe.skipIf(!haveStories)('memory limits on a model', () => {
  it('an evaluation over maxPoolSize fails cleanly with the figures; the next that fits succeeds', async () => {
    const model = await loadModel(stories, { threads: 1 });
    const base = getMemoryDebugInfo().inUseBytes;
    // 1000 positions need ~640 KiB of f16 KV cache alone; 10 need a few KiB
    initMemory({ maxPoolSize: base + 200 * 1024 });
    const long = Array.from({ length: 1000 }, (_, i) => (i * 37) % 512);
    let err: HyperionError | undefined;
    try {
      await model.evaluate(long);
    } catch (e) {
      err = e as HyperionError;
    }
    expect(err).toBeInstanceOf(HyperionError);
    expect(err).toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', category: 'limit', limit: base + 200 * 1024 });
    for (const field of ['requested', 'inUse', 'available', 'largestFreeBlock', 'fragmentation']) expect(typeof err![field], field).toBe('number');
    expect(err!.requested as number).toBeGreaterThan(err!.available as number);
    expect(['kv-cache', 'activations']).toContain(err!.tag);
    expect(err!.message).toMatch(/memory limit exceeded in "(kv-cache|activations)": requested/);
    // nothing of the failed request stays behind, and a request that fits works
    expect(getMemoryDebugInfo().inUseBytes).toBeLessThanOrEqual(base + 64 * 1024);
    const logits = await model.evaluate([1, 403, 407]);
    expect(logits.length).toBe(512);
    initMemory({ maxPoolSize: 0 });
    expect((await model.evaluate(long)).length).toBe(512); // unlimited again
    await model.dispose();
  });

  it('a load under a too small limit fails with HYPERION_MEMORY_LIMIT, and loads once the limit allows', async () => {
    // The logger may start (and allocate its queue, a tag exempt from limits)
    // while the failure is logged: count what the load itself could leave.
    const loadBytes = () => {
      const info = getMemoryDebugInfo();
      return info.inUseBytes - (info.byTag.logging?.bytes ?? 0) - (info.byTag['memory-debugger']?.bytes ?? 0);
    };
    const base = getMemoryDebugInfo().inUseBytes;
    const baseLoad = loadBytes();
    initMemory({ maxPoolSize: base + 2048 });
    await expect(loadModel(stories, { threads: 1 })).rejects.toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', limit: base + 2048 });
    expect(loadBytes()).toBe(baseLoad);
    initMemory({ maxPoolSize: base + 64 << 20 });
    const model = await loadModel(stories, { threads: 1 });
    expect((await model.evaluate([1, 2])).length).toBe(512);
    await model.dispose();
  });
});

describe.skipIf(!haveStories)('the leak check at dispose', () => {
  it('a clean model reports nothing; what a model left behind is reported and logged', async () => {
    const records: LogRecord[] = [];
    configureLogging({ level: 'warn', console: false, handler: (r) => records.push(r) });
    try {
      initMemory({ trackStackTraces: true });
      const clean = await loadModel(stories, { threads: 1 });
      await clean.evaluate([1, 2, 3]);
      expect(clean.lastLeakReport).toBeNull(); // not freed yet
      await clean.dispose();
      expect(clean.lastLeakReport).toMatchObject({ name: 'model stories260K.gguf', bytes: 0, blocks: 0, leaks: [], text: '' });

      const leaky = await loadModel(stories, { threads: 1 });
      native()._test.leakIntoModel(nativeModelHandle(leaky), 4321);
      await leaky.dispose();
      const report = leaky.lastLeakReport!;
      expect(report).toMatchObject({ name: 'model stories260K.gguf', bytes: 4321, blocks: 1, trackedBlocks: 1 });
      expect(report.leaks[0]).toMatchObject({ bytes: 4321, blocks: 1, tag: 'test' });
      expect(report.leaks[0].stack[0].function).toBe('hyperion_addon_test_model_leak');
      expect(report.text).toContain('4321 bytes in 1 block (tag "test"');
      await flushLogs();
      await waitFor(() => records.some((r) => /left 4321 bytes in 1 block/.test(r.message)));
      const warning = records.find((r) => /left 4321 bytes/.test(r.message))!;
      expect(warning).toMatchObject({ level: 'warn', category: 'memory' });
      expect(warning.message).toContain('model stories260K.gguf left 4321 bytes in 1 block(s) behind when it was disposed');
      expect(records.some((r) => r.message.includes('in hyperion_addon_test_model_leak'))).toBe(true);
      native()._test.freeModelLeak();
    } finally {
      configureLogging({ level: 'warn', console: true, handler: null });
    }
  });

  it('with tracking off the report still counts what was left', async () => {
    configureLogging({ level: 'error' });
    const model = await loadModel(stories, { threads: 1 });
    native()._test.leakIntoModel(nativeModelHandle(model), 100);
    await model.dispose();
    expect(model.lastLeakReport).toMatchObject({ bytes: 100, blocks: 1, trackedBlocks: 0, leaks: [], text: '' });
    native()._test.freeModelLeak();
    configureLogging({ level: 'warn' });
  });

  it('the report waits for the request in flight', async () => {
    const model = await loadModel(stories, { threads: 1 });
    const pending = model.evaluate(Array.from({ length: 200 }, (_, i) => i % 512));
    await model.dispose();
    await pending;
    await waitFor(() => model.lastLeakReport !== null);
    expect(model.lastLeakReport).toMatchObject({ blocks: 0 });
  });
});

describe.skipIf(!haveStories)('create/dispose cycles and V8', () => {
  it('1,000 create/dispose cycles leave live bytes where they started', async () => {
    initMemory({ trackAllocations: true });
    const warm = await loadModel(stories, { threads: 1 });
    await warm.evaluate([1]);
    await warm.dispose();
    const before = liveBytes();
    const since = getMemoryDebugInfo().nextSequence;
    for (let i = 0; i < 1000; i++) {
      const m = await loadModel(stories, { threads: 1 });
      if (i % 100 === 0) await m.evaluate([1, 2]);
      await m.dispose();
    }
    expect(liveBytes()).toBe(before);
    expect(checkMemoryLeaks({ sinceSequence: since }).blocks).toBe(0);
  }, 120_000);

  it('reports the native bytes models hold to V8 as external memory', async () => {
    const start = native().externalMemory();
    const model = await loadModel(stories, { threads: 1 });
    const held = native().externalMemory();
    expect(held.objects).toBe(start.objects + 1);
    expect(held.bytes).toBeGreaterThan(start.bytes);
    expect(getHeapStats().mappedBytes).toBeGreaterThanOrEqual(model.info.fileSize); // the weights, reported apart
    // 8 MiB more charged to the model reach V8 at the next binding call; v8ExternalBytes
    // is V8's own external-memory figure as napi_adjust_external_memory returned it
    native()._test.leakIntoModel(nativeModelHandle(model), 8 << 20);
    getMemoryDebugInfo();
    const grown = native().externalMemory();
    expect(grown.bytes - held.bytes).toBe(8 << 20);
    expect(grown.v8ExternalBytes - held.v8ExternalBytes).toBe(8 << 20);
    native()._test.freeModelLeak();
    getMemoryDebugInfo();
    expect(native().externalMemory().v8ExternalBytes).toBe(held.v8ExternalBytes);
    await model.dispose();
    const end = native().externalMemory();
    expect(end.objects).toBe(start.objects);
    expect(end.bytes).toBe(start.bytes);
  });
});

describe.skipIf(!haveStories)('environment cleanup', () => {
  it('models a worker never disposed are freed when the worker exits', async () => {
    const before = liveBytes();
    const code = `
      const { parentPort } = require('node:worker_threads');
      const h = require(${JSON.stringify(root)});
      h.loadModel(${JSON.stringify(stories)}, { threads: 1 }).then(async (m) => {
        globalThis.keep = [m, await h.loadModel(${JSON.stringify(stories)}, { threads: 1 })];
        parentPort.postMessage(h.getMemoryDebugInfo().inUseBytes);
        setInterval(() => {}, 1000); // stay until terminated
      });`;
    const worker = new Worker(code, { eval: true });
    const inWorker = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(inWorker).toBeGreaterThan(before);
    expect(liveBytes()).toBeGreaterThan(before);
    await new Promise((resolve) => {
      worker.once('exit', resolve);
      void worker.terminate();
    });
    await waitFor(() => liveBytes() === before, 5000);
  });

  it('and when a worker ends on its own', async () => {
    const before = liveBytes();
    const loads = getMemoryDebugInfo().byTag.model?.totalAllocations ?? 0;
    const code = `
      const h = require(${JSON.stringify(root)});
      h.loadModel(${JSON.stringify(stories)}, { threads: 1 }).then((m) => { globalThis.keep = m; });`;
    const worker = new Worker(code, { eval: true });
    const exitCode = await new Promise((resolve) => worker.once('exit', resolve));
    expect(exitCode).toBe(0);
    expect(getMemoryDebugInfo().byTag.model!.totalAllocations).toBeGreaterThan(loads); // it did load
    await waitFor(() => liveBytes() === before, 5000);
  });

  it('a model alive at process exit is disposed, and its leak check runs', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'test', 'fixtures', 'memory-exit.cjs'), stories], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('loaded');
    expect(r.stderr).toContain('model stories260K.gguf left 4321 bytes in 1 block(s) behind when it was disposed');
    expect(r.stderr).toContain('in hyperion_addon_test_model_leak');
  });
});
