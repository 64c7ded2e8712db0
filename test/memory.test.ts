// The memory debugger's JS API without a model: settings and their validation,
// planted leaks in the leak report, traces, heap statistics, snapshots, the
// corruption check, the usage callback, and guard mode running short of
// mappings. Model-level behaviour (limits, dispose leak check, cycles, worker
// exit) is in memory-model.test.ts; faults in child processes in memory-faults.
import { afterEach, describe, expect, it } from 'vitest';
import {
  initMemory,
  getMemoryConfig,
  enableStackTraces,
  getMemoryDebugInfo,
  checkMemoryLeaks,
  getAllocationTrace,
  getHeapStats,
  takeMemorySnapshot,
  compareMemorySnapshots,
  checkCorruption,
  configureLogging,
  flushLogs,
  HyperionError,
  type LogRecord,
  type MemoryUsageEvent,
} from '../src/index';
import { native } from '../src/native';
import { waitFor } from './helpers';

const t = () => native()._test;
const TAG_TEST = 12;

afterEach(() => {
  initMemory({ reset: true, onUsage: null });
});

describe('initMemory', () => {
  it('validates every field and names it', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ maxPoolSiz: 1 }, 'maxPoolSiz'],
      [{ trackAllocations: 'yes' }, 'trackAllocations'],
      [{ maxPoolSize: -1 }, 'maxPoolSize'],
      [{ maxPoolSize: 1.5 }, 'maxPoolSize'],
      [{ initialPoolSize: 'big' }, 'initialPoolSize'],
      [{ enableGuardPages: 'some' }, 'enableGuardPages'],
      [{ enableGuardPages: { sampleRate: 0 } }, 'enableGuardPages.sampleRate'],
      [{ enableGuardPages: { sampleRate: 1.5 } }, 'enableGuardPages.sampleRate'],
      [{ enableGuardPages: { minSize: -4 } }, 'enableGuardPages.minSize'],
      [{ enableGuardPages: { alignment: 3 } }, 'enableGuardPages.alignment'],
      [{ enableGuardPages: { rate: 0.5 } }, 'enableGuardPages.rate'],
      [{ usageThresholds: [0.9, 0.5] }, 'usageThresholds[1]'],
      [{ usageThresholds: [0, 0.5] }, 'usageThresholds[0]'],
      [{ usageThresholds: 0.8 }, 'usageThresholds'],
      [{ reportPath: '' }, 'reportPath'],
      [{ onUsage: 'fn' }, 'onUsage'],
    ];
    for (const [config, field] of bad) {
      let caught: unknown;
      try {
        initMemory(config as never);
      } catch (e) {
        caught = e;
      }
      expect(caught, JSON.stringify(config)).toBeInstanceOf(HyperionError);
      expect(caught).toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field });
    }
    // a rejected configuration leaves the settings in force alone
    expect(getMemoryConfig()).toMatchObject({ trackAllocations: false, maxPoolSize: 0, guardMode: 'off' });
  });

  it('is callable again: fields left out keep their value, reset starts from the defaults', () => {
    const s1 = initMemory({ trackAllocations: true, maxPoolSize: 1 << 30, usageThresholds: [0.5] });
    expect(s1).toMatchObject({ trackAllocations: true, trackStackTraces: false, maxPoolSize: 1 << 30, usageThresholds: [0.5] });
    const s2 = initMemory({ trackStackTraces: true, enableGuardPages: { sampleRate: 0.25, minSize: 4096, underflow: true } });
    expect(s2).toMatchObject({ trackAllocations: true, trackStackTraces: true, maxPoolSize: 1 << 30, guardMode: 'sampled', guardSampleRate: 0.25, guardMinSize: 4096, guardUnderflow: true });
    expect(initMemory({ enableGuardPages: 'all' })).toMatchObject({ guardMode: 'all', guardSampleRate: 1 });
    expect(initMemory({ enableGuardPages: false, maxPoolSize: null })).toMatchObject({ guardMode: 'off', maxPoolSize: 0, trackStackTraces: true });
    expect(initMemory({ reset: true })).toMatchObject({ trackAllocations: false, trackStackTraces: false, maxPoolSize: 0, usageThresholds: [0.8, 0.95] });
    enableStackTraces(true);
    expect(getMemoryDebugInfo()).toMatchObject({ tracking: true, stackTraces: true });
    enableStackTraces(false);
    expect(getMemoryDebugInfo().stackTraces).toBe(false);
    expect(() => enableStackTraces('on' as never)).toThrow(/on: expected a boolean/);
  });
});

