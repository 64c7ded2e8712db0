// profiler.ts — the profiler (DESIGN.md §5, §8): sessions, Chrome-trace and
// summary files, hotspots, and a roofline bottleneck analysis against this
// machine's measured limits.
//
// initProfiler() and startProfiling() only flip native switches and return at
// once. Everything that collects, analyses, probes the machine or writes files
// runs on a native thread of its own and returns a Promise.
import path from 'node:path';
import { native } from './native';
import { invalidArgument } from './errors';
import { Model } from './model';
import { optionsObject, rejectUnknownKeys, optionalBoolean, optionalNumber, optionalEnum, requireNumber } from './validate';

// ---------------------------------------------------------------- types

export interface ProfilerConfig {
  /** Record op and layer zones (default true); false keeps phase zones only. */
  trackFunctions?: boolean;
  /** The counter sampler records pool bytes in use and process RSS (default true). */
  trackMemory?: boolean;
  /** Hardware counters per phase through perf_event_open (default false); when the kernel refuses, the profile says why. */
  trackCache?: boolean;
  /** Counter sampling period in ms, 1..60000, or 0 for no sampler (default 10). */
  sampleIntervalMs?: number;
  /** Zones kept per thread, 64..16777216 (default 131072); more are dropped and counted. */
  bufferEvents?: number;
}

export type ProfileFormat = 'chrome' | 'summary' | 'both';

export interface SaveProfileOptions {
  /** 'chrome': the Chrome trace at path; 'summary': the summary JSON at path; 'both' (default): the trace at path
   * and the summary beside it ("x.json" → "x.summary.json"). */
  format?: ProfileFormat;
}

export interface SavedProfile {
  /** Absolute path of the Chrome trace written, if any. */
  trace?: string;
  /** Absolute path of the summary written, if any. */
  summary?: string;
}

export type ZoneCategory = 'op' | 'layer' | 'phase';
export type Phase = 'load' | 'prefill' | 'decode' | 'sample';

/** One op (or layer / phase zone kind) of the summary. Times in ms; rates over the op's wall time. */
export interface ProfileOp {
  name: string;
  category: ZoneCategory;
  /** Tensor type ("q4_0", "f32") or null. */
  type: string | null;
  /** Zones recorded. An op split over the pool counts its dispatching zone and one slice per participating thread. */
  calls: number;
  totalMs: number;
  selfMs: number;
  /** selfMs / tracedMs */
  share: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  /** Union of its calls over all threads. */
  wallMs: number;
  flops: number;
  bytes: number;
  gflops: number | null;
  gbps: number | null;
}

export interface ProfilePhase {
  phase: Phase;
  calls: number;
  totalMs: number;
  selfMs: number;
  tokens: number;
  tokensPerSecond: number | null;
  msPerToken: number | null;
}

export interface ProfileThread {
  tid: number;
  name: string;
  events: number;
  droppedEvents: number;
  busyMs: number;
}

export interface ProfileLayer {
  layer: number;
  calls: number;
  totalMs: number;
  opSelfMs: number;
}

export interface HardwareCounters {
  available: boolean;
  /** "ok", "disabled", "no-pmu", "perf-event-paranoid", "blocked", "no-perf-events", "other". */
  reason: string;
  /** One plain sentence saying why (or what) . */
  detail: string;
  paranoid: number | null;
  hwErrno: number;
  swErrno: number;
  source?: 'hardware' | 'software-stand-ins';
  threads?: number;
  phases?: Array<{
    phase: Phase;
    cycles: number | null;
    instructions: number | null;
    cacheReferences: number | null;
    cacheMisses: number | null;
    llcMisses: number | null;
    ipc: number | null;
  }>;
}

/** The summary of a session or of one request (getProfile(), the `.summary.json` file, `result.profile`). */
export interface ProfileSummary {
  version: number;
  kind: 'session' | 'request';
  /** The request id of a per-request profile, 0 for a session. */
  request: number;
  clock: string;
  wallMs: number;
  /** Wall time at least one zone was open on some thread. */
  coveredMs: number;
  /** Thread time inside zones, summed over threads. */
  tracedMs: number;
  /** The zones' self times summed: equals tracedMs. */
  selfSumMs: number;
  /** Share of wall time no zone accounts for. */
  unaccountedShare: number;
  events: number;
  droppedEvents: number;
  clampedEvents: number;
  unfinishedEvents: number;
  config: Required<ProfilerConfig>;
  threads: ProfileThread[];
  phases: ProfilePhase[];
  /** By self time, descending. */
  ops: ProfileOp[];
  layers: ProfileLayer[];
  samples?: { count: number; dropped: number; memory: boolean; peakPoolBytes: number; peakRssBytes: number; tokensGenerated: number };
  counters: HardwareCounters;
}

