// tokenizer.ts — text ↔ token ids with a model's vocabulary (built natively
// from the GGUF's tokenizer.ggml.* keys), and chat templates with its special
// tokens. A Tokenizer comes from a loaded model (`model.tokenizer`) or from any
// GGUF file that carries a vocabulary, weights or not (`loadTokenizer(path)`).
import { native } from './native';
import { HyperionError, invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalBoolean } from './validate';
import { renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat';

export interface TokenizeOptions {
  /** Put the BOS token first (default: the vocabulary's add_bos_token setting). */
  addBos?: boolean;
  /** Text of control tokens ("<s>", "<|im_end|>") in the input becomes that token (default false). */
  parseSpecial?: boolean;
}

export interface DetokenizeOptions {
  /** Render control tokens as their text (default false: they render as nothing). */
  special?: boolean;
  /**
   * Drop the space the llama kind's add-space-prefix put before the first word
   * (default true, so detokenize(tokenize(x)) === x). Pass false for ids that
   * continue a text, e.g. generated tokens, to keep their leading space.
   */
  stripLeadingSpace?: boolean;
}

export interface TokenizerInfo {
  /** "llama" (SentencePiece-style BPE with scores) or "gpt2" (byte-level BPE). */
  kind: 'llama' | 'gpt2';
  /** The pre-tokenizer of the gpt2 kind ("gpt2", "llama3", "qwen2", "digits-gpt2"), "none" for llama. */
  pre: string;
  vocabSize: number;
  /** Special token ids, -1 when the vocabulary has none, and their texts. */
  bos: number;
  eos: number;
  eot: number;
  pad: number;
  unk: number;
  bosText: string | null;
  eosText: string | null;
  eotText: string | null;
  padText: string | null;
  unkText: string | null;
  /** Whether tokenize() puts BOS first by default. */
  addBos: boolean;
  addSpacePrefix: boolean;
  /** The file's tokenizer.chat_template, or null. */
  chatTemplate: string | null;
  /** Texts of the control and user-defined tokens (the first 4096). */
  specialTokens: string[];
}

/** @internal the addon's object */
export interface NativeTokenizer {
  tokenize(text: string, addBos: number, parseSpecial: boolean): Int32Array;
  detokenize(ids: Int32Array, special: boolean, stripLeadingSpace: boolean): string;
  tokenText(id: number): string | undefined;
  info(): TokenizerInfo;
  release(): void;
}

export class Tokenizer {
  #native: NativeTokenizer;
  /** Facts about the vocabulary (frozen). */
  readonly info: Readonly<TokenizerInfo>;

  /** @internal use loadTokenizer() or model.tokenizer */
  constructor(handle: NativeTokenizer) {
    this.#native = handle;
    const info = handle.info();
    info.specialTokens = Object.freeze(info.specialTokens) as string[];
    this.info = Object.freeze(info);
  }

  /**
   * Release the vocabulary now rather than at garbage collection; later calls
   * throw HYPERION_DISPOSED. A model's own tokenizer is released with the model.
   */
  dispose(): void {
    this.#native.release();
  }

  get vocabSize(): number {
    return this.info.vocabSize;
  }

  /** Token ids of text. Throws HYPERION_INVALID_ARGUMENT naming the field. */
  tokenize(text: string, options?: TokenizeOptions): number[] {
    if (typeof text !== 'string') throw invalidArgument('text', 'a string', text);
    const o = optionsObject(options, 'options');
    rejectUnknownKeys(o, '', ['addBos', 'parseSpecial']);
    const addBos = o.addBos === undefined ? -1 : optionalBoolean(o.addBos, 'addBos', false) ? 1 : 0;
    const parseSpecial = optionalBoolean(o.parseSpecial, 'parseSpecial', false);
    return Array.from(this.#native.tokenize(text, addBos, parseSpecial));
  }

  /**
   * The text of token ids. The space the llama kind's add-space-prefix put
   * before the first word is dropped, so detokenize(tokenize(x)) === x where
   * the vocabulary can spell x. Bytes that do not form UTF-8 come out as U+FFFD.
   */
  detokenize(ids: ArrayLike<number>, options?: DetokenizeOptions): string {
    const arr = checkIds(ids, this.info.vocabSize, 'ids', true);
    const o = optionsObject(options, 'options');
    rejectUnknownKeys(o, '', ['special', 'stripLeadingSpace']);
    const special = optionalBoolean(o.special, 'special', false);
    const strip = optionalBoolean(o.stripLeadingSpace, 'stripLeadingSpace', true);
    return this.#native.detokenize(arr, special, strip);
  }

  /** The stored text of one token ("▁the", "Ġthe", "<0x0A>"). */
  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.info.vocabSize) {
      throw invalidArgument('id', `an integer token id in 0..${this.info.vocabSize - 1}`, id);
    }
    return this.#native.tokenText(id) ?? '';
  }

  /**
   * Render chat messages to a prompt with the file's chat template (Jinja), or
   * a built-in format chosen from the special tokens when the file has none.
   */
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string {
    return renderChatTemplate(
      {
        template: this.info.chatTemplate,
        bosToken: this.info.bosText ?? '',
        eosToken: this.info.eosText ?? '',
        specialTokens: this.info.specialTokens,
      },
      messages,
      options,
    );
  }

  /**
   * Token ids of a generation prompt: special tokens in the text are parsed
   * (chat templates write them as text), and BOS is put first when the
   * vocabulary wants it and the text does not already start with it.
   */
  promptTokens(text: string): number[] {
    if (typeof text !== 'string') throw invalidArgument('prompt', 'a string or an array of token ids', text);
    const ids = this.#native.tokenize(text, 0, true);
    const { bos, addBos } = this.info;
    const out = Array.from(ids);
    if (addBos && bos >= 0 && out[0] !== bos) out.unshift(bos);
    return out;
  }
}

/** Validate token ids (integers in [0, vocabSize)) into an Int32Array, naming the bad index. */
export function checkIds(ids: ArrayLike<number>, vocabSize: number, field: string, allowEmpty: boolean): Int32Array {
  if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw invalidArgument(field, 'an array of token ids', ids);
  }
  if (!allowEmpty && ids.length === 0) throw invalidArgument(field, 'at least one token id', ids);
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw invalidArgument(`${field}[${i}]`, `an integer token id in 0..${vocabSize - 1}`, t);
    }
    out[i] = t;
  }
  return out;
}

/** The error of tokenizing with a model whose file has no vocabulary. */
export function noVocabulary(path: string): HyperionError {
  return new HyperionError(`${path} has no vocabulary (tokenizer.ggml.tokens), so it cannot turn text into tokens`, {
    code: 'HYPERION_MODEL_INVALID',
    suggestion: 'pass token ids instead of text, or load a tokenizer with loadTokenizer(path) from a file that has one',
    fields: { field: 'tokenizer.ggml.tokens', path },
    file: 'src/tokenizer.ts',
  });
}

/**
 * Load the vocabulary of a GGUF file (a model, or a vocabulary-only file such
 * as llama.cpp's ggml-vocab-*.gguf) without its weights. Rejects with
 * HYPERION_IO, HYPERION_MODEL_INVALID (no vocabulary, or a malformed one,
 * naming the key and byte offset) or HYPERION_MODEL_UNSUPPORTED.
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a path to a .gguf file', path);
  const handle = (await native().loadTokenizer(path)) as NativeTokenizer;
  return new Tokenizer(handle);
}
