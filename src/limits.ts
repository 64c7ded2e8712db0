// limits.ts — resource limits of a model or a session, and a model's usage
// figures (DESIGN.md §5). Limits are validated here and packed into one plain
// object; native code only enforces them (runtime/limits.h).
import { invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, requireNumber } from './validate';

/**
 * Upper bounds on what a model (or one session of it) may use. Each field is
 * optional; null or undefined means no limit. A session's limits narrow its
 * model's: the bound in force is the smaller of the two.
 */
export interface ResourceLimits {
  /** Pool memory of the model (its tables, sessions' KV caches, request buffers), in MiB (fractions allowed, e.g. 0.5). Enforced at allocation time: HYPERION_MEMORY_LIMIT. */
  maxMemoryMb?: number | null;
  /** Threads a forward pass uses (at most the model's `threads`). */
  maxThreads?: number | null;
  /** CPU time over wall time of the model's work, in percent of its threads' time (1..100). */
  maxCpuPercent?: number | null;
  /** Default and cap of each request's timeoutMs: a request ends with HYPERION_TIMEOUT. */
  timeoutMs?: number | null;
  /** Default and cap of each request's maxTokens: a request ends with stopReason 'maxTokens'. */
  maxTokens?: number | null;
}

/** The limits in force (null: none). */
export interface EffectiveResourceLimits {
  maxMemoryMb: number | null;
  maxThreads: number | null;
  maxCpuPercent: number | null;
  timeoutMs: number | null;
  maxTokens: number | null;
}

/** What a model uses now (model.getResourceUsage()). */
export interface ResourceUsage {
  /** Pool bytes charged to the model (its own blocks and its sessions'). */
  poolBytesInUse: number;
  poolBytesPeak: number;
  /** The weights, mapped read-only from the file (not pool memory). */
  mappedModelBytes: number;
  /** KV caches of the model's live sessions and requests. */
  kvCacheBytes: number;
  /** The pool's size and the threads a run uses under the model's maxThreads. */
  threads: { pool: number; active: number };
  /** CPU time of the model's pool workers and of the threads that ran its requests. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Wall time since the load finished. */
  wallMs: number;
  /** Tokens run through the model (prompts, generated tokens fed back, evaluate). */
  tokensProcessed: number;
  tokensGenerated: number;
  /** Requests (generations and evaluate calls) that ran to an end, successful or not. */
  requestsServed: number;
  activeSessions: number;
}

/** Options of model.setUsageCallback. */
export interface UsageCallbackOptions {
  /** Fractions of maxMemoryMb, ascending, in (0, 1] (default [0.8, 0.95]). */
  memoryThresholds?: number[];
}

/** The packed form native code takes (0 = none). @internal */
export interface PackedLimits {
  maxMemoryBytes: number;
  maxThreads: number;
  maxCpuPercent: number;
  timeoutMs: number;
  maxTokens: number;
}

const KEYS = ['maxMemoryMb', 'maxThreads', 'maxCpuPercent', 'timeoutMs', 'maxTokens'] as const;
const MIB = 1024 * 1024;

function bound(value: unknown, field: string, max: number): number {
  if (value === undefined || value === null) return 0;
  return requireNumber(value, field, { min: 1, max, integer: true });
}

/** MiB (a positive number, fractions allowed) to whole bytes, at least 1. */
function megabytes(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  const mb = requireNumber(value, field, { min: 0, exclusiveMin: true, max: 2 ** 32 });
  return Math.max(1, Math.floor(mb * MIB));
}

/**
 * Validate limits (`prefix` names the fields in errors, e.g. 'limits.'),
 * with maxThreads at most `poolThreads` when known. @internal
 */
export function packLimits(value: unknown, prefix: string, poolThreads?: number): PackedLimits {
  const o = optionsObject(value, prefix ? prefix.slice(0, -1) : 'limits');
  rejectUnknownKeys(o, prefix.slice(0, -1), KEYS);
  return {
    maxMemoryBytes: megabytes(o.maxMemoryMb, `${prefix}maxMemoryMb`),
    maxThreads: bound(o.maxThreads, `${prefix}maxThreads`, poolThreads ?? 256),
    maxCpuPercent: bound(o.maxCpuPercent, `${prefix}maxCpuPercent`, 100),
    timeoutMs: bound(o.timeoutMs, `${prefix}timeoutMs`, 2 ** 31 - 1),
    maxTokens: bound(o.maxTokens, `${prefix}maxTokens`, 1 << 24),
  };
}

/** The native figures as the public form. @internal */
export function unpackLimits(p: PackedLimits): EffectiveResourceLimits {
  const orNull = (v: number) => (v > 0 ? v : null);
  return {
    maxMemoryMb: p.maxMemoryBytes > 0 ? p.maxMemoryBytes / MIB : null,
    maxThreads: orNull(p.maxThreads),
    maxCpuPercent: orNull(p.maxCpuPercent),
    timeoutMs: orNull(p.timeoutMs),
    maxTokens: orNull(p.maxTokens),
  };
}

/** The maxTokens a request gets under a maxTokens limit (0 = none). @internal */
export function effectiveMaxTokens(requested: number, given: boolean, limit: number): number {
  return limit > 0 && (!given || requested > limit) ? limit : requested;
}

/** Check that a value is a usage callback or null. @internal */
export function checkCallback(cb: unknown): void {
  if (cb !== null && typeof cb !== 'function') throw invalidArgument('callback', 'a function or null', cb);
}
