// cli/profile.ts — `hyperion profile`: run a model under the profiler, write the
// Chrome trace and the summary, print the hotspots and the bottleneck findings.
//
// The run is the work a service does: the prompt evaluated (prefill), then
// --max-tokens tokens generated one at a time (decode, greedy, the end-of-text
// token not stopping it), so the profile shows both phases and the decode's
// share of the memory-bandwidth ceiling. When the model has no tokenizer, the
// prompt becomes synthetic token ids, and it says so.
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
const DEFAULT_GENERATE = 32;
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

/** The prompt's token ids: the model's tokenizer when the file has one, else synthetic ids. */
function promptTokens(model: Model, prompt: string | undefined, count: number): PromptTokens {
  const vocab = model.info.vocabSize;
  if (prompt !== undefined && model.tokenizer) {
    const ids = model.tokenize(prompt);
    if (!ids.length) throw invalidArgument('--prompt', 'text that tokenizes to at least one token', prompt);
    return { ids, source: `the prompt, tokenized (${ids.length} tokens)`, synthetic: false };
  }
  if (prompt !== undefined) {
    // no tokenizer in the file: one id per UTF-8 byte, so the length follows the prompt
    const bytes = Buffer.from(prompt, 'utf8');
    const ids = Array.from(bytes, (b) => (b + 3) % vocab);
    return {
      ids: ids.length ? ids : [1 % vocab],
      source: `synthetic ids, one per UTF-8 byte of the prompt (${ids.length}): the model file has no tokenizer`,
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
  const generate = ctx.values['max-tokens'] === undefined ? DEFAULT_GENERATE : parseCount(ctx.values['max-tokens'], 'max-tokens', 0, MAX_TOKENS);
  if (prompt !== undefined && prompt.length === 0) throw invalidArgument('--prompt', 'a non-empty prompt', prompt);
  const tracePath = path.resolve((ctx.values.output as string | undefined) ?? 'profile.json');
  const modelPath = ctx.positionals[0];
  const note = (t: string) => (ctx.json ? ctx.err(t) : ctx.out(t));

  initProfiler({ trackFunctions: true, trackMemory: true, trackCache: true, sampleIntervalMs: 5 });
  startProfiling();
  let model: Model | undefined;
  let ids: PromptTokens | undefined;
  let generated = 0;
  try {
    model = await loadModel(modelPath, {
      threads: (threads as number) || undefined,
      batchSize: (batch as number) || undefined,
      ...(ctx.values['no-repack'] === true && { repackWeights: false }),
    });
    ids = promptTokens(model, prompt, tokens as number);
    const room = model.info.contextSize;
    if (ids.ids.length + generate > room)
      throw invalidArgument(generate > 0 ? '--max-tokens' : '--tokens',
        `a prompt (${ids.ids.length} tokens) and generated tokens that fit the model's context of ${room} positions`,
        generate > 0 ? generate : ids.ids.length);
    if (generate === 0) {
      await model.evaluate(ids.ids);
    } else {
      // greedy with no penalty and no stop at the end-of-text token: the run decodes exactly `generate`
      // tokens, and what it measures is the model's work, not the sampler's settings
      const r = await model.complete(ids.ids, { maxTokens: generate, temperature: 0, repeatPenalty: 1, stopAtEos: false });
      generated = r.stats.generatedTokens;
    }
  } finally {
    if (isProfiling()) await stopProfiling();
  }
  if (!model || !ids) return EXIT.internal;   // unreachable: a failure above throws
  fs.mkdirSync(path.dirname(tracePath), { recursive: true });
  const saved = await saveProfile(tracePath, { format: 'both' });
  const [summary, hotspots, bottlenecks] = await Promise.all([getProfile(), getHotspots(10), analyzeBottlenecks(model)]);
  const info = model.info;
  await model.dispose();
  const work = generate > 0
    ? `evaluation of ${ids.ids.length} prompt tokens (prefill), then ${generated} tokens generated one at a time (decode, greedy)`
    : `evaluation of ${ids.ids.length} prompt tokens (prefill); no generation (--max-tokens 0)`;

  if (ctx.json) {
    note(`hyperion profile: ${work}; prompt: ${ids.source}; wrote ${saved.trace} and ${saved.summary}`);
    ctx.out(JSON.stringify(summary, null, 2));
    return EXIT.ok;
  }
  ctx.out(`Profile of ${path.basename(modelPath)} (${info.architecture}, ${info.layers} layers, ${info.threads} thread${info.threads > 1 ? 's' : ''})`);
  ctx.out(`  work     ${work}`);
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
  usage: 'hyperion profile <model.gguf> [-p "…" | --tokens N] [-n N] [-o profile.json] [--threads N] [--batch N] [--no-repack] [--json]',
  details:
    'Loads the model, evaluates the prompt, then generates -n/--max-tokens tokens (default 32; greedy, not stopped\n' +
    'by the end-of-text token; 0: the prompt only) with every zone recorded (load, prefill, decode, sampling, each\n' +
    'layer and op on every pool thread). Writes the Chrome trace (-o, default profile.json) and the summary beside\n' +
    'it (profile.summary.json), and prints the phases, the hotspot table and the bottleneck findings against this\n' +
    "machine's measured limits, with the decode's share of its memory-bandwidth ceiling. Without -p the prompt is\n" +
    '--tokens synthetic token ids (default 128); with -p it is tokenized by the model\'s tokenizer (synthetic ids,\n' +
    'said so, when the file has none). --no-repack reads every weight from the file mapping, as `hyperion run\n' +
    '--no-repack`. --json prints the summary object.',
  options: {
    prompt: { type: 'string', short: 'p' },
    tokens: { type: 'string' },
    output: { type: 'string', short: 'o' },
    threads: { type: 'string' },
    batch: { type: 'string' },
    'max-tokens': { type: 'string', short: 'n' },
    'no-repack': { type: 'boolean' },
  },
  run,
};