/** This machine's limits, measured by the runtime at first use (about 0.2 s) and cached. */
export interface MachineLimits {
  /** Streaming-read bandwidth, one thread, GB/s (1e9 bytes/s). */
  bandwidthGbps: number;
  /** The same with mtThreads threads. */
  bandwidthGbpsMt: number;
  mtThreads: number;
  peakGflopsScalar: number;
  peakGflopsSimd: number;
  peakGflopsSimdMt: number;
  simdIsa: string;
  /** peakGflopsSimd / bandwidthGbps: flops per byte where an op turns compute-bound. */
  machineBalance: number;
  probeBufferBytes: number;
  llcBytes: number;
  probeMs: number;
}

/** An op judged against the machine: memory- or compute-bound, how close to the limit, and what to do. */
export interface OpVerdict {
  rank: number;
  name: string;
  category: ZoneCategory;
  type: string | null;
  calls: number;
  selfMs: number;
  totalMs: number;
  wallMs: number;
  share: number;
  /** Average threads busy in the op. */
  threads: number;
  bound: 'memory' | 'compute' | 'unknown';
  intensity?: number;
  machineBalance?: number;
  achievedGbps?: number;
  achievedGflops?: number;
  limitGbps?: number;
  limitGflops?: number;
  efficiency?: number;
  /** One line in plain words. */
  recommendation: string;
}

export type Hotspot = OpVerdict;

/** Decode speed against the memory-bandwidth ceiling of a given model (analyzeBottlenecks(model)). */
export interface DecodeBandwidth {
  model: string | null;
  /** Bytes of weights one decode step reads. */
  weightBytesPerToken: number;
  threads: number;
  /** The measured bandwidth at that thread count. */
  bandwidthGbps: number;
  /** bandwidth / bytes per token. */
  ceilingTokensPerSecond: number;
  /** Decode tokens/s in the profile, or null when it has no decode tokens. */
  measuredTokensPerSecond: number | null;
  /** measured / ceiling. */
  efficiency: number | null;
  /** The weights fit in the last-level cache, so DRAM bandwidth does not bound decode. */
  fitsInCache: boolean;
  recommendation: string;
}

export interface BottleneckReport {
  version: number;
  wallMs: number;
  tracedMs: number;
  machine: MachineLimits | { error: string };
  /** Every op with its verdict, by self time. */
  ops: OpVerdict[];
  /** Plain findings, the most useful first. */
  findings: string[];
  headline: string;
  /** Present when a model was given. */
  decode?: DecodeBandwidth;
}

/** Model context for analyzeBottlenecks: a loaded Model, or the facts directly. */
export type BottleneckModel = Model | { weightBytesPerToken: number; threads?: number; name?: string };

// ---------------------------------------------------------------- configuration and sessions

const CONFIG_KEYS = ['trackFunctions', 'trackMemory', 'trackCache', 'sampleIntervalMs', 'bufferEvents'] as const;

/** Configure the profiler (applies to the next session). Throws HYPERION_INVALID_ARGUMENT naming a bad field, or while recording. */
export function initProfiler(config?: ProfilerConfig): void {
  const o = optionsObject(config, 'config');
  rejectUnknownKeys(o, 'config', CONFIG_KEYS);
  const packed: Required<ProfilerConfig> = {
    trackFunctions: optionalBoolean(o.trackFunctions, 'config.trackFunctions', true),
    trackMemory: optionalBoolean(o.trackMemory, 'config.trackMemory', true),
    trackCache: optionalBoolean(o.trackCache, 'config.trackCache', false),
    sampleIntervalMs: optionalNumber(o.sampleIntervalMs, 'config.sampleIntervalMs', { min: 0, max: 60000, integer: true }, 10),
    bufferEvents: optionalNumber(o.bufferEvents, 'config.bufferEvents', { min: 64, max: 16777216, integer: true }, 131072),
  };
  native().profilerInit(packed);
}

