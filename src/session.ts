// session.ts — Session (a KV cache that remembers its tokens) and streaming
// generation (DESIGN.md §5). Generation runs on the session's own native
// thread; pieces reach the main thread in batches through a thread-safe
// function, and the native side waits when JS stops consuming (a bounded
// queue of 32 pieces), so a slow consumer never makes memory grow.
import { HyperionError, invalidArgument } from './errors';
import { packGenerationOptions, type GenerationOptions, type PackedGenerationOptions } from './generation-options';
import { attachProfile, type ProfileSummary } from './profiler';
import { checkIds, type Tokenizer } from './tokenizer';
import { packLimits, unpackLimits, type PackedLimits, type ResourceLimits, type EffectiveResourceLimits } from './limits';

/** One of the most likely tokens of a step (debug mode). */
export interface GenerationCandidate {
  token: number;
  /** The token's text (control tokens included). */
  text: string;
  /** Its probability under the model (softmax of the logits after penalties and bias). */
  probability: number;
  logprob: number;
  /** Its probability in the distribution the draw used (after temperature, top-k/p, min-p; 0 if filtered out). */
  samplingProbability: number;
}

/** One generated token and the text it releases. */
export interface GenerationPiece {
  /** Text released at this step: may be empty (an unfinished UTF-8 character, or text that may be the start of a stop string, is held back). */
  text: string;
  token: number;
  /** Log-probability of the token under the model (with `logprobs` or `debug`). */
  logprob?: number;
  /** The top candidates of this step (with `debug`). */
  candidates?: GenerationCandidate[];
}

export type StopReason = 'eos' | 'stop' | 'maxTokens';

export interface GenerationStats {
  /** Tokens in the prompt. */
  promptTokens: number;
  /** Of them, found in the session's cache (not processed again). */
  cachedTokens: number;
  /** Of them, processed by this request. */
  processedTokens: number;
  generatedTokens: number;
  /** From the call to the first generated token; null when none was generated. */
  timeToFirstTokenMs: number | null;
  /** Waiting behind earlier requests on the same session. */
  queueMs: number;
  promptMs: number;
  decodeMs: number;
  promptTokensPerSecond: number;
  decodeTokensPerSecond: number;
  totalMs: number;
}

export interface GenerationResult {
  text: string;
  /** Every generated token (the EOS token and the tokens of a stop string included). */
  tokens: number[];
  stopReason: StopReason;
  stats: GenerationStats;
  /** Per generated token, with `logprobs: true`. */
  logprobs?: number[];
  /** Per step, with `debug`. */
  debug?: { steps: Array<{ token: number; text: string; candidates: GenerationCandidate[] }> };
  /**
   * With `profile: true`: this request's profile summary (the form of getProfile(), `kind: 'request'`),
   * made without a global profiling session. Absent when the profiler could not capture the request
   * (at most 16 captures run at once; a warning is logged).
   */
  profile?: ProfileSummary;
}

export interface SessionOptions {
  /** Positions the session's KV cache holds (default: the model's contextSize). */
  contextSize?: number;
  /** The session's resource limits (they narrow the model's); its KV cache already counts against maxMemoryMb. */
  limits?: ResourceLimits;
}

/** @internal the addon's objects */
interface NativePieceRecord extends GenerationPiece {
  index: number;
}
interface NativeTake {
  pieces: NativePieceRecord[];
  finished: boolean;
  stopReason?: StopReason;
  stats?: GenerationStats;
  error?: HyperionError;
  /** With profile: the request's summary (parsed by the addon). */
  profile?: object | string;
}
export interface NativeRequest {
  take(): NativeTake;
  abort(code?: number): void;
  queued(): number;
  setRef(on: boolean): void;
}
export interface NativeSession {
  /** `aborted`: the signal was aborted before the call; the request is stopped before it is queued. */
  generate(prompt: Int32Array | string, packed: PackedGenerationOptions & { aborted?: boolean }, onReady: () => void): NativeRequest;
  reset(): void;
  dispose(): Promise<void>;
  info(): { contextSize: number; cachedTokens: number; disposed: boolean };
  setResourceLimits(limits: PackedLimits): void;
  getResourceLimits(): PackedLimits;
}

/** What a session needs from its model. @internal */
export interface SessionOwner {
  readonly path: string;
  /** The model's pool size (the bound of maxThreads). */
  readonly threads: number;
  readonly vocabSize: number;
  readonly tokenizerOrNull: Tokenizer | null;
  /** The session is going: closed settles when its native side is freed. */
  forget(session: Session, closed: Promise<void>): void;
}

const ABORTED = 8;

/** Generation options as the native side takes them. @internal */
export function packOptions(options: unknown, vocabSize: number): { packed: PackedGenerationOptions; signal?: AbortSignal } {
  return packGenerationOptions(options, vocabSize);
}

/**
 * A prompt as the addon takes it: text (tokenized on the generating thread,
 * so a long prompt never holds the main thread), or ids checked against the
 * vocabulary. @internal
 */
