// memory.ts — the native memory debugger (DESIGN.md §5 and §7): settings,
// counters, leak reports grouped by stack, allocation traces, heap statistics,
// snapshots and their difference, the corruption check, the usage callback.
//
// Options are validated here (errors name the field); native code gets one
// packed object. Reports arrive as text plus JSON and are returned as typed
// objects with camelCase names. JS never sees a native address: blocks are
// named by their allocation sequence number (`id`), snapshots are objects.
import { native } from './native';
import { invalidArgument } from './errors';
import { Model, nativeModelHandle } from './model';
import { optionsObject, rejectUnknownKeys, optionalBoolean, optionalEnum, optionalNumber, requireNumber, type Options } from './validate';

/** What a native block is for (the C core's tags). */
export const MEMORY_TAGS = [
  'other', 'kv-cache', 'activations', 'scratch', 'repacked-weights', 'tokenizer', 'sampler', 'model', 'session',
  'profiler', 'logging', 'binding', 'test', 'memory-debugger',
] as const;
export type MemoryTag = (typeof MEMORY_TAGS)[number];

/** Guard pages on a share of the blocks. */
export interface GuardPageOptions {
  /** Probability that a block is guarded, in (0, 1] (default 1: every block). */
  sampleRate?: number;
  /** Smaller blocks are never guarded (bytes, default 0). */
  minSize?: number;
  /** Put the guard page before the block (catches underflows) instead of after it (default false). */
  underflow?: boolean;
  /** Minimum start alignment of guarded blocks, a power of two up to 4096 (default 1: a one-byte overflow faults). */
  alignment?: number;
  /** Memory mappings guard mode may hold (default 0: half of vm.max_map_count). */
  maxMappings?: number;
}

export interface MemoryUsageEvent {
  /** The configured fraction of maxPoolSize crossed. */
  threshold: number;
  /** true: use went up through it; false: back below (with 5% hysteresis). */
  rising: boolean;
  inUseBytes: number;
  limitBytes: number;
  /** Tag of the allocation (or free) that crossed it. */
  tag: MemoryTag;
}

export interface MemoryConfig {
  /** Keep the live-block table: leak reports, snapshots, ids (default false). */
  trackAllocations?: boolean;
  /** Record each tracked block's allocation stack; implies trackAllocations (default false). */
  trackStackTraces?: boolean;
  /** false (default), 'all', or sampled: `{ sampleRate, minSize, underflow }`. */
  enableGuardPages?: false | 'all' | GuardPageOptions;
  /** Canary bytes around unguarded blocks, checked on free and by checkCorruption() (default false). */
  checkCorruption?: boolean;
  /** Bytes of pool reserved up front (rounded up to 64 MiB; default 0: on demand). */
  initialPoolSize?: number;
  /** Limit on the bytes of live native blocks; 0 or null: unlimited (default). */
  maxPoolSize?: number | null;
  /** Freed guarded blocks kept inaccessible to catch use-after-free (default 64 MiB, 4096 blocks). */
  quarantineBytes?: number;
  quarantineBlocks?: number;
  /** Where a guard-page fault writes its JSON report; "%p" becomes the pid (default $TMPDIR/hyperion-memory-fault-%p.json). */
  reportPath?: string;
  /** Fractions of maxPoolSize that fire onUsage, ascending, in (0, 1] (default [0.8, 0.95]). */
  usageThresholds?: number[];
  /** Called on the main thread when use crosses a threshold; null removes it. One environment
   *  (main thread or worker) owns it at a time: the last to set it. */
  onUsage?: ((event: MemoryUsageEvent) => void) | null;
  /** Start from the defaults instead of the settings in force (and remove onUsage unless given). */
  reset?: boolean;
}

/** The settings in force (initMemory's result). */
export interface MemorySettings {
  trackAllocations: boolean;
  trackStackTraces: boolean;
  checkCorruption: boolean;
  initialPoolSize: number;
  maxPoolSize: number;
  guardMode: 'off' | 'all' | 'sampled';
  guardSampleRate: number;
  guardMinSize: number;
  guardUnderflow: boolean;
  guardAlignment: number;
  guardMaxMappings: number;
  quarantineBytes: number;
  quarantineBlocks: number;
  reportPath: string;
  usageThresholds: number[];
}

export interface TagUsage {
  bytes: number;
  blocks: number;
  peakBytes: number;
  totalAllocations: number;
}

