// maker.ts — makeModel(): small deterministic random-weight llama models of
// every supported type, written by the project's own GGUF writer and
// quantizers (on a native thread, streamed tensor by tensor).
import { native } from './native';
import { invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalBoolean, optionalNumber, optionalString } from './validate';

export interface MakeModelOptions {
  /** 'tiny' (default), 'stories110m' or 'tinyllama-1.1b'. */
  shape?: string;
  /** 'f32', 'f16', 'bf16', 'q8_0', 'q4_0' (default), 'q4_k_m', 'q5_k_m'. */
  type?: string;
  /** Weights are a function of the seed: the same seed gives a byte-identical file (default 1). */
  seed?: number;
  /** Omit output.weight (logits use token_embd.weight). */
  tied?: boolean;
  /** general.name */
  name?: string;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
}

export interface MadeModel {
  path: string;
  shape: string;
  type: string;
  seed: number;
  bytes: number;
  ms: number;
}

export interface MakerCatalog {
  shapes: Array<{ name: string; vocab: number; embedding: number; layers: number; heads: number; kvHeads: number; feedForward: number; context: number }>;
  types: string[];
}

/** The shapes and types makeModel() knows. */
export function modelMakerCatalog(): MakerCatalog {
  return native().makerCatalog() as MakerCatalog;
}

/** Write a random-weight llama GGUF model to `path`. The weights are random: the text it generates is noise. */
export async function makeModel(path: string, options?: MakeModelOptions): Promise<MadeModel> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'an output file path', path);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', ['shape', 'type', 'seed', 'tied', 'name', 'onProgress', 'signal']);
  const catalog = modelMakerCatalog();
  const shape = optionalString(o.shape, 'shape') ?? 'tiny';
  if (!catalog.shapes.some((s) => s.name === shape)) throw invalidArgument('shape', `one of ${catalog.shapes.map((s) => s.name).join(', ')}`, shape);
  const type = optionalString(o.type, 'type') ?? 'q4_0';
  if (!catalog.types.includes(type)) throw invalidArgument('type', `one of ${catalog.types.join(', ')}`, type);
  const packed = {
    shape,
    type,
    seed: optionalNumber(o.seed, 'seed', { min: 0, max: 2 ** 53 - 1, integer: true }, 1),
    tied: optionalBoolean(o.tied, 'tied', false),
    name: optionalString(o.name, 'name'),
  };
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidArgument('onProgress', 'a function', o.onProgress);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArgument('signal', 'an AbortSignal', o.signal);
  const signal = o.signal as AbortSignal | undefined;
  signal?.throwIfAborted();
  const job = native().makeModel(path, packed, o.onProgress) as { promise: Promise<MadeModel>; abort: () => void };
  const onAbort = () => job.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await job.promise;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