export function resolvePrompt(owner: SessionOwner, prompt: unknown): Int32Array | string {
  if (typeof prompt === 'string') {
    if (!owner.tokenizerOrNull) throw invalidArgument('prompt', 'token ids (this model has no vocabulary)', prompt);
    return prompt;
  }
  if (prompt === null || typeof prompt !== 'object') throw invalidArgument('prompt', 'a string or an array of token ids', prompt);
  return checkIds(prompt as ArrayLike<number>, owner.vocabSize, 'prompt', false);
}

/**
 * The most tokens a resolved prompt can become: its length for ids; for text,
 * one token per UTF-8 byte (byte fallback and byte-level BPE never make more)
 * plus a BOS and a space-prefix piece. @internal
 */
export function promptTokenBound(prompt: Int32Array | string): number {
  return typeof prompt === 'string' ? Buffer.byteLength(prompt, 'utf8') + 2 : prompt.length;
}

function disposedError(what: string): HyperionError {
  return new HyperionError(`the ${what} has been disposed`, {
    code: 'HYPERION_DISPOSED',
    suggestion: what === 'session' ? 'create a new session' : 'load the model again',
    file: 'src/session.ts',
  });
}

/**
 * A running generation: an async iterator of pieces. Breaking out of a
 * for-await loop (or calling return()) stops it. `result` settles with the
 * whole result once the iteration has ended.
 */
export class GenerationStream implements AsyncIterableIterator<GenerationPiece> {
  #request: NativeRequest;
  #buffer: GenerationPiece[] = [];
  #ready = false;
  #wake: (() => void) | undefined;
  #end: NativeTake | undefined;
  #errorDelivered = false;
  #detach: () => void;
  #text: string[] = [];
  #tokens: number[] = [];
  #logprobs: number[] = [];
  #steps: Array<{ token: number; text: string; candidates: GenerationCandidate[] }> = [];
  #wantLogprobs: boolean;
  #wantDebug: boolean;
  #result: Promise<GenerationResult> | undefined;
  #settle: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void } | undefined;
  #outcome: { value?: GenerationResult; error?: unknown } | undefined;

  #onEnd: (() => void) | undefined;

  /** @internal */
  constructor(start: (onReady: () => void) => NativeRequest, packed: PackedGenerationOptions, signal?: AbortSignal, onEnd?: () => void) {
    this.#onEnd = onEnd;
    this.#wantLogprobs = packed.logprobs;
    this.#wantDebug = packed.debugTopN > 0;
    this.#request = start(() => this.#onReady());
    if (signal) {
      const onAbort = () => this.#request.abort(ABORTED);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.#detach = () => signal.removeEventListener('abort', onAbort);
    } else {
      this.#detach = () => {};
    }
  }

  #onReady(): void {
    this.#ready = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #drain(): void {
    const t = this.#request.take();
    for (const p of t.pieces) {
      const piece: GenerationPiece = { text: p.text, token: p.token };
      if (p.logprob !== undefined && (this.#wantLogprobs || this.#wantDebug)) piece.logprob = p.logprob;
      if (p.candidates) piece.candidates = p.candidates;
      this.#buffer.push(piece);
    }
    if (t.finished) {
      this.#end = t;
      this.#detach();
    }
  }

  #record(piece: GenerationPiece): void {
    this.#text.push(piece.text);
    this.#tokens.push(piece.token);
    if (this.#wantLogprobs && piece.logprob !== undefined) this.#logprobs.push(piece.logprob);
    if (piece.candidates) this.#steps.push({ token: piece.token, text: piece.text, candidates: piece.candidates });
  }

  #finish(outcome: { value?: GenerationResult; error?: unknown }): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
    if (this.#settle) {
      if ('error' in outcome) this.#settle.reject(outcome.error);
      else this.#settle.resolve(outcome.value!);
    }
  }

  #buildResult(end: NativeTake): GenerationResult {
    const result: GenerationResult = {
      text: this.#text.join(''),
      tokens: this.#tokens,
      stopReason: end.stopReason!,
      stats: end.stats!,
    };
    if (this.#wantLogprobs) result.logprobs = this.#logprobs;
    if (this.#wantDebug) result.debug = { steps: this.#steps };
    return attachProfile(result, end.profile);
  }

  async next(): Promise<IteratorResult<GenerationPiece>> {
    for (;;) {
      const piece = this.#buffer.shift();
      if (piece) {
        this.#record(piece);
        return { value: piece, done: false };
      }
      const end = this.#end;
      if (end) {
        if (end.error) {
          this.#finish({ error: end.error });
          if (!this.#errorDelivered) {
            this.#errorDelivered = true;
            throw end.error;
          }
        } else {
          this.#finish({ value: this.#buildResult(end) });
        }
        return { value: undefined, done: true };
      }
      if (this.#ready) {
        this.#ready = false;
        this.#drain();
        continue;
      }
      await this.#wait();
    }
  }

  /** Wait for the native side; the process stays alive only while someone waits. */
  async #wait(): Promise<void> {
    this.#request.setRef(true);
    try {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    } finally {
      this.#request.setRef(false);
    }
  }