describe('leak reports', () => {
  it('a planted leak appears with its size, count, tag and stack; a clean run reports none', () => {
    initMemory({ trackStackTraces: true });
    const since = getMemoryDebugInfo().nextSequence;
    expect(checkMemoryLeaks({ sinceSequence: since })).toMatchObject({ blocks: 0, bytes: 0, leaks: [], tracking: true });
    const ids = [t().plantLeak(4000, TAG_TEST), t().plantLeak(4000, TAG_TEST), t().plantLeak(4000, TAG_TEST)];
    const other = t().plantLeak(96, 5 /* tokenizer */);
    const report = checkMemoryLeaks({ sinceSequence: since });
    expect(report).toMatchObject({ bytes: 12096, blocks: 4, groups: 2 });
    const [big, small] = report.leaks;
    expect(big).toMatchObject({ bytes: 12000, blocks: 3, tag: 'test', ids: ids.map(Number) });
    expect(big.stack[0].function).toBe('hyperion_test_leaky_allocation');
    expect(small).toMatchObject({ bytes: 96, blocks: 1, tag: 'tokenizer' });
    expect(report.text).toContain('12000 bytes in 3 blocks (tag "test"');
    expect(report.text).toContain('allocated from:\n    #0 0x');
    expect(report.text).toContain('in hyperion_test_leaky_allocation');
    expect(report.text).toContain('SUMMARY: 12096 bytes in 4 block(s)');
    // filters and formats
    expect(checkMemoryLeaks({ sinceSequence: since, tags: ['tokenizer'] })).toMatchObject({ blocks: 1, bytes: 96 });
    expect(checkMemoryLeaks({ sinceSequence: since, maxGroups: 1 }).leaks.length).toBe(1);
    expect(checkMemoryLeaks({ sinceSequence: since, format: 'json' }).text).toBe('');
    const textOnly = checkMemoryLeaks({ sinceSequence: since, format: 'text' });
    expect(textOnly.leaks).toEqual([]);
    expect(textOnly.text).toContain('12000 bytes in 3 blocks');
    expect(() => checkMemoryLeaks({ tags: ['kv'] as never })).toThrow(/tags\[0\]/);
    expect(() => checkMemoryLeaks({ sinceSequence: -1 })).toThrow(/sinceSequence/);
    // the trace of one block
    const trace = getAllocationTrace(Number(ids[1]));
    expect(trace).toMatchObject({ id: Number(ids[1]), size: 4000, tag: 'test', live: true, guarded: false });
    expect(trace.allocationStack[0].function).toBe('hyperion_test_leaky_allocation');
    expect(trace.text).toContain('block ' + ids[1] + ': 4000 bytes, tag "test"');
    for (const id of [...ids, other]) t().releasePlantedLeak(id);
    expect(checkMemoryLeaks({ sinceSequence: since })).toMatchObject({ blocks: 0, bytes: 0, leaks: [] });
    expect(() => getAllocationTrace(Number(ids[0]))).toThrow(expect.objectContaining({ code: 'HYPERION_INVALID_ARGUMENT', field: 'id' }));
  });

  it('with tracking off, says what is unknown', () => {
    const id = t().plantLeak(100, TAG_TEST);
    const report = checkMemoryLeaks();
    expect(report.tracking).toBe(false);
    expect(report.untrackedBlocks).toBeGreaterThan(0);
    expect(report.text).toContain('allocation tracking is off');
    t().releasePlantedLeak(id);
  });
});

