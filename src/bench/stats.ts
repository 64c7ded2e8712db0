// bench/stats.ts — the spread of a set of timings: mean and relative margin of
// error (95%, Student's t), the same figure tinybench reports for the kernel rows.

/** Two-sided 95% critical values of Student's t for 1..30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tCritical95(df: number): number {
  if (df < 1) return Infinity;
  if (df <= T95.length) return T95[df - 1];
  return df <= 60 ? 2.0 : df <= 120 ? 1.98 : 1.96;
}

export interface SampleStats {
  mean: number;
  /** Relative margin of error of the mean, in percent (95%); Infinity with fewer than 2 samples. */
  rme: number;
  samples: number;
}

export function sampleStats(values: number[]): SampleStats {
  const n = values.length;
  if (n === 0) return { mean: NaN, rme: Infinity, samples: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2 || mean === 0) return { mean, rme: Infinity, samples: n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const sem = Math.sqrt(variance / n);
  return { mean, rme: (100 * tCritical95(n - 1) * sem) / Math.abs(mean), samples: n };
}