  /** Stop the generation (what was generated stays in the session's cache). */
  async return(): Promise<IteratorResult<GenerationPiece>> {
    if (!this.#end) {
      this.#request.abort(ABORTED);
      // let it finish so the session is idle when the loop's caller goes on
      while (!this.#end) {
        if (this.#ready) {
          this.#ready = false;
          this.#drain();
          this.#buffer.length = 0;
          continue;
        }
        await this.#wait();
      }
    }
    this.#buffer.length = 0;
    const end = this.#end;
    this.#errorDelivered = true;
    if (end.error) this.#finish({ error: end.error });
    else this.#finish({ value: this.#buildResult(end) });
    return { value: undefined, done: true };
  }

  /** Stop the generation with HYPERION_ABORTED (as an AbortSignal would). */
  abort(): void {
    this.#request.abort(ABORTED);
  }

  /** @internal pieces waiting on the native side (bounded by its queue) */
  get nativeQueued(): number {
    return this.#request.queued();
  }

  /** @internal pieces taken from the native side but not yet returned by next() */
  get buffered(): number {
    return this.#buffer.length;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The whole result once the iteration has ended (rejects with its error). */
  get result(): Promise<GenerationResult> {
    if (!this.#result) {
      this.#result = new Promise((resolve, reject) => {
        this.#settle = { resolve, reject };
      });
      const o = this.#outcome;
      if (o) {
        if ('error' in o) this.#settle!.reject(o.error);
        else this.#settle!.resolve(o.value!);
      }
    }
    return this.#result;
  }

  /** Consume everything and return the result. */
  async collect(): Promise<GenerationResult> {
    for (;;) {
      const r = await this.next();
      if (r.done) break;
    }
    return this.result;
  }
}

/**
 * A conversation's state: its own KV cache on a shared model. Prompts are the
 * whole history each time: the session keeps the longest common prefix of the
 * new prompt and what its cache holds, and processes only the rest. Requests
 * on one session run one after another, in call order; requests on different
 * sessions of one model run concurrently, taking turns batch by batch.
 */
export class Session {
  #native: NativeSession | null;
  #owner: SessionOwner;
  readonly contextSize: number;

  /** @internal use model.createSession() */
  constructor(handle: NativeSession, owner: SessionOwner) {
    this.#native = handle;
    this.#owner = owner;
    this.contextSize = handle.info().contextSize;
  }

  get disposed(): boolean {
    return this.#native === null;
  }

  /** Tokens in the cache after the last finished request. */
  get cachedTokens(): number {
    return this.#native ? this.#native.info().cachedTokens : 0;
  }

  #handle(): NativeSession {
    if (!this.#native) throw disposedError('session');
    return this.#native;
  }

  /**
   * Generate from prompt (text, or token ids) as an async iterator of pieces.
   * Rejects (during iteration) with HYPERION_ABORTED / HYPERION_TIMEOUT when
   * stopped by `signal` / `timeoutMs`, HYPERION_CONTEXT_FULL with the figures,
   * HYPERION_DISPOSED when the session is disposed meanwhile.
   */
  generate(prompt: string | ArrayLike<number>, options?: GenerationOptions): GenerationStream {
    this.#handle();
    const { packed, signal } = packOptions(options, this.#owner.vocabSize);
    return this.start(resolvePrompt(this.#owner, prompt), packed, signal);
  }

  /** @internal generate with the prompt (resolvePrompt) and options already validated */
  start(ids: Int32Array | string, packed: PackedGenerationOptions, signal?: AbortSignal, onEnd?: () => void): GenerationStream {
    const handle = this.#handle();
    // an already aborted signal must stop the request before its thread can
    // run it: aborting after generate() returns would race with a short request
    const native = signal?.aborted ? { ...packed, aborted: true } : packed;
    return new GenerationStream((onReady) => handle.generate(ids, native, onReady), packed, signal, onEnd);
  }

  /** Generate to the end and return the text, tokens, stop reason and figures. */
  async complete(prompt: string | ArrayLike<number>, options?: GenerationOptions): Promise<GenerationResult> {
    return this.generate(prompt, options).collect();
  }

  /**
   * Replace the session's own resource limits (fields left out or null have
   * none). They narrow the model's limits, never widen them: the bound in
   * force is the smaller of the two. maxMemoryMb bounds the session's pool
   * memory (its cache, its requests' buffers); maxThreads and maxCpuPercent
   * apply to its forward passes; timeoutMs and maxTokens to requests made from now on.
   */
  setResourceLimits(limits: ResourceLimits): void {
    this.#handle().setResourceLimits(packLimits(limits, '', this.#owner.threads));
  }

  /** The limits in force for this session: its own narrowed by the model's (null: none). */
  getResourceLimits(): EffectiveResourceLimits {
    return unpackLimits(this.#handle().getResourceLimits());
  }

  /** Forget the cache (runs after the requests already made). */
  reset(): void {
    this.#handle().reset();
  }

  /**
   * Stop any generation in progress (it rejects with HYPERION_DISPOSED), free
   * the cache and the session's thread. Idempotent.
   */
  async dispose(): Promise<void> {
    const h = this.#native;
    if (!h) return;
    this.#native = null;
    const closed = h.dispose();
    this.#owner.forget(this, closed);
    await closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