describe('heap statistics and snapshots', () => {
  it('getHeapStats: the three fragmentation figures, pool sizes, per tag, RSS', () => {
    const block = t().allocate(300_000);
    const s = getHeapStats();
    for (const f of ['internal', 'external', 'reserved'] as const) {
      expect(s.fragmentation[f]).toBeGreaterThanOrEqual(0);
      expect(s.fragmentation[f]).toBeLessThanOrEqual(1);
    }
    expect(s.reservedBytes).toBeGreaterThanOrEqual(s.committedBytes);
    expect(s.committedBytes).toBeGreaterThanOrEqual(300_000);
    expect(s.inUseBytes).toBeGreaterThanOrEqual(300_000);
    expect(s.peakBytes).toBeGreaterThanOrEqual(s.inUseBytes);
    expect(s.byTag.test!.bytes).toBeGreaterThanOrEqual(300_000);
    expect(s.rss!.bytes).toBeGreaterThan(s.rss!.anonBytes);
    expect(s.mappedResidentBytes).toBeLessThanOrEqual(s.mappedBytes);
    t().free(block);
  });

  it('compareMemorySnapshots: growth by site; snapshots free explicitly or when collected', () => {
    initMemory({ trackStackTraces: true });
    const a = takeMemorySnapshot();
    const blocks = [t().allocate(1000, TAG_TEST), t().allocate(1000, TAG_TEST), t().allocate(5000, 2 /* activations */)];
    const b = takeMemorySnapshot();
    const diff = compareMemorySnapshots(a, b, { top: 5 });
    expect(diff.tracking).toBe(true);
    expect(diff.sites[0]).toMatchObject({ tag: 'activations', sizeDiff: 5000, countDiff: 1 });
    expect(diff.sites[1]).toMatchObject({ tag: 'test', sizeDiff: 2000, countDiff: 2 });
    expect(diff.sites[1].stack.length).toBeGreaterThan(0);
    expect(diff.tags).toEqual(expect.arrayContaining([expect.objectContaining({ tag: 'test', sizeDiff: 2000, countDiff: 2 })]));
    expect(diff.text).toContain('memory growth by allocation site');
    expect(compareMemorySnapshots(a, b, { top: 1 }).sites.length).toBe(1);
    a.free();
    expect(a.freed).toBe(true);
    a.free(); // idempotent
    expect(() => compareMemorySnapshots(a, b)).toThrow(expect.objectContaining({ code: 'HYPERION_DISPOSED', field: 'a' }));
    expect(() => compareMemorySnapshots(b, {} as never)).toThrow(expect.objectContaining({ field: 'b' }));
    b.free();
    for (const blk of blocks) t().free(blk);
    // a snapshot nobody frees goes with its JS object (memory-debugger bytes return)
    const before = getMemoryDebugInfo().byTag['memory-debugger']?.bytes ?? 0;
    for (let i = 0; i < 20; i++) takeMemorySnapshot();
    expect(getMemoryDebugInfo().byTag['memory-debugger']?.bytes ?? 0).toBeGreaterThan(before);
  });
});

describe('corruption check', () => {
  it('finds an overwritten canary with its tag and stack, and the free reports it', () => {
    initMemory({ trackStackTraces: true, checkCorruption: true });
    expect(checkCorruption()).toMatchObject({ damagedBlocks: 0 });
    expect(t().corruptCanary(48)).toBe(true);
    const report = checkCorruption();
    expect(report.damagedBlocks).toBe(1);
    expect(report.checkedBlocks).toBeGreaterThanOrEqual(1);
    expect(report.blocks[0]).toMatchObject({ size: 48, tag: 'test', side: 'after', offset: 50 });
    expect(report.blocks[0].stack[0].function).toBe('hyperion_addon_test_canary_overwrite');
    expect(report.text).toContain('1 damaged');
    const err = t().freeDamaged();
    expect(err).toMatchObject({ code: 'HYPERION_CORRUPTION', kind: 'heap-buffer-overflow', size: 48, tag: 'test' });
    expect(checkCorruption().damagedBlocks).toBe(0);
    expect(getMemoryDebugInfo().corruptedBlocks).toBeGreaterThanOrEqual(1);
  });
});

