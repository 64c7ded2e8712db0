// cli/run.ts — `hyperion run <model.gguf> -p "…"`: stream generated text to
// stdout, then one line of speed figures on stderr (or, with --json, print the
// result object instead). Ctrl-C stops the generation cleanly.
import type { Command } from './main';
import { loadModel } from '../model';
import { invalidArgument } from '../errors';
import type { GenerationOptions } from '../generation-options';
import type { GenerationResult } from '../session';

function numberOption(value: unknown, field: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw invalidArgument(`--${field}`, integer ? 'an integer' : 'a number', value);
  }
  return n;
}

function rate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** One line of figures: what the prompt and the generation cost. */
export function speedLine(r: GenerationResult): string {
  const s = r.stats;
  const ttft = s.timeToFirstTokenMs === null ? 'none' : `${s.timeToFirstTokenMs.toFixed(1)} ms`;
  return (
    `prompt ${s.promptTokens} tokens (${s.cachedTokens} cached) in ${s.promptMs.toFixed(1)} ms, ${rate(s.promptTokensPerSecond)} tok/s · ` +
    `generated ${s.generatedTokens} tokens in ${s.decodeMs.toFixed(1)} ms, ${rate(s.decodeTokensPerSecond)} tok/s · ` +
    `first token ${ttft} · total ${s.totalMs.toFixed(1)} ms · stop: ${r.stopReason}`
  );
}

export const runCommand: Command = {
  name: 'run',
  summary: 'generate text from a prompt, streamed to stdout',
  usage: 'hyperion run <model.gguf> -p "prompt" [--max-tokens N] [--temperature T] [--chat] [--no-repack] [--json]',
  details:
    'Streams the generated text to stdout and ends with one line of speed figures on stderr.\n' +
    '--chat renders the prompt as a user message with the model\'s chat template (or a built-in one).\n' +
    '--stop may be given several times. --temperature 0 is greedy and deterministic.\n' +
    '--no-repack reads every weight from the file mapping (shared with other processes, no private copy) instead of\n' +
    'copying the Q4_0 / Q8_0 matrices into the faster layout at load (AVX-512 CPUs; `hyperion inspect` shows the size).\n' +
    '--json prints the whole result (text, tokens, stop reason, figures) instead of streaming.',
  options: {
    prompt: { type: 'string', short: 'p' },
    'max-tokens': { type: 'string', short: 'n' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    'min-p': { type: 'string' },
    'repeat-penalty': { type: 'string' },
    seed: { type: 'string' },
    stop: { type: 'string', multiple: true },
    threads: { type: 'string', short: 't' },
    'context-size': { type: 'string', short: 'c' },
    'batch-size': { type: 'string' },
    system: { type: 'string' },
    chat: { type: 'boolean' },
    'timeout-ms': { type: 'string' },
    'no-repack': { type: 'boolean' },
  },
  async run(ctx) {
    const v = ctx.values as Record<string, string | boolean | string[] | undefined>;
    const path = ctx.positionals[0];
    if (!path || ctx.positionals.length > 1) throw invalidArgument('model', 'one path to a .gguf file', ctx.positionals.join(' ') || undefined);
    if (typeof v.prompt !== 'string') throw invalidArgument('--prompt', 'the prompt text (-p "…")', v.prompt);
    const threads = numberOption(v.threads, 'threads', true);
    const contextSize = numberOption(v['context-size'], 'context-size', true);
    const batchSize = numberOption(v['batch-size'], 'batch-size', true);
    const options: GenerationOptions = {
      maxTokens: numberOption(v['max-tokens'], 'max-tokens', true),
      temperature: numberOption(v.temperature, 'temperature', false),
      topK: numberOption(v['top-k'], 'top-k', true),
      topP: numberOption(v['top-p'], 'top-p', false),
      minP: numberOption(v['min-p'], 'min-p', false),
      repeatPenalty: numberOption(v['repeat-penalty'], 'repeat-penalty', false),
      seed: numberOption(v.seed, 'seed', true),
      timeoutMs: numberOption(v['timeout-ms'], 'timeout-ms', false),
      stop: Array.isArray(v.stop) ? v.stop : undefined,
    };
    for (const key of Object.keys(options) as Array<keyof GenerationOptions>) if (options[key] === undefined) delete options[key];

    const model = await loadModel(path, {
      ...(threads !== undefined && { threads }),
      ...(contextSize !== undefined && { contextSize }),
      ...(batchSize !== undefined && { batchSize }),
      ...(v['no-repack'] === true && { repackWeights: false }),
    });
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      let prompt = v.prompt;
      if (v.chat) {
        const messages = [...(typeof v.system === 'string' ? [{ role: 'system', content: v.system }] : []), { role: 'user', content: prompt }];
        prompt = model.applyChatTemplate(messages, { addGenerationPrompt: true });
      }
      const session = model.createSession(contextSize !== undefined ? { contextSize } : undefined);
      const stream = session.generate(prompt, { ...options, signal: controller.signal });
      if (ctx.json) {
        const result = await stream.collect();
        ctx.out(JSON.stringify(result, null, 2));
        return 0;
      }
      for await (const piece of stream) if (piece.text) process.stdout.write(piece.text);
      const result = await stream.result;
      process.stdout.write('\n');
      ctx.err(speedLine(result));
      return 0;
    } finally {
      process.removeListener('SIGINT', onSigint);
      await model.dispose();
    }
  },
};
