// cli/make-model.ts — `hyperion make-model`: a random-weight model of a named shape and type.
import type { Command } from './main';
import { EXIT } from './exit-codes';
import { makeModel } from '../maker';
import { invalidArgument } from '../errors';
import { bytes } from './format';
import { progress } from './progress';

export const makeModelCommand: Command = {
  name: 'make-model',
  summary: 'write a deterministic random-weight llama model (GGUF) of a given shape and type',
  usage: 'hyperion make-model --shape <tiny|stories110m|tinyllama-1.1b> --type <f32|f16|bf16|q8_0|q4_0|q4_k_m|q5_k_m> [--seed N] [--tied] <out.gguf>',
  details: 'The weights are random: such a model is for testing and benchmarking the runtime, and the text it generates is\n' +
    'noise. The same shape, type and seed always give the same bytes. K-quant types follow llama.cpp\'s Q4_K_M/Q5_K_M\n' +
    'recipes (some tensors Q6_K).',
  options: { shape: { type: 'string' }, type: { type: 'string' }, seed: { type: 'string' }, tied: { type: 'boolean' }, name: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw invalidArgument('out', `one output path (${this.usage})`, ctx.positionals.join(' ') || undefined);
    const seed = ctx.values.seed === undefined ? undefined : Number(ctx.values.seed);
    const bar = progress(`making ${ctx.values.shape ?? 'tiny'} ${ctx.values.type ?? 'q4_0'}`, process.stderr, ctx.json);
    const made = await makeModel(ctx.positionals[0], {
      shape: ctx.values.shape as string | undefined,
      type: ctx.values.type as string | undefined,
      seed,
      tied: ctx.values.tied === true,
      name: ctx.values.name as string | undefined,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.done();
    if (ctx.json) ctx.out(JSON.stringify(made, null, 2));
    else ctx.out(`${made.path}: ${made.shape} ${made.type}, seed ${made.seed}, ${bytes(made.bytes)} of tensors in ${(made.ms / 1000).toFixed(2)} s (random weights)`);
    return EXIT.ok;
  },
};