/** Start a session: every thread's zones are recorded from now on (the previous session's profile is discarded). */
export function startProfiling(): void {
  native().profilerStart();
}

/** Stop the session and merge the threads' buffers into its profile, which the report functions read until the next start. */
export async function stopProfiling(): Promise<void> {
  await native().profilerStop();
}

/** True while a session records. */
export function isProfiling(): boolean {
  return native().profilerIsProfiling() as boolean;
}

/** The summary path beside a trace path, as the native writer names it. */
export function summaryPathFor(tracePath: string): string {
  return tracePath.endsWith('.json') ? tracePath.slice(0, -5) + '.summary.json' : tracePath + '.summary.json';
}

const FORMAT_CODES: Record<ProfileFormat, number> = { chrome: 0, summary: 1, both: 2 };

/**
 * Write the last session's profile (a snapshot of the running one) to files, through a temporary file renamed
 * into place. Resolves with the absolute paths written; rejects with HYPERION_IO naming the path.
 */
export async function saveProfile(file: string, options?: SaveProfileOptions): Promise<SavedProfile> {
  if (typeof file !== 'string' || file.length === 0) throw invalidArgument('path', 'a file path', file);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, 'options', ['format']);
  const format = optionalEnum<ProfileFormat>(o.format, 'options.format', ['chrome', 'summary', 'both'], 'both');
  const abs = path.resolve(file);
  await native().profilerSave(abs, FORMAT_CODES[format]);
  if (format === 'chrome') return { trace: abs };
  if (format === 'summary') return { summary: abs };
  return { trace: abs, summary: summaryPathFor(abs) };
}

// ---------------------------------------------------------------- reports

/** The summary as an object: a per-request profile's JSON text (or object) from native code, typed. */
export function parseProfileSummary(json: string | object): ProfileSummary {
  const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  if (!value || typeof value !== 'object' || !Array.isArray((value as ProfileSummary).ops)) {
    throw invalidArgument('profile', 'a profile summary (JSON text or object)', value);
  }
  return value as ProfileSummary;
}

/**
 * For generate()/complete() with `profile: true`: attach that request's summary (the JSON text or object the
 * native capture returned) to the result as `result.profile`. A null/undefined profile leaves the result as is.
 */
export function attachProfile<T extends object>(result: T, profile: string | object | null | undefined): T & { profile?: ProfileSummary } {
  if (profile === null || profile === undefined) return result;
  return Object.assign(result, { profile: parseProfileSummary(profile) });
}

/** The summary of the last session (or a snapshot of the running one). Rejects when there is no profile yet. */
export async function getProfile(): Promise<ProfileSummary> {
  return parseProfileSummary((await native().profilerSummary()) as string);
}

/** The summary as a fixed-width text table (phases, then ops by self time). */
export async function getProfileTable(): Promise<string> {
  return (await native().profilerTable()) as string;
}

/** The n ops (category "op") with the most self time, each judged memory- or compute-bound against the machine. */
export async function getHotspots(n = 10): Promise<Hotspot[]> {
  const count = requireNumber(n, 'n', { min: 1, max: 100000, integer: true });
  const report = JSON.parse((await native().profilerHotspots(count)) as string) as { hotspots: Hotspot[] };
  return report.hotspots;
}

/** The machine's measured limits (the probes run once per process, off the main thread). */
export async function getMachineLimits(): Promise<MachineLimits> {
  return (await native().machineLimits()) as MachineLimits;
}

interface ModelFacts {
  weightBytesPerToken: number;
  name: string | null;
  threads: number;
}

async function modelFacts(model: unknown): Promise<ModelFacts> {
  if (model instanceof Model) {
    const facts = (await native().profilerModelFacts(model.path)) as { weightBytesPerToken: number };
    return { weightBytesPerToken: facts.weightBytesPerToken, name: path.basename(model.path), threads: model.info.threads };
  }
  if (model === null || typeof model !== 'object') throw invalidArgument('model', 'a Model or { weightBytesPerToken, threads? }', model);
  const o = model as Record<string, unknown>;
  rejectUnknownKeys(o, 'model', ['weightBytesPerToken', 'threads', 'name']);
  const bytes = requireNumber(o.weightBytesPerToken, 'model.weightBytesPerToken', { min: 0, exclusiveMin: true });
  const threads = optionalNumber(o.threads, 'model.threads', { min: 1, max: 256, integer: true }, 1);
  if (o.name !== undefined && typeof o.name !== 'string') throw invalidArgument('model.name', 'a string', o.name);
  return { weightBytesPerToken: bytes, name: (o.name as string | undefined) ?? null, threads };
}

