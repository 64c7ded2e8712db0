// cli/profile.ts — `hyperion profile`: run a model under the profiler, write the
// Chrome trace and the summary, print the hotspots and the bottleneck findings.
//
// Until generation lands in this build, the command profiles the evaluation of
// the prompt's tokens (the prefill phase); it says so. When the model has no
// tokenizer binding, the prompt becomes synthetic token ids, and it says that too.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext } from './main';
import { EXIT } from './exit-codes';
import { invalidArgument } from '../errors';
import { loadModel, type Model } from '../model';
import {
  initProfiler,
  startProfiling,
  stopProfiling,
  isProfiling,
  saveProfile,
  getProfile,
  getHotspots,
  analyzeBottlenecks,
  type Hotspot,
  type ProfileSummary,
} from '../profiler';

const DEFAULT_TOKENS = 128;
const MAX_TOKENS = 65536;

interface PromptTokens {
  ids: number[];
  /** How the ids were made, in words. */
  source: string;
  synthetic: boolean;
}

/** --flag's integer in min..max; a usage error (HYPERION_INVALID_ARGUMENT, so --json prints it as JSON) otherwise. */
function parseCount(value: string | boolean | undefined, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < min || n > max)
    throw invalidArgument(`--${flag}`, `an integer ${min}..${max}`, value);
  return n;
}

/** The prompt's token ids: the model's tokenizer when this build has one, else synthetic ids. */
function promptTokens(model: Model, prompt: string | undefined, count: number): PromptTokens {
  const vocab = model.info.vocabSize;
  const tokenize = (model as unknown as { tokenize?: (text: string, o?: { addBos?: boolean }) => number[] }).tokenize;
  if (prompt !== undefined && typeof tokenize === 'function') {
    const ids = tokenize.call(model, prompt, { addBos: true });
    return { ids, source: `the prompt, tokenized (${ids.length} tokens)`, synthetic: false };
  }
  if (prompt !== undefined) {
    // no tokenizer binding yet: one id per UTF-8 byte, so the length follows the prompt
    const bytes = Buffer.from(prompt, 'utf8');
    const ids = Array.from(bytes, (b) => (b + 3) % vocab);
    return {
      ids: ids.length ? ids : [1 % vocab],
      source: `synthetic ids, one per UTF-8 byte of the prompt (${ids.length}): this build has no tokenizer binding yet`,
      synthetic: true,
    };
  }
  // a fixed pseudo-random sequence, the same every run
  const ids: number[] = [];
  let x = 12345;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    ids.push((x >>> 8) % vocab);
  }
  return { ids, source: `${count} synthetic token ids (a fixed pseudo-random sequence)`, synthetic: true };
}

function fmt(n: number | null | undefined, digits = 2): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

function hotspotTable(hotspots: Hotspot[]): string[] {
  const head = ['#', 'op', 'type', 'calls', 'self ms', 'share', 'GB/s', 'GFLOP/s', 'bound', 'of limit'];
  const rows = hotspots.map((h) => [
    String(h.rank),
    h.name,
    h.type ?? '-',
    String(h.calls),
    fmt(h.selfMs, 3),
    `${(h.share * 100).toFixed(1)}%`,
    fmt(h.achievedGbps),
    fmt(h.achievedGflops),
    h.bound,
    h.efficiency === undefined ? '-' : `${Math.round(h.efficiency * 100)}%`,
  ]);
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 || i === 2 || i === 8 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)];
}

function phaseLines(summary: ProfileSummary): string[] {
  return summary.phases
    .filter((p) => p.calls > 0)
    .map((p) => `  ${p.phase.padEnd(8)} ${fmt(p.totalMs, 3).padStart(10)} ms` + (p.tokens ? `  ${p.tokens} tokens, ${fmt(p.tokensPerSecond, 1)} tokens/s` : ''));
}

