// model.ts — loadModel() and the Model object (DESIGN.md §5). Loading and
// evaluation run on native threads; the main thread only validates, enqueues
// and receives.
import { native } from './native';
import { HyperionError, invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalNumber, optionalBoolean, optionalEnum } from './validate';
import { Tokenizer, noVocabulary, type NativeTokenizer, type TokenizeOptions, type DetokenizeOptions } from './tokenizer';
import { renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat';
import type { GenerationOptions } from './generation-options';
import {
  Session,
  GenerationStream,
  resolvePrompt,
  promptTokenBound,
  packOptions,
  type NativeSession,
  type SessionOptions,
  type SessionOwner,
  type GenerationResult,
} from './session';
import { parseModelLeakReport, packThresholds, catchingUsageCallback, type ModelLeakReport, type MemoryUsageEvent } from './memory';
import {
  packLimits,
  unpackLimits,
  effectiveMaxTokens,
  checkCallback,
  type PackedLimits,
  type ResourceLimits,
  type EffectiveResourceLimits,
  type ResourceUsage,
  type UsageCallbackOptions,
} from './limits';

export interface LoadModelOptions {
  /** Worker threads for this model's pool (default: physical cores). */
  threads?: number;
  /** Default context size of sessions (default: min(trained context, 2048)). */
  contextSize?: number;
  /** Tokens per forward pass when processing a prompt (default 64). */
  batchSize?: number;
  /**
   * Element type of the KV cache of every context on this model: 'f16' (default, as llama.cpp:
   * half the memory and bandwidth) or 'f32' (exact to float rounding, twice the memory).
   */
  kvCacheType?: 'f16' | 'f32';
  /** Resource limits in force from the load on (maxMemoryMb covers the load itself); see model.setResourceLimits. */
  limits?: ResourceLimits;
  /**
   * Copy the weight matrices the kernels in use read faster in another layout (Q4_0 and Q8_0 on AVX-512) into
   * pool memory tagged 'repacked-weights' at load, and drop the mapped originals' pages (default true).
   * The copies (one block) count against maxMemoryMb; when the limit refuses them, every weight stays
   * mapped (slower, same numbers) and a warning says so. false: every weight is read from the mapping.
   */
  repackWeights?: boolean;
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
  /** Default context size of sessions. */
  contextSize: number;
  /** Tokens per forward pass when processing a prompt. */
  batchSize: number;
  /** Element type of the KV cache. */
  kvCacheType: 'f16' | 'f32';
  /** False for a file without tokenizer.ggml.tokens (tokenize and text prompts then fail). */
  hasVocabulary: boolean;
  /** Weight tensors copied into a faster layout at load (see LoadModelOptions.repackWeights), and their bytes. */
  repackedTensors: number;
  repackedBytes: number;
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
  tokenizer(): NativeTokenizer | null;
  createSession(contextSize: number, limits?: PackedLimits): NativeSession;
  leakReport(): Parameters<typeof parseModelLeakReport>[0];
  setResourceLimits(limits: PackedLimits): void;
  getResourceLimits(): PackedLimits;
  getResourceUsage(): ResourceUsage;
  setUsageCallback(cb: ((event: MemoryUsageEvent) => void) | null, thresholds?: number[]): void;
}

let handleOf: (model: Model) => NativeModel | null;
/** @internal the native handle behind a Model (test hooks) */
export function nativeModelHandle(model: Model): NativeModel | null {
  return handleOf(model);
}

export class Model {
  #native: NativeModel | null;
  #tokenizer: Tokenizer | null;
  #sessions = new Set<Session>();
  /** Sessions whose dispose is under way (a temporary session ends on its own): dispose() waits for them. */
  #closing = new Set<Promise<void>>();
  #owner: SessionOwner;
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
    const tok = handle.tokenizer();
    this.#tokenizer = tok ? new Tokenizer(tok) : null;
    const sessions = this.#sessions;
    const closing = this.#closing;
    const tokenizer = this.#tokenizer;
    this.#owner = {
      path,
      threads: this.info.threads,
      vocabSize: this.info.vocabSize,
      tokenizerOrNull: tokenizer,
      forget: (s, closed) => {
        sessions.delete(s);
        const done: Promise<void> = closed.catch(() => {}).finally(() => closing.delete(done));
        closing.add(done);
      },
    };
  }

  /** The model's tokenizer, or null when the file has no vocabulary. */
  get tokenizer(): Tokenizer | null {
    return this.#tokenizer;
  }

  #vocab(): Tokenizer {
    this.#handle();
    if (!this.#tokenizer) throw noVocabulary(this.path);
    return this.#tokenizer;
  }

  /** Token ids of text (see Tokenizer.tokenize). HYPERION_MODEL_INVALID when the file has no vocabulary. */
  tokenize(text: string, options?: TokenizeOptions): number[] {
    return this.#vocab().tokenize(text, options);
  }

  /** The text of token ids (see Tokenizer.detokenize). */
  detokenize(ids: ArrayLike<number>, options?: DetokenizeOptions): string {
    return this.#vocab().detokenize(ids, options);
  }

  /**
   * Render chat messages to a prompt with the file's tokenizer.chat_template,
   * its BOS/EOS texts, or a built-in format (llama2, llama3, chatml, zephyr)
   * chosen from its special tokens when it has none.
   */
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string {
    this.#handle();
    if (this.#tokenizer) return this.#tokenizer.applyChatTemplate(messages, options);
    return renderChatTemplate({}, messages, options);
  }

  /**
   * A session with its own KV cache (contextSize positions, default the
   * model's). Sessions share the weights and may generate concurrently.
   */
  createSession(options?: SessionOptions): Session {
    const handle = this.#handle();
    const o = optionsObject(options, 'options');
    rejectUnknownKeys(o, '', ['contextSize', 'limits']);
    const contextSize = optionalNumber(o.contextSize, 'contextSize', { min: 1, max: 1 << 24, integer: true }, 0);
    const limits = o.limits === undefined ? undefined : packLimits(o.limits, 'limits.', this.info.threads);
    const session = new Session(handle.createSession(contextSize, limits), this.#owner);
    this.#sessions.add(session);
    return session;
  }

  /**
   * Generate from prompt on a temporary session (sized for the prompt and
   * maxTokens, freed when the generation ends): an async iterator of pieces.
   */
  generate(prompt: string | ArrayLike<number>, options?: GenerationOptions): GenerationStream {
    const handle = this.#handle();
    const { packed, signal } = packOptions(options, this.info.vocabSize);
    const ids = resolvePrompt(this.#owner, prompt);
    const maxTokens = effectiveMaxTokens(packed.maxTokens, packed.maxTokensSet, handle.getResourceLimits().maxTokens);
    const size = Math.max(1, Math.min(this.info.contextSize, promptTokenBound(ids) + maxTokens));
    const session = new Session(handle.createSession(size), this.#owner);
    this.#sessions.add(session);
    try {
      return session.start(ids, packed, signal, () => void session.dispose());
    } catch (e) {
      void session.dispose();
      throw e;
    }
  }

  /** Generate to the end on a temporary session; see Session.complete. */
  async complete(prompt: string | ArrayLike<number>, options?: GenerationOptions): Promise<GenerationResult> {
    return this.generate(prompt, options).collect();
  }

  /**
   * Replace the model's resource limits (fields left out or null have none):
   * maxMemoryMb bounds the pool memory charged to the model (allocations
   * beyond it fail with HYPERION_MEMORY_LIMIT; it may go below current use),
   * maxThreads and maxCpuPercent apply from the next forward pass, timeoutMs
   * and maxTokens to requests made from now on. Sessions' limits narrow these.
   */
  setResourceLimits(limits: ResourceLimits): void {
    const handle = this.#handle();
    handle.setResourceLimits(packLimits(limits, '', this.info.threads));
  }

  /** The model's limits in force (null: none). */
  getResourceLimits(): EffectiveResourceLimits {
    return unpackLimits(this.#handle().getResourceLimits());
  }

  /** What the model uses now: memory, threads, CPU time, tokens, requests, sessions. */
  getResourceUsage(): ResourceUsage {
    return this.#handle().getResourceUsage();
  }

  /**
   * Call `callback` (on the main thread) when the model's pool memory rises
   * through a fraction of its maxMemoryMb, or falls back below it (5%
   * hysteresis). Nothing fires while the model has no maxMemoryMb. null removes it.
   */
  setUsageCallback(callback: ((event: MemoryUsageEvent) => void) | null, options?: UsageCallbackOptions): void {
    const handle = this.#handle();
    checkCallback(callback);
    const o = optionsObject(options, 'options');
    rejectUnknownKeys(o, '', ['memoryThresholds']);
    const thresholds = packThresholds(o.memoryThresholds, 'memoryThresholds') ?? [0.8, 0.95];
    if (thresholds.length === 0) throw invalidArgument('memoryThresholds', 'at least one fraction', o.memoryThresholds);
    handle.setUsageCallback(catchingUsageCallback(callback), thresholds);
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

  /**
   * Release the native model: its sessions are disposed first (a generation in
   * progress rejects with HYPERION_DISPOSED); evaluate() calls in flight
   * finish. Idempotent.
   */
  async dispose(): Promise<void> {
    const h = this.#native;
    this.#native = null;
    // every session's native memory is freed before this resolves, the
    // temporary sessions of generate()/complete() that are still closing too
    await Promise.all([...this.#sessions].map((s) => s.dispose()));
    await Promise.all([...this.#closing]);
    this.#tokenizer?.dispose();
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

const LOAD_KEYS = ['threads', 'contextSize', 'batchSize', 'kvCacheType', 'limits', 'repackWeights'] as const;

/** Load a GGUF model. Rejects with HYPERION_IO, HYPERION_MODEL_INVALID (naming the field and byte offset) or HYPERION_MODEL_UNSUPPORTED. */
export async function loadModel(path: string, options?: LoadModelOptions): Promise<Model> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a path to a .gguf file', path);
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', LOAD_KEYS);
  const packed = {
    threads: optionalNumber(o.threads, 'threads', { min: 1, max: 256, integer: true }, 0),
    contextSize: optionalNumber(o.contextSize, 'contextSize', { min: 1, max: 1 << 24, integer: true }, 0),
    batchSize: optionalNumber(o.batchSize, 'batchSize', { min: 1, max: 4096, integer: true }, 0),
    kvCacheType: optionalEnum(o.kvCacheType, 'kvCacheType', ['f16', 'f32'] as const, 'f16'),
    repackWeights: optionalBoolean(o.repackWeights, 'repackWeights', true),
    limits: undefined as PackedLimits | undefined,
  };
  if (o.limits !== undefined) packed.limits = packLimits(o.limits, 'limits.', packed.threads || undefined);
  const handle = (await native().loadModel(path, packed)) as NativeModel;
  return new Model(handle, path);
}