describe('usage thresholds', () => {
  it('call onUsage on the main thread when use crosses them, both ways', async () => {
    const events: MemoryUsageEvent[] = [];
    const base = getMemoryDebugInfo().inUseBytes;
    const limit = 2 * base + 4_000_000; // half of it is 2 MB above what is in use now
    initMemory({ maxPoolSize: limit, usageThresholds: [0.5, 0.9], onUsage: (e) => events.push(e) });
    const a = t().allocate(Math.ceil(0.5 * limit) - base + 100_000, 2);
    await waitFor(() => events.length >= 1);
    expect(events[0]).toMatchObject({ threshold: 0.5, rising: true, limitBytes: limit, tag: 'activations' });
    expect(events[0].inUseBytes).toBeGreaterThanOrEqual(0.5 * limit);
    const b = t().allocate(Math.ceil(0.4 * limit), 2);
    await waitFor(() => events.length >= 2);
    expect(events[1]).toMatchObject({ threshold: 0.9, rising: true });
    t().free(b);
    t().free(a);
    await waitFor(() => events.length >= 4);
    expect(events.slice(2).map((e) => [e.threshold, e.rising])).toEqual([
      [0.9, false],
      [0.5, false],
    ]);
    // a throwing callback loses its event only
    initMemory({ onUsage: () => { throw new Error('boom'); } });
    const c = t().allocate(Math.ceil(0.6 * limit), 2);
    t().free(c);
    await new Promise((r) => setTimeout(r, 20));
    initMemory({ onUsage: null });
  });

  it('a request over maxPoolSize fails with the figures, and the next that fits succeeds', () => {
    const base = getMemoryDebugInfo().inUseBytes;
    initMemory({ maxPoolSize: base + 100_000 });
    let err: HyperionError | undefined;
    try {
      t().allocate(200_000, 1 /* kv-cache */);
    } catch (e) {
      err = e as HyperionError;
    }
    expect(err).toMatchObject({ code: 'HYPERION_MEMORY_LIMIT', category: 'limit', requested: 200_000, limit: base + 100_000, tag: 'kv-cache' });
    expect(err!.inUse).toBeGreaterThanOrEqual(base);
    expect(err!.available).toBeLessThanOrEqual(100_000);
    expect(err!.largestFreeBlock).toBeGreaterThanOrEqual(0);
    expect(err!.fragmentation).toBeGreaterThanOrEqual(0);
    expect(err!.message).toMatch(/memory limit exceeded in "kv-cache": requested 195\.3 KiB, in use .*, limit/);
    const ok = t().allocate(50_000, 1);
    t().free(ok);
    expect(getMemoryDebugInfo().failedAllocations).toBeGreaterThan(0);
  });
});

describe('guard pages', () => {
  it('running out of mappings degrades to unguarded blocks with a warning and keeps working', async () => {
    const records: LogRecord[] = [];
    configureLogging({ level: 'warn', console: false, handler: (r) => records.push(r) });
    try {
      initMemory({ enableGuardPages: 'all', trackAllocations: true });
      const guarded = t().allocate(128);
      const before = getMemoryDebugInfo();
      expect(before.guardedBlocks).toBeGreaterThanOrEqual(1);
      t().failGuardMappings(3);
      const blocks = [t().allocate(128), t().allocate(128), t().allocate(128), t().allocate(128)];
      const after = getMemoryDebugInfo();
      expect(after.guardFallbacks - before.guardFallbacks).toBe(3);
      // the blocks that found no mapping are plain pool blocks (the log bridge may
      // have taken some of the failed mappings); once mappings are back, blocks are guarded
      const ids = checkMemoryLeaks({ sinceSequence: before.nextSequence, tags: ['test'] }).leaks.flatMap((l) => l.ids).sort((x, y) => x - y);
      expect(ids.length).toBe(4);
      const flags = ids.map((id) => getAllocationTrace(id).guarded);
      expect(flags[0]).toBe(false);
      const later = t().allocate(128);
      const since = getMemoryDebugInfo().nextSequence - 1;
      expect(getAllocationTrace(checkMemoryLeaks({ sinceSequence: since, tags: ['test'] }).leaks[0].ids[0]).guarded).toBe(true);
      for (const b of [guarded, ...blocks, later]) t().free(b);
      const end = getMemoryDebugInfo(); // guarded or not, every block was a proper block
      expect([end.invalidFrees, end.doubleFrees]).toEqual([before.invalidFrees, before.doubleFrees]);
      await flushLogs();
      await waitFor(() => records.some((r) => r.category === 'memory' && /left unguarded/.test(r.message)));
      const warning = records.find((r) => /left unguarded/.test(r.message))!;
      expect(warning.level).toBe('warn');
      expect(warning.message).toMatch(/128-byte block \(tag "test"\) was left unguarded/);
    } finally {
      configureLogging({ level: 'warn', console: true, handler: null });
    }
  });
});
