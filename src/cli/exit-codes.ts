// cli/exit-codes.ts — exit codes scripts can rely on.
//   0  success
//   1  the command ran and found a problem (verify on a bad file, a benchmark
//      regression flagged by --compare, a model that fails to load or run)
//   2  usage error (unknown command or option, bad value)
//   70 internal error (a bug: please report it)
export const EXIT = { ok: 0, problem: 1, usage: 2, internal: 70 } as const;

/** What each code means, in the words `hyperion --help` prints. */
export const EXIT_MEANINGS: Record<keyof typeof EXIT, string> = {
  ok: 'success',
  problem: 'the command ran and found a problem (a bad model file, a flagged benchmark regression, a failed load or run)',
  usage: 'usage error (unknown command or option, bad value)',
  internal: 'internal error (a bug: please report it)',
};