/** The machine's bandwidth at t threads, interpolated between the one-thread and mtThreads figures as the native verdicts do. */
function bandwidthAt(m: MachineLimits, threads: number): number {
  const c = Math.min(Math.max(threads, 1), m.mtThreads);
  const frac = m.mtThreads > 1 ? (c - 1) / (m.mtThreads - 1) : 0;
  return m.bandwidthGbps + (m.bandwidthGbpsMt - m.bandwidthGbps) * frac;
}

const MIB = 1024 * 1024;

function decodeBandwidth(facts: ModelFacts, m: MachineLimits, summary: ProfileSummary | null): DecodeBandwidth {
  const bw = bandwidthAt(m, facts.threads);
  const ceiling = (bw * 1e9) / facts.weightBytesPerToken;
  const decode = summary?.phases.find((p) => p.phase === 'decode');
  const measured = decode && decode.tokens > 0 && decode.tokensPerSecond ? decode.tokensPerSecond : null;
  const efficiency = measured !== null ? measured / ceiling : null;
  const fitsInCache = m.llcBytes > 0 && facts.weightBytesPerToken < m.llcBytes;
  const mib = (facts.weightBytesPerToken / MIB).toFixed(facts.weightBytesPerToken < 10 * MIB ? 2 : 0);
  const perToken = `${mib} MiB of weights per token at the measured ${bw.toFixed(1)} GB/s (${facts.threads} thread${facts.threads > 1 ? 's' : ''})`;
  let recommendation: string;
  if (fitsInCache) {
    recommendation =
      `the weights (${mib} MiB per token) fit in the ${(m.llcBytes / MIB).toFixed(0)} MiB last-level cache, so DRAM bandwidth ` +
      `(ceiling ${ceiling.toFixed(0)} tokens/s) does not bound decode` +
      (measured !== null ? `; decode runs at ${measured.toFixed(1)} tokens/s: the hotspots (kernels, work between ops) are the limit` : '');
  } else if (measured === null) {
    recommendation = `no decode tokens in this profile; reading ${perToken} allows at most ${ceiling.toFixed(1)} tokens/s in decode`;
  } else if (efficiency !== null && efficiency >= 0.6) {
    recommendation =
      `decode runs at ${Math.round(efficiency * 100)}% of its memory-bandwidth ceiling (${measured.toFixed(1)} of ` +
      `${ceiling.toFixed(1)} tokens/s reading ${perToken}): it is memory-bound, so a smaller quant type (fewer bytes per weight) is the lever`;
  } else {
    recommendation =
      `decode reaches ${Math.round((efficiency ?? 0) * 100)}% of its memory-bandwidth ceiling (${measured.toFixed(1)} of ` +
      `${ceiling.toFixed(1)} tokens/s reading ${perToken}): memory is not the limit yet; the hotspots (kernels, threads, ` +
      `work between ops) are`;
  }
  return {
    model: facts.name,
    weightBytesPerToken: facts.weightBytesPerToken,
    threads: facts.threads,
    bandwidthGbps: bw,
    ceilingTokensPerSecond: ceiling,
    measuredTokensPerSecond: measured,
    efficiency,
    fitsInCache,
    recommendation,
  };
}

/**
 * Every op judged memory- or compute-bound against the machine's measured limits, with a one-line recommendation,
 * and overall findings. With a model (a loaded Model, or { weightBytesPerToken, threads? }) the report adds decode
 * speed against the model's memory-bandwidth ceiling.
 */
export async function analyzeBottlenecks(model?: BottleneckModel): Promise<BottleneckReport> {
  const facts = model === undefined ? null : await modelFacts(model);
  const report = JSON.parse((await native().profilerBottlenecks()) as string) as BottleneckReport;
  if (facts) {
    const [limits, summary] = await Promise.all([getMachineLimits(), getProfile()]);
    report.decode = decodeBandwidth(facts, limits, summary);
    report.findings.unshift(report.decode.recommendation);
  }
  return report;
}