async function run(ctx: CommandContext): Promise<number> {
  // usage errors are HYPERION_INVALID_ARGUMENT: exit 2, and {"error": ...} on stdout with --json (main.ts)
  if (ctx.positionals.length !== 1)
    throw invalidArgument('model', `one model path (${profileCommand.usage})`, ctx.positionals.join(' ') || undefined);
  const prompt = ctx.values.prompt as string | undefined;
  if (prompt !== undefined && ctx.values.tokens !== undefined)
    throw invalidArgument('--tokens', 'no --tokens when -p/--prompt is given (one or the other)', ctx.values.tokens);
  const tokens = ctx.values.tokens === undefined ? DEFAULT_TOKENS : parseCount(ctx.values.tokens, 'tokens', 1, MAX_TOKENS);
  const threads = ctx.values.threads === undefined ? 0 : parseCount(ctx.values.threads, 'threads', 1, 256);
  const batch = ctx.values.batch === undefined ? 0 : parseCount(ctx.values.batch, 'batch', 1, 4096);
  if (prompt !== undefined && prompt.length === 0) throw invalidArgument('--prompt', 'a non-empty prompt', prompt);
  const tracePath = path.resolve((ctx.values.output as string | undefined) ?? 'profile.json');
  const modelPath = ctx.positionals[0];
  const note = (t: string) => (ctx.json ? ctx.err(t) : ctx.out(t));

  initProfiler({ trackFunctions: true, trackMemory: true, trackCache: true, sampleIntervalMs: 5 });
  startProfiling();
  let model: Model | undefined;
  let ids: PromptTokens | undefined;
  try {
    model = await loadModel(modelPath, { threads: (threads as number) || undefined, batchSize: (batch as number) || undefined });
    ids = promptTokens(model, prompt, tokens as number);
    await model.evaluate(ids.ids);
  } finally {
    if (isProfiling()) await stopProfiling();
  }
  if (!model || !ids) return EXIT.internal;   // unreachable: a failure above throws
  fs.mkdirSync(path.dirname(tracePath), { recursive: true });
  const saved = await saveProfile(tracePath, { format: 'both' });
  const [summary, hotspots, bottlenecks] = await Promise.all([getProfile(), getHotspots(10), analyzeBottlenecks(model)]);
  const info = model.info;
  await model.dispose();

  if (ctx.json) {
    note(`hyperion profile: evaluated ${ids.ids.length} tokens (${ids.source}); wrote ${saved.trace} and ${saved.summary}`);
    ctx.out(JSON.stringify(summary, null, 2));
    return EXIT.ok;
  }
  ctx.out(`Profile of ${path.basename(modelPath)} (${info.architecture}, ${info.layers} layers, ${info.threads} thread${info.threads > 1 ? 's' : ''})`);
  ctx.out(`  work     evaluation of ${ids.ids.length} prompt tokens (prefill); generation is not in this build yet`);
  ctx.out(`  tokens   ${ids.source}`);
  ctx.out(`  wall     ${fmt(summary.wallMs, 1)} ms, ${summary.events} zones on ${summary.threads.length} threads, ${(summary.unaccountedShare * 100).toFixed(1)}% outside zones, ${summary.droppedEvents} dropped`);
  ctx.out('');
  ctx.out('Phases');
  for (const l of phaseLines(summary)) ctx.out(l);
  ctx.out('');
  ctx.out('Hotspots (ops by self time)');
  for (const l of hotspotTable(hotspots)) ctx.out(`  ${l}`);
  ctx.out('');
  ctx.out('Bottlenecks');
  const lines = [...bottlenecks.findings];
  for (const h of hotspots.slice(0, 3)) if (!lines.some((l) => l.includes(h.recommendation))) lines.push(h.recommendation);
  for (const l of lines) ctx.out(`  - ${l}`);
  const c = summary.counters;
  if (c.available) ctx.out(`  - hardware counters: ${c.source ?? 'hardware'}, per phase in the summary`);
  ctx.out('');
  ctx.out(`Wrote ${saved.trace} (Chrome trace: open in https://ui.perfetto.dev, chrome://tracing or speedscope)`);
  ctx.out(`  and ${saved.summary}`);
  return EXIT.ok;
}

export const profileCommand: Command = {
  name: 'profile',
  summary: 'run a model under the profiler: trace, summary, hotspots and bottlenecks',
  usage: 'hyperion profile <model.gguf> [-p "…" | --tokens N] [-o profile.json] [--threads N] [--batch N] [--json]',
  details:
    'Loads the model and evaluates the prompt with every zone recorded (load, prefill, each layer and op on every\n' +
    'pool thread), then writes the Chrome trace (-o, default profile.json) and the summary beside it\n' +
    '(profile.summary.json), and prints the phases, the hotspot table and the bottleneck findings against this\n' +
    "machine's measured limits. Without -p it evaluates --tokens synthetic token ids (default 128). --json prints\n" +
    'the summary object. Generation (decode) is not in this build yet: the profile covers prompt evaluation.',
  options: {
    prompt: { type: 'string', short: 'p' },
    tokens: { type: 'string' },
    output: { type: 'string', short: 'o' },
    threads: { type: 'string' },
    batch: { type: 'string' },
  },
  run,
};
