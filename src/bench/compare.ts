// bench/compare.ts — `--compare <previous.json>`: the ratio of each row's value
// to the previous run's, judged against the noise both runs measured.
//
// The rule (also printed, and in docs/benchmarks.md): each row carries its own
// relative margin of error (rme, 95%). The noise of a ratio is the two margins
// combined, sqrt(rmeOld² + rmeNew²); a row is flagged when its ratio moves
// further from 1 than twice that noise, and at least MIN_THRESHOLD (5%), so a
// run with very tight samples is not flagged for a difference nobody can act
// on. Every value is higher-is-better: below is a regression, above an improvement.
import type { BenchResult, BenchRow } from './types';

export const MIN_THRESHOLD = 0.05;
export const NOISE_FACTOR = 2;

export type Verdict = 'regression' | 'improvement' | 'same' | 'noise-unknown' | 'new' | 'missing';

export interface ComparedRow {
  name: string;
  unit: string;
  previous: number | null;
  current: number | null;
  /** current / previous */
  ratio: number | null;
  /** Combined relative margin of error of the two runs (a fraction), null when one is unknown. */
  noise: number | null;
  /** The ratio must leave [1 - threshold, 1 + threshold] to be flagged. */
  threshold: number | null;
  verdict: Verdict;
}

export interface Comparison {
  previous: { file: string; timestamp: string; commit: string | null; cpuModel: string };
  rule: string;
  /** Differences between the two runs' machines or settings that make ratios less meaningful. */
  warnings: string[];
  rows: ComparedRow[];
  regressions: number;
  improvements: number;
}

export const COMPARE_RULE =
  `a row is flagged when current/previous leaves 1 ± max(${NOISE_FACTOR} × sqrt(rme_prev² + rme_now²), ${MIN_THRESHOLD * 100}%), ` +
  'rme being each run\'s own 95% relative margin of error for that row; every value is higher-is-better';

function judge(prev: BenchRow, cur: BenchRow): ComparedRow {
  const ratio = cur.value / prev.value;
  const base = { name: cur.name, unit: cur.unit, previous: prev.value, current: cur.value, ratio };
  if (prev.rme === null || cur.rme === null || !Number.isFinite(ratio)) {
    return { ...base, noise: null, threshold: null, verdict: 'noise-unknown' };
  }
  const noise = Math.hypot(prev.rme / 100, cur.rme / 100);
  const threshold = Math.max(NOISE_FACTOR * noise, MIN_THRESHOLD);
  const verdict: Verdict = ratio < 1 - threshold ? 'regression' : ratio > 1 + threshold ? 'improvement' : 'same';
  return { ...base, noise, threshold, verdict };
}

/** Compare two results row by row (matched by name). Rows the filter left out of the current run are not "missing". */
export function compareResults(previous: BenchResult, current: BenchResult, previousFile: string): Comparison {
  const before = new Map(previous.rows.map((r) => [r.name, r]));
  const rows: ComparedRow[] = [];
  for (const cur of current.rows) {
    const prev = before.get(cur.name);
    if (!prev) rows.push({ name: cur.name, unit: cur.unit, previous: null, current: cur.value, ratio: null, noise: null, threshold: null, verdict: 'new' });
    else rows.push(judge(prev, cur));
  }
  const filters = current.options.filter.map((f) => f.toLowerCase());
  for (const prev of previous.rows) {
    if (current.rows.some((r) => r.name === prev.name)) continue;
    if (filters.length > 0 && !filters.some((f) => prev.name.toLowerCase().includes(f))) continue;
    rows.push({ name: prev.name, unit: prev.unit, previous: prev.value, current: null, ratio: null, noise: null, threshold: null, verdict: 'missing' });
  }
  const warnings: string[] = [];
  if (previous.machine?.cpuModel !== current.machine.cpuModel) {
    warnings.push(`different CPUs: "${previous.machine?.cpuModel}" then, "${current.machine.cpuModel}" now`);
  }
  const isaThen = previous.cpuFeatures?.kernels ?? {};
  for (const [group, isa] of Object.entries(current.cpuFeatures.kernels)) {
    if (isaThen[group] && isaThen[group] !== isa) warnings.push(`kernel group "${group}" ran on ${isaThen[group]} then, ${isa} now`);
  }
  if (previous.options?.quick !== current.options.quick) warnings.push('one run used --quick and the other did not: samples and sizes differ');
  return {
    previous: { file: previousFile, timestamp: previous.timestamp, commit: previous.commit, cpuModel: previous.machine?.cpuModel },
    rule: COMPARE_RULE,
    warnings,
    rows,
    regressions: rows.filter((r) => r.verdict === 'regression').length,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
  };
}
