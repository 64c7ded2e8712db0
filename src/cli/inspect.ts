// cli/inspect.ts and verify — `hyperion inspect <model>` and `hyperion verify <model>`.
import type { Command } from './main';
import { EXIT } from './exit-codes';
import { inspectModel, getModelInfo, verifyModel } from '../model-files';
import { bytes, shorten, table } from './format';
import { invalidArgument } from '../errors';

function modelPath(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw invalidArgument('model', `one model path (${usage})`, positionals.join(' ') || undefined);
  return positionals[0];
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show a GGUF model\'s metadata, tensors, types and memory estimate',
  usage: 'hyperion inspect <model.gguf> [--context-size N] [--all] [--json]',
  details: 'Prints every metadata key (long values abbreviated), the tensors (the first 24 unless --all), the tensor-type\n' +
    'histogram and the memory a context of --context-size positions needs (default: the trained context).',
  options: { 'context-size': { type: 'string' }, all: { type: 'boolean' } },
  async run(ctx) {
    const path = modelPath(ctx.positionals, this.usage);
    const contextSize = ctx.values['context-size'] === undefined ? undefined : Number(ctx.values['context-size']);
    const file = await inspectModel(path);
    const info = await getModelInfo(path, contextSize === undefined ? undefined : { contextSize });
    if (ctx.json) {
      ctx.out(JSON.stringify({ file, info }, null, 2));
      return EXIT.ok;
    }
    ctx.out(`${file.path}: GGUF v${file.version}, ${bytes(file.fileSize)}, ${file.metadata.length} metadata keys, ${file.tensors.length} tensors`);
    if (info.architecture) {
      ctx.out(`architecture ${info.architecture}, ${info.parameterCount?.toLocaleString('en-US')} parameters, ${info.layers} layers, ` +
        `embedding ${info.embedding}, heads ${info.heads} (kv ${info.kvHeads}, dim ${info.headDim}), ffn ${info.feedForward}, ` +
        `vocabulary ${info.vocabSize} (${info.tokenizerModel}), trained context ${info.contextLength}`);
    }
    if (!info.supported || info.problems.length > 0) {
      for (const p of info.problems) ctx.out(`problem: ${p.code} ${p.field}: ${p.message}`);
    }
    ctx.out('\nMetadata');
    ctx.out(table(['key', 'type', 'value'], file.metadata.map((m) => [
      m.key,
      m.type === 'array' ? `${m.elementType}[${m.count}]` : m.type,
      m.type === 'array' ? shorten(JSON.stringify(m.head) + ((m.count ?? 0) > (m.head?.length ?? 0) ? ' …' : '')) : shorten(typeof m.value === 'string' ? m.value : JSON.stringify(m.value)),
    ])));
    const shown = ctx.values.all ? file.tensors : file.tensors.slice(0, 24);
    ctx.out('\nTensors');
    ctx.out(table(['name', 'type', 'shape', 'size'], shown.map((t) => [t.name, t.type, t.shape.join(' x '), bytes(t.bytes)])));
    if (shown.length < file.tensors.length) ctx.out(`… ${file.tensors.length - shown.length} more (--all shows them)`);
    ctx.out('\nTypes');
    ctx.out(table(['type', 'tensors', 'size', 'supported'], Object.entries(info.tensorTypes).map(([t, v]) => [t, v.count, bytes(v.bytes), v.supported ? 'yes' : 'no'])));
    if (info.memory) {
      const m = info.memory;
      const copied = m.repackedWeightsBytes ? `, ${bytes(m.repackedWeightsBytes)} of them repacked into the pool at load` : '';
      ctx.out(`\nMemory for a context of ${m.contextSize} positions: weights ${bytes(m.weightsBytes)} (mapped${copied}), ` +
        `KV cache ${bytes(m.kvCacheF16Bytes)} (f16), activations ~${bytes(m.activationsBytes)}; total ~${bytes(m.totalF16Bytes)}`);
    }
    return EXIT.ok;
  },
};

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'validate a GGUF file; exit 1 when it is not usable',
  usage: 'hyperion verify <model.gguf> [--json]',
  details: 'Checks every header field, count, string, dimension, type and offset before anything is used, and that the\n' +
    'runtime can run the model. Prints each problem with the field and byte offset. Exit 0: usable; 1: not.',
  options: {},
  async run(ctx) {
    const path = modelPath(ctx.positionals, this.usage);
    const report = await verifyModel(path);
    if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
    else {
      ctx.out(`${report.path}: ${report.ok ? 'ok' : 'NOT usable'}${report.architecture ? ` (${report.architecture}, GGUF v${report.version}, ${report.tensorCount} tensors)` : ''}`);
      for (const p of report.problems) ctx.out(`  problem ${p.code} at ${p.field}${p.offset !== null ? ` (byte ${p.offset})` : ''}: ${p.message}`);
      for (const w of report.warnings) ctx.out(`  warning at ${w.field}: ${w.message}`);
    }
    return report.ok ? EXIT.ok : EXIT.problem;
  },
};
