// bench/engine-child.ts — the child process of one end-to-end run (see engine.ts):
// argv[2] is {file, threads, promptTokens, genTokens, promptRuns, batchSize, repackWeights};
// prints the run's figures as JSON on stdout, exits non-zero with the error on stderr.
import { native } from '../native';

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '{}') as {
    file: string; threads: number; promptTokens: number; genTokens: number; promptRuns: number; batchSize?: number; repackWeights?: boolean;
  };
  const r = (await native().benchEngine(o.file, {
    threads: o.threads,
    promptTokens: o.promptTokens,
    genTokens: o.genTokens,
    promptRuns: o.promptRuns,
    batchSize: o.batchSize ?? 512,
    repackWeights: o.repackWeights ?? true,
  })) as Record<string, unknown>;
  // the native figure (VmHWM before its reset for the decode peak) or, when /proc was unreadable, the process's maxRSS
  r.peakRssBytes = Math.max(Number(r.peakRssBytes ?? 0), process.resourceUsage().maxRSS * 1024);
  // the bandwidth probe, run here right after the decode: on a shared machine
  // the figure moves over minutes (the caller keeps the higher of this and its own)
  try {
    const l = (await native().machineLimits()) as { bandwidthGbps: number; bandwidthGbpsMt: number };
    r.bandwidthGbps = o.threads > 1 ? l.bandwidthGbpsMt : l.bandwidthGbps;
  } catch {
    /* leave it out: the caller falls back to its own measurement */
  }
  process.stdout.write(JSON.stringify(r));
}

main().catch((e: Error & { code?: string }) => {
  process.stderr.write(`${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exitCode = 1;
});
