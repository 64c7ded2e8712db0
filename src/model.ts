// model.ts — loadModel() and the Model object (DESIGN.md §5). Loading and
// evaluation run on native threads; the main thread only validates, enqueues
// and receives.
import { native } from './native';
import { HyperionError, invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalNumber, optionalBoolean } from './validate';
import { parseModelLeakReport, type ModelLeakReport } from './memory';

export interface LoadModelOptions {
  /** Worker threads for this model's pool (default: physical cores). */
  threads?: number;
  /** Default context size of sessions (default: min(trained context, 2048)). */
  contextSize?: number;
  /** Tokens per forward pass when processing a prompt (default 64). */
  batchSize?: number;
}

export interface ModelInfo {
  architecture: string;
  parameters: number;
  tensorTypes: Record<string, { tensors: number; bytes: number }>;
  vocabSize: number;
  contextLength: number;
  embeddingLength: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  feedForwardLength: number;
  ropeFreqBase: number;
  ropeScaling: string;
  rmsEpsilon: number;
  tiedOutput: boolean;
  fileSize: number;
  threads: number;
  contextSize: number;
  loadMs: number;
}

export interface EvaluateOptions {
  /** Logits of every token (nTokens × nVocab); default: only the last token's (nVocab). */
  allLogits?: boolean;
}

interface NativeModel {
  info(): ModelInfo;
  evaluate(tokens: Int32Array, allLogits: boolean): Promise<Float32Array>;
  dispose(): void;
  leakReport(): Parameters<typeof parseModelLeakReport>[0];
}

let handleOf: (model: Model) => NativeModel | null;
/** @internal the native handle behind a Model (test hooks) */
export function nativeModelHandle(model: Model): NativeModel | null {
  return handleOf(model);
}

export class Model {
  #native: NativeModel | null;
  #released: NativeModel | null = null;
  static {
    handleOf = (model) => model.#native;
  }
  readonly info: Readonly<ModelInfo>;
  readonly path: string;

  /** @internal use loadModel() */
  constructor(handle: NativeModel, path: string) {
    this.#native = handle;
    this.path = path;
    this.info = Object.freeze(handle.info());
  }

  /** True once dispose() was called. */
  get disposed(): boolean {
    return this.#native === null;
  }

  #handle(): NativeModel {
    if (!this.#native) {
      throw new HyperionError('the model has been disposed', { code: 'HYPERION_DISPOSED', suggestion: 'load the model again', file: 'src/model.ts' });
    }
    return this.#native;
  }

  /**
   * Run the model on `tokens` from a fresh context and return the logits: a
   * Float32Array of nTokens × nVocab with allLogits, else the last token's nVocab.
   */
  async evaluate(tokens: ArrayLike<number>, options?: EvaluateOptions): Promise<Float32Array> {
    const o = optionsObject(options, 'options');
    rejectUnknownKeys(o, '', ['allLogits']);
    const all = optionalBoolean(o.allLogits, 'allLogits', false);
    const ids = toTokenArray(tokens, this.info.vocabSize);
    return this.#handle().evaluate(ids, all);
  }

  /** Release the native model; requests in flight finish first. Idempotent. */
  async dispose(): Promise<void> {
    const h = this.#native;
    this.#native = null;
    if (h) this.#released = h;
    h?.dispose();
  }

  /**
   * The leak check made when the native model was freed (at dispose, or when
   * the last request in flight finished): the pool blocks still charged to
   * the model, with their stacks when tracking was on (`blocks: 0` when clean).
   * A leak is also logged as a warning in the 'memory' category. null until then.
   */
  get lastLeakReport(): ModelLeakReport | null {
    return parseModelLeakReport(this.#released?.leakReport() ?? null);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Validate token ids (integers in [0, vocabSize)) into an Int32Array. */
export function toTokenArray(tokens: ArrayLike<number>, vocabSize: number): Int32Array {
  if (tokens === null || typeof tokens !== 'object' || typeof (tokens as ArrayLike<number>).length !== 'number') {
    throw invalidArgument('tokens', 'an array of token ids', tokens);
  }
  if (tokens.length === 0) throw invalidArgument('tokens', 'at least one token id', tokens);
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw invalidArgument(`tokens[${i}]`, `an integer token id in 0..${vocabSize - 1}`, t);
    }
    out[i] = t;
  }
  return out;
}

const LOAD_KEYS = ['threads', 'contextSize', 'batchSize'] as const;

/** Load a GGUF model. Rejects with HYPERION_IO, HYPERION_MODEL_INVALID (naming the field and byte offset) or HYPERION_MODEL_UNSUPPORTED. */
export async function loadModel(path: string, options?: LoadModelOptions): Promise<Model> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a path to a .gguf file', path);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', LOAD_KEYS);
  const packed = {
    threads: optionalNumber(o.threads, 'threads', { min: 1, max: 256, integer: true }, 0),
    contextSize: optionalNumber(o.contextSize, 'contextSize', { min: 1, max: 1 << 24, integer: true }, 0),
    batchSize: optionalNumber(o.batchSize, 'batchSize', { min: 1, max: 4096, integer: true }, 0),
  };
  const handle = (await native().loadModel(path, packed)) as NativeModel;
  return new Model(handle, path);
}