export interface MemoryDebugInfo {
  tracking: boolean;
  stackTraces: boolean;
  checkCorruption: boolean;
  guardPages: 'off' | 'all' | 'sampled';
  activeAllocations: number;
  totalAllocations: number;
  totalFrees: number;
  failedAllocations: number;
  inUseBytes: number;
  peakBytes: number;
  totalAllocatedBytes: number;
  limitBytes: number;
  trackedBlocks: number;
  trackedBytes: number;
  uniqueStacks: number;
  /** Ids are increasing: pass this as checkMemoryLeaks({ sinceSequence }) to see only later blocks. */
  nextSequence: number;
  guardedBlocks: number;
  guardedBytes: number;
  quarantinedBlocks: number;
  quarantinedBytes: number;
  guardMappings: number;
  /** Blocks left unguarded because mappings ran short. */
  guardFallbacks: number;
  doubleFrees: number;
  invalidFrees: number;
  corruptedBlocks: number;
  byTag: Partial<Record<MemoryTag, TagUsage>>;
}

export interface StackFrame {
  frame: number;
  /** Hex string of the return address (for addr2line with `module` and `offset`). */
  address: string;
  function: string;
  file: string;
  line: number;
  module: string;
  offset: string;
}

export interface LeakGroup {
  bytes: number;
  blocks: number;
  tag: MemoryTag;
  /** Ids of the first blocks (up to 8): getAllocationTrace(id) tells more. */
  ids: number[];
  stack: StackFrame[];
}

export interface LeakReport {
  bytes: number;
  blocks: number;
  groups: number;
  /** Live blocks allocated while tracking was off (not listed). */
  untrackedBlocks: number;
  tracking: boolean;
  /** Grouped by allocation stack and tag, largest first (empty with format 'text'). */
  leaks: LeakGroup[];
  /** LeakSanitizer-style: "N bytes in M blocks ... allocated from: #0 ..." ('' with format 'json'). */
  text: string;
}

export interface CheckLeaksOptions {
  /** 'both' (default), 'text' (no parsed groups) or 'json' (no text). */
  format?: 'text' | 'json' | 'both';
  /** Only blocks allocated at or after this sequence number (getMemoryDebugInfo().nextSequence). */
  sinceSequence?: number;
  /** Only these tags (default: all but 'logging' and 'memory-debugger', the process's own long-lived blocks). */
  tags?: MemoryTag[];
  /** Groups listed, largest first (default all). */
  maxGroups?: number;
  /** Only blocks charged to this model (its own and its sessions'). */
  model?: Model;
}

export interface AllocationTrace {
  id: number;
  size: number;
  tag: MemoryTag;
  thread: number;
  time: string;
  /** false for a freed guarded block still in quarantine. */
  live: boolean;
  guarded: boolean;
  allocationStack: StackFrame[];
  freeStack: StackFrame[];
  text: string;
}

export interface HeapStats {
  addressSpaceBytes: number;
  reservedBytes: number;
  committedBytes: number;
  inUseBytes: number;
  allocatedBytes: number;
  peakBytes: number;
  limitBytes: number;
  freeBytes: number;
  largestFreeBlock: number;
  slabFreeBytes: number;
  /** inside blocks (rounding), between free blocks (1 - largest free / total free), reserved but unused. */
  fragmentation: { internal: number; external: number; reserved: number };
  metadataBytes: number;
  guardMappedBytes: number;
  quarantineBytes: number;
  /** Model weights mapped read-only, and the estimated resident share. */
  mappedBytes: number;
  mappedResidentBytes: number;
  /** Process RSS from /proc/self/smaps_rollup (null where unreadable). */
  rss: { bytes: number; anonBytes: number; fileBytes: number; shmemBytes: number } | null;
  byTag: Partial<Record<MemoryTag, TagUsage>>;
}

export interface SnapshotSite {
  tag: MemoryTag;
  size: number;
  sizeDiff: number;
  count: number;
  countDiff: number;
  stack: StackFrame[];
}

export interface SnapshotDiff {
  elapsedMs: number;
  tracking: boolean;
  changedSites: number;
  /** Largest growth first (like tracemalloc's compare_to). */
  sites: SnapshotSite[];
  tags: Array<Omit<SnapshotSite, 'stack'>>;
  text: string;
}

export interface DamagedBlock {
  size: number;
  tag: MemoryTag;
  guarded: boolean;
  id: number;
  side: 'before' | 'after';
  offset: number;
  badBytes: number;
  stack: StackFrame[];
}

