// cli/bench.ts — `hyperion bench`: the benchmark suite (src/bench/suite.ts) with a
// progress bar, a table, a JSON result file and `--compare` with a previous one.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext } from './main';
import { EXIT } from './exit-codes';
import { invalidArgument } from '../errors';
import { runBenchSuite, readBenchResult } from '../bench/suite';
import { compareResults, type Comparison } from '../bench/compare';
import type { BenchResult, BenchRow } from '../bench/types';
import { bytes, table } from './format';
import { stepProgress } from './progress';

function list(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw invalidArgument(field, 'a comma-separated list', value);
  return items;
}

function integer(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw invalidArgument(field, 'a positive integer', value);
  return Number(value);
}

/** Three significant digits, without exponent notation for the usual ranges. */
function sig(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

const pct = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-');
const rme = (r: BenchRow) => (r.rme === null ? '-' : `±${r.rme.toFixed(1)}%`);

/** Where the result goes: --out as given, a timestamped file in --out when it is a folder, else in the working directory. */
function outputPath(out: string | undefined, timestamp: string): string {
  const name = `hyperion-bench-${timestamp.replace(/[:.]/g, '-')}.json`;
  if (!out) return path.resolve(name);
  const isDir = out.endsWith('/') || out.endsWith(path.sep) || (fs.existsSync(out) && fs.statSync(out).isDirectory());
  return path.resolve(isDir ? path.join(out, name) : out);
}

export function resultTables(result: BenchResult): string[] {
  const lines: string[] = [];
  const kernels = result.rows.filter((r) => r.kind === 'kernel');
  const engine = result.rows.filter((r) => r.kind === 'engine');
  const l = result.machine.limits;
  lines.push(`${result.machine.cpuModel}, ${result.machine.logicalCores} logical cores, ${bytes(result.machine.memoryBytes)}; ` +
    `kernels: ${Object.entries(result.cpuFeatures.kernels).map(([g, isa]) => `${g} ${isa}`).join(', ')}`);
  lines.push(`measured limits: bandwidth ${sig(l.bandwidthGbps)} GB/s (1 thread), ${sig(l.bandwidthGbpsMt)} GB/s (${l.mtThreads} threads); ` +
    `peak ${sig(l.peakGflopsSimd)} GFLOP/s (${l.simdIsa}, 1 thread); last-level cache ${bytes(l.llcBytes)}`);
  if (kernels.length > 0) {
    lines.push('', 'Kernels (1 thread; "of limit": share of the roofline bandwidth x intensity, capped by peak)');
    lines.push(table(['row', 'detail', 'GB/s', 'GFLOP/s', '±', 'n', 'bound', 'of limit'], kernels.map((r) => [
      r.name, r.detail, sig(Number(r.metrics.gbps)), sig(Number(r.metrics.gflops)), rme(r), r.samples, String(r.metrics.bound ?? '-'), pct(r.metrics.shareOfLimit),
    ])));
  }
  if (engine.length > 0) {
    lines.push('', `End to end (${result.options.engineShape}: prompt ${result.options.promptTokens} tokens x ${result.options.promptRuns} runs, decode ${result.options.genTokens} tokens)`);
    lines.push(table(['row', 'tok/s', '±', 'n', 'decode ceiling', 'of ceiling', 'peak RSS', 'load ms'], engine.map((r) => [
      r.name, sig(r.value), rme(r), r.samples,
      r.op === 'tg' ? sig(Number(r.metrics.decodeCeilingTokensPerSecond)) : '-', r.op === 'tg' ? pct(r.metrics.shareOfLimit) : '-',
      bytes(Number(r.metrics.peakRssBytes)), sig(Number(r.metrics.loadMs)),
    ])));
  }
  for (const s of result.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  return lines;
}

export function comparisonLines(c: Comparison): string[] {
  const lines = ['', `Compared with ${c.previous.file} (${c.previous.timestamp}${c.previous.commit ? `, commit ${c.previous.commit.slice(0, 10)}` : ''})`];
  lines.push(`rule: ${c.rule}`);
  for (const w of c.warnings) lines.push(`warning: ${w}`);
  const mark: Record<string, string> = { regression: 'REGRESSION', improvement: 'improved', same: '', 'noise-unknown': '(noise unknown)', new: 'new row', missing: 'not in this run' };
  lines.push(table(['row', 'before', 'now', 'ratio', 'threshold', 'verdict'], c.rows.map((r) => [
    r.name, r.previous === null ? '-' : sig(r.previous), r.current === null ? '-' : sig(r.current),
    r.ratio === null ? '-' : r.ratio.toFixed(3), r.threshold === null ? '-' : `±${(r.threshold * 100).toFixed(1)}%`, mark[r.verdict],
  ])));
  lines.push(`${c.regressions} regression(s), ${c.improvements} improvement(s) beyond the noise`);
  return lines;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) throw invalidArgument('arguments', 'no positional arguments (see hyperion bench --help)', ctx.positionals.join(' '));
  const v = ctx.values as Record<string, string | boolean | string[] | undefined>;
  const compareFile = v.compare as string | undefined;
  const previous = compareFile ? readBenchResult(compareFile) : null; // read first: a bad file fails before minutes of work
  const filter = (Array.isArray(v.filter) ? v.filter : []).flatMap((f) => f.split(','));
  const progress = stepProgress(process.stderr, ctx.json);
  const result = await runBenchSuite({
    quick: v.quick === true,
    filter,
    shape: v.shape as string | undefined,
    types: list(v.types, '--types'),
    threads: list(v.threads, '--threads')?.map((t) => integer(t, '--threads') as number),
    promptTokens: integer(v.prompt, '--prompt'),
    genTokens: integer(v.gen, '--gen'),
    modelsDir: v.models as string | undefined,
    onProgress: progress,
    onNote: (line) => (ctx.json ? undefined : ctx.err(line)),
  });
  const file = outputPath(v.out as string | undefined, result.timestamp);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const comparison = previous ? compareResults(previous, result, path.resolve(compareFile as string)) : null;
  const problems = result.skipped.length + (comparison?.regressions ?? 0);
  if (ctx.json) {
    ctx.out(JSON.stringify({ file, result, comparison }, null, 2));
  } else {
    for (const line of resultTables(result)) ctx.out(line);
    if (comparison) for (const line of comparisonLines(comparison)) ctx.out(line);
    ctx.out(`\n${result.rows.length} rows in ${(result.durationMs / 1000).toFixed(1)} s; results: ${file}`);
  }
  return problems > 0 ? EXIT.problem : EXIT.ok;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark the kernels and the engine on this machine; compare with a previous run',
  usage: 'hyperion bench [--quick] [--filter text]... [--shape name] [--out file|dir/] [--compare previous.json] [--json]',
  details:
    'Kernel micro-benchmarks (matvec, matmul, rmsnorm, rope, softmax, attention, swiglu, quantize; every weight type\n' +
    'at the dimensions of the tiny, stories110m and tinyllama-1.1b shapes; GB/s and GFLOP/s against the measured\n' +
    'machine limits), then end-to-end prompt processing and decode of a model-maker model of each type at 1 and 2\n' +
    'threads (--shape, default stories110m; models are made once and cached in --models). Writes the result JSON\n' +
    '(--out: a file, or a folder ending in /; default ./hyperion-bench-<time>.json) and prints a table.\n' +
    '--filter keeps rows whose name contains the text (repeatable, or comma-separated), e.g. --filter matvec/q4_0.\n' +
    '--compare prints each row\'s ratio to a previous result and flags it when the ratio leaves\n' +
    '1 ± max(2 x sqrt(rme_prev² + rme_now²), 5%) (rme: each run\'s own 95% margin of error for the row).\n' +
    '--quick: the tiny shape, few samples, seconds instead of minutes (for CI; rough figures).\n' +
    'Exit 0: done; 1: a regression was flagged or a row could not run; 2: usage error.',
  options: {
    quick: { type: 'boolean' },
    filter: { type: 'string', multiple: true },
    shape: { type: 'string' },
    types: { type: 'string' },
    threads: { type: 'string' },
    prompt: { type: 'string' },
    gen: { type: 'string' },
    models: { type: 'string' },
    out: { type: 'string', short: 'o' },
    compare: { type: 'string' },
  },
  run,
};
