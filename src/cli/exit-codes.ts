// cli/exit-codes.ts — exit codes scripts can rely on.
//   0  success
//   1  the command ran and found a problem (e.g. verify on a bad file)
//   2  usage error (unknown command or option, bad value)
//   70 internal error (a bug: please report it)
export const EXIT = { ok: 0, problem: 1, usage: 2, internal: 70 } as const;