export interface CorruptionReport {
  checkedBlocks: number;
  damagedBlocks: number;
  blocks: DamagedBlock[];
  text: string;
}

// ---- settings ---------------------------------------------------------------------

const CONFIG_KEYS = [
  'trackAllocations', 'trackStackTraces', 'enableGuardPages', 'checkCorruption', 'initialPoolSize', 'maxPoolSize',
  'quarantineBytes', 'quarantineBlocks', 'reportPath', 'usageThresholds', 'onUsage', 'reset',
] as const;
const GUARD_KEYS = ['sampleRate', 'minSize', 'underflow', 'alignment', 'maxMappings'] as const;
const BYTES = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };

function bytesField(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : requireNumber(value, field, BYTES);
}

function packGuard(value: unknown, packed: Options): void {
  if (value === undefined) return;
  if (value === false) {
    packed.guardMode = 0;
    return;
  }
  if (value === 'all' || value === true) {
    packed.guardMode = 1;
    packed.guardSampleRate = 1;
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument('enableGuardPages', "false, 'all' or { sampleRate, minSize, underflow }", value);
  }
  const g = value as Options;
  rejectUnknownKeys(g, 'enableGuardPages', GUARD_KEYS);
  const rate = optionalNumber(g.sampleRate, 'enableGuardPages.sampleRate', { min: 0, max: 1, exclusiveMin: true }, 1);
  packed.guardMode = rate >= 1 ? 1 : 2;
  packed.guardSampleRate = rate;
  packed.guardMinSize = optionalNumber(g.minSize, 'enableGuardPages.minSize', BYTES, 0);
  packed.guardUnderflow = optionalBoolean(g.underflow, 'enableGuardPages.underflow', false);
  const align = optionalNumber(g.alignment, 'enableGuardPages.alignment', { min: 1, max: 4096, integer: true }, 1);
  if ((align & (align - 1)) !== 0) throw invalidArgument('enableGuardPages.alignment', 'a power of two up to 4096', align);
  packed.guardAlignment = align;
  packed.guardMaxMappings = optionalNumber(g.maxMappings, 'enableGuardPages.maxMappings', BYTES, 0);
}

/** Usage thresholds: at most 8 ascending fractions in (0, 1]. @internal */
export function packThresholds(value: unknown, field = 'usageThresholds'): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 8) throw invalidArgument(field, 'an array of at most 8 fractions', value);
  let last = 0;
  return value.map((v, i) => {
    const f = requireNumber(v, `${field}[${i}]`, { min: 0, max: 1, exclusiveMin: true });
    if (f <= last) throw invalidArgument(`${field}[${i}]`, `a fraction above ${last} (ascending)`, v);
    last = f;
    return f;
  });
}

/**
 * Configure the native memory debugger. Callable at any time: fields left out
 * keep the settings in force (`reset: true` starts from the defaults), live
 * blocks keep the state they were allocated with, a limit may go below current
 * use (later requests fail until use drops). Returns the settings in force.
 */
export function initMemory(config: MemoryConfig = {}): MemorySettings {
  const o = optionsObject(config, 'config');
  rejectUnknownKeys(o, '', CONFIG_KEYS);
  const packed: Options = {};
  packed.reset = optionalBoolean(o.reset, 'reset', false);
  for (const key of ['trackAllocations', 'trackStackTraces', 'checkCorruption'] as const) {
    if (o[key] !== undefined) packed[key] = optionalBoolean(o[key], key, false);
  }
  packGuard(o.enableGuardPages, packed);
  packed.initialPoolSize = bytesField(o.initialPoolSize, 'initialPoolSize');
  packed.maxPoolSize = o.maxPoolSize === null ? 0 : bytesField(o.maxPoolSize, 'maxPoolSize');
  packed.quarantineBytes = bytesField(o.quarantineBytes, 'quarantineBytes');
  packed.quarantineBlocks = optionalNumber(o.quarantineBlocks, 'quarantineBlocks', { min: 0, max: 0xffffffff, integer: true }, -1);
  if (packed.quarantineBlocks === -1) delete packed.quarantineBlocks;
  if (o.reportPath !== undefined) {
    if (typeof o.reportPath !== 'string' || o.reportPath.length === 0 || Buffer.byteLength(o.reportPath) >= 1024) {
      throw invalidArgument('reportPath', 'a file path (under 1024 bytes)', o.reportPath);
    }
    packed.reportPath = o.reportPath;
  }
  packed.thresholds = packThresholds(o.usageThresholds);
  if (o.onUsage !== undefined && o.onUsage !== null && typeof o.onUsage !== 'function') {
    throw invalidArgument('onUsage', 'a function or null', o.onUsage);
  }
  native().initMemory(packed);
  if (o.onUsage !== undefined) setUsageCallback(o.onUsage as MemoryConfig['onUsage']);
  else if (packed.reset) setUsageCallback(null);
  return native().memoryConfig() as MemorySettings;
}

/** A usage callback that cannot throw into native code (a throwing callback loses its event only). @internal */
export function catchingUsageCallback(fn: ((event: MemoryUsageEvent) => void) | null | undefined): ((event: MemoryUsageEvent) => void) | null {
  return fn
    ? (event: MemoryUsageEvent) => {
        try {
          fn(event);
        } catch {
          /* a throwing callback loses its event only */
        }
      }
    : null;
}

function setUsageCallback(fn: ((event: MemoryUsageEvent) => void) | null | undefined): void {
  native().setMemoryUsageCallback(catchingUsageCallback(fn));
}

/** The memory debugger's settings in force. */
export function getMemoryConfig(): MemorySettings {
  return native().memoryConfig() as MemorySettings;
}

/** Turn stack recording on or off (on also turns tracking on). */
export function enableStackTraces(on: boolean): void {
  if (typeof on !== 'boolean') throw invalidArgument('on', 'a boolean', on);
  native().enableStackTraces(on);
}

// ---- counters and reports ----------------------------------------------------------

/** Active/total allocations, bytes, peak, tracking and guard counters, per tag. */
export function getMemoryDebugInfo(): MemoryDebugInfo {
  return native().memoryDebugInfo() as MemoryDebugInfo;
}

/** Fragmentation, reserved/committed/in use/peak, per tag, mapped model bytes, process RSS. */
export function getHeapStats(): HeapStats {
  return native().heapStats() as HeapStats;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function frames(list: any[] | undefined): StackFrame[] {
  return (list ?? []).map((f) => ({ frame: f.frame, address: f.address, function: f.function, file: f.file, line: f.line, module: f.module, offset: f.offset }));
}

const LEAK_KEYS = ['format', 'sinceSequence', 'tags', 'maxGroups', 'model'] as const;
const DEFAULT_LEAK_TAGS = MEMORY_TAGS.filter((t) => t !== 'logging' && t !== 'memory-debugger');

function tagMask(tags: unknown): number {
  if (!Array.isArray(tags) || tags.length === 0) throw invalidArgument('tags', 'a non-empty array of memory tags', tags);
  let mask = 0;
  tags.forEach((t, i) => {
    const index = MEMORY_TAGS.indexOf(t as MemoryTag);
    if (index < 0) throw invalidArgument(`tags[${i}]`, `one of ${MEMORY_TAGS.join(', ')}`, t);
    mask |= 1 << index;
  });
  return mask >>> 0;
}

/**
 * The live tracked native blocks grouped by allocation stack and tag, like
 * LeakSanitizer. With tracking off the report says what is unknown.
 */
export function checkMemoryLeaks(options?: CheckLeaksOptions): LeakReport {
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', LEAK_KEYS);
  const format = optionalEnum(o.format, 'format', ['text', 'json', 'both'] as const, 'both');
  let model: unknown;
  if (o.model !== undefined) {
    model = o.model instanceof Model ? nativeModelHandle(o.model) : null;
    if (!model) throw invalidArgument('model', 'a loaded model that is not disposed', o.model);
  }
  const r = native().checkMemoryLeaks({
    ...(model ? { model } : {}),
    minId: optionalNumber(o.sinceSequence, 'sinceSequence', BYTES, 0),
    tagMask: tagMask(o.tags ?? DEFAULT_LEAK_TAGS),
    maxGroups: optionalNumber(o.maxGroups, 'maxGroups', { min: 1, max: 0xffffffff, integer: true }, 0),
    text: format !== 'json',
    json: true,
  });
  const j = JSON.parse(r.json);
  return {
    bytes: r.bytes,
    blocks: r.blocks,
    groups: r.groups,
    untrackedBlocks: r.untrackedBlocks,
    tracking: j.tracking,
    leaks:
      format === 'text'
        ? []
        : j.sites.map((s: any) => ({ bytes: s.bytes, blocks: s.blocks, tag: s.tag, ids: s.ids, stack: frames(s.stack) })),
    text: r.text ?? '',
  };
}

/** The allocation record of a live tracked block (or a quarantined guarded one) by id. */
export function getAllocationTrace(id: number): AllocationTrace {
  requireNumber(id, 'id', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
  const r = native().allocationTrace(id);
  const j = JSON.parse(r.json);
  return {
    id: j.id,
    size: j.size,
    tag: j.tag,
    thread: j.thread,
    time: j.time,
    live: j.live,
    guarded: j.guarded,
    allocationStack: frames(j.allocation_stack),
    freeStack: frames(j.free_stack),
    text: r.text,
  };
}

/** Check the canaries of every live block that has them (and guarded blocks' slack). Damage is in the report, not thrown. */
export function checkCorruption(): CorruptionReport {
  const r = native().checkCorruption();
  const j = JSON.parse(r.json);
  return {
    checkedBlocks: r.checkedBlocks,
    damagedBlocks: r.damagedBlocks,
    blocks: j.blocks.map((b: any) => ({
      size: b.size, tag: b.tag, guarded: b.guarded, id: b.id, side: b.side, offset: b.offset, badBytes: b.bad_bytes, stack: frames(b.stack),
    })),
    text: r.text,
  };
}

// ---- snapshots ---------------------------------------------------------------------

interface NativeSnapshot {
  free(): void;
  freed(): boolean;
}

/** The live tracked blocks at one moment, by allocation site. Freed by free() or by the garbage collector. */
export class MemorySnapshot {
  /** @internal */
  readonly handle: NativeSnapshot;
  readonly takenAt: Date;

  /** @internal use takeMemorySnapshot() */
  constructor(handle: NativeSnapshot) {
    this.handle = handle;
    this.takenAt = new Date();
  }

  get freed(): boolean {
    return this.handle.freed();
  }

  /** Release the native snapshot now (idempotent). */
  free(): void {
    this.handle.free();
  }

  [Symbol.dispose](): void {
    this.free();
  }
}

export function takeMemorySnapshot(): MemorySnapshot {
  const Ctor = native().NativeMemorySnapshot as new () => NativeSnapshot;
  return new MemorySnapshot(new Ctor());
}

/** after − before by allocation site, largest growth first; `top` limits the sites listed (default 10, 0 = all). */
export function compareMemorySnapshots(a: MemorySnapshot, b: MemorySnapshot, options?: { top?: number }): SnapshotDiff {
  if (!(a instanceof MemorySnapshot)) throw invalidArgument('a', 'a MemorySnapshot', a);
  if (!(b instanceof MemorySnapshot)) throw invalidArgument('b', 'a MemorySnapshot', b);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', ['top']);
  const top = optionalNumber(o.top, 'top', { min: 0, max: 0xffffffff, integer: true }, 10);
  const r = native().compareMemorySnapshots(a.handle, b.handle, top);
  const j = JSON.parse(r.json);
  const site = (s: any) => ({ tag: s.tag, size: s.size, sizeDiff: s.size_diff, count: s.count, countDiff: s.count_diff });
  return {
    elapsedMs: j.elapsed_ms,
    tracking: j.tracking,
    changedSites: j.changed_sites,
    sites: j.sites.map((s: any) => ({ ...site(s), stack: frames(s.stack) })),
    tags: j.tags.map(site),
    text: r.text,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

// ---- the leak check at a model's dispose ---------------------------------------------

/** What a model left behind when its native side was freed (model.lastLeakReport). */
export interface ModelLeakReport {
  /** The model's memory budget: "model <file name>". */
  name: string;
  /** Pool bytes and blocks still charged to the model after everything it owns was freed (0 when clean). */
  bytes: number;
  blocks: number;
  /** Of which the tracking table knows (listed in `leaks` and `text`; 0 with tracking off). */
  trackedBlocks: number;
  leaks: LeakGroup[];
  text: string;
}

/** @internal */
export function parseModelLeakReport(raw: { name: string; bytes: number; blocks: number; trackedBlocks: number; text: string; json: string } | null): ModelLeakReport | null {
  if (!raw) return null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sites: any[] = raw.json ? JSON.parse(raw.json).sites : [];
  return {
    name: raw.name,
    bytes: raw.bytes,
    blocks: raw.blocks,
    trackedBlocks: raw.trackedBlocks,
    leaks: sites.map((s) => ({ bytes: s.bytes, blocks: s.blocks, tag: s.tag, ids: s.ids, stack: frames(s.stack) })),
    text: raw.text,
  };
}
