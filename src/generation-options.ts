// generation-options.ts — validation of generation options (DESIGN.md §5), packed
// into one plain object the native side copies into its structs (sharp style:
// TS validates, native code only does the work).
import { invalidArgument } from './errors';
import { optionsObject, rejectUnknownKeys, optionalBoolean, optionalNumber, requireNumber } from './validate';

export interface GenerationOptions {
  /** Tokens to generate at most (default 256). */
  maxTokens?: number;
  /** 0 = greedy (deterministic). Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off). Default 40. */
  topK?: number;
  /** Nucleus sampling mass (1 = off). Default 0.95. */
  topP?: number;
  /** Drop tokens below minP × p(max) (0 = off). Default 0.05. */
  minP?: number;
  /** Divide positive logits (multiply negative) of recent tokens (1 = off). Default 1.1. */
  repeatPenalty?: number;
  /** Subtract frequencyPenalty × count of recent occurrences (0 = off). */
  frequencyPenalty?: number;
  /** Subtract presencePenalty once for any recent occurrence (0 = off). */
  presencePenalty?: number;
  /** How many recent tokens the penalties look at (default 64; 0 = none, -1 = the whole context). */
  repeatLastN?: number;
  /** Added to the logit of a token id; -Infinity bans it. */
  logitBias?: Record<number, number> | Array<[number, number]>;
  /** RNG seed; the same seed and options give the same text. Default: random. */
  seed?: number;
  /** Stop when any of these strings appears; it is not part of the output. */
  stop?: string | string[];
  /** Stop at the end-of-sequence / end-of-turn token (default true). */
  stopAtEos?: boolean;
  signal?: AbortSignal;
  /** Stop with HYPERION_TIMEOUT after this many milliseconds. */
  timeoutMs?: number;
  /** Record the top candidates and their probabilities at every step. */
  debug?: boolean | { topN?: number };
  /** Return each piece's log-probability. */
  logprobs?: boolean;
  /** Profile this request and return its summary with the result. */
  profile?: boolean;
}

/** The validated, packed form handed to native code. */
export interface PackedGenerationOptions {
  maxTokens: number;
  /** maxTokens was given (else it is the default, which a maxTokens limit replaces). */
  maxTokensSet: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  repeatLastN: number;
  logitBias: Array<[number, number]>;
  seed: number;
  stop: string[];
  stopAtEos: boolean;
  timeoutMs: number;
  debugTopN: number;
  logprobs: boolean;
  profile: boolean;
}

const KEYS = [
  'maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'frequencyPenalty', 'presencePenalty',
  'repeatLastN', 'logitBias', 'seed', 'stop', 'stopAtEos', 'signal', 'timeoutMs', 'debug', 'logprobs', 'profile',
] as const;

export const MAX_STOP_STRINGS = 16;
export const MAX_STOP_LENGTH = 256;

/**
 * Validate generation options. `nVocab` bounds token ids in logitBias when known.
 * Throws HYPERION_INVALID_ARGUMENT naming the field.
 */
export function packGenerationOptions(options: unknown, nVocab?: number): { packed: PackedGenerationOptions; signal?: AbortSignal } {
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', KEYS);
  const packed: PackedGenerationOptions = {
    maxTokens: optionalNumber(o.maxTokens, 'maxTokens', { min: 0, max: 1 << 24, integer: true }, 256),
    maxTokensSet: o.maxTokens !== undefined,
    temperature: optionalNumber(o.temperature, 'temperature', { min: 0, max: 100 }, 0.8),
    topK: optionalNumber(o.topK, 'topK', { min: 0, max: 1 << 24, integer: true }, 40),
    topP: optionalNumber(o.topP, 'topP', { min: 0, max: 1, exclusiveMin: true }, 0.95),
    minP: optionalNumber(o.minP, 'minP', { min: 0, max: 1 }, 0.05),
    repeatPenalty: optionalNumber(o.repeatPenalty, 'repeatPenalty', { min: 0, exclusiveMin: true, max: 100 }, 1.1),
    frequencyPenalty: optionalNumber(o.frequencyPenalty, 'frequencyPenalty', { min: -100, max: 100 }, 0),
    presencePenalty: optionalNumber(o.presencePenalty, 'presencePenalty', { min: -100, max: 100 }, 0),
    repeatLastN: optionalNumber(o.repeatLastN, 'repeatLastN', { min: -1, max: 1 << 24, integer: true }, 64),
    logitBias: packLogitBias(o.logitBias, nVocab),
    seed: o.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : requireNumber(o.seed, 'seed', { min: 0, max: 2 ** 53 - 1, integer: true }),
    stop: packStop(o.stop),
    stopAtEos: optionalBoolean(o.stopAtEos, 'stopAtEos', true),
    timeoutMs: optionalNumber(o.timeoutMs, 'timeoutMs', { min: 0, exclusiveMin: true, max: 2 ** 31 - 1 }, 0),
    debugTopN: packDebug(o.debug),
    logprobs: optionalBoolean(o.logprobs, 'logprobs', false),
    profile: optionalBoolean(o.profile, 'profile', false),
  };
  let signal: AbortSignal | undefined;
  if (o.signal !== undefined) {
    if (!(o.signal instanceof AbortSignal)) throw invalidArgument('signal', 'an AbortSignal', o.signal);
    signal = o.signal;
  }
  return { packed, signal };
}

function packLogitBias(value: unknown, nVocab?: number): Array<[number, number]> {
  if (value === undefined) return [];
  const entries: Array<[unknown, unknown]> = Array.isArray(value)
    ? value.map((e, i) => {
        if (!Array.isArray(e) || e.length !== 2) throw invalidArgument(`logitBias[${i}]`, 'a [tokenId, bias] pair', e);
        return [e[0], e[1]];
      })
    : Object.entries(optionsObject(value, 'logitBias')).map(([k, v]) => [Number(k), v]);
  return entries.map(([id, bias]) => {
    const field = `logitBias[${String(id)}]`;
    const tokenId = requireNumber(id, `${field}.tokenId`, { min: 0, max: nVocab !== undefined ? nVocab - 1 : 2 ** 31 - 1, integer: true });
    if (typeof bias !== 'number' || Number.isNaN(bias) || bias === Infinity) throw invalidArgument(field, 'a number or -Infinity', bias);
    return [tokenId, bias];
  });
}

function packStop(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw invalidArgument('stop', 'a string or an array of strings', value);
  if (list.length > MAX_STOP_STRINGS) throw invalidArgument('stop', `at most ${MAX_STOP_STRINGS} strings`, list);
  return list.map((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || Buffer.byteLength(s) > MAX_STOP_LENGTH) {
      throw invalidArgument(`stop[${i}]`, `a non-empty string of at most ${MAX_STOP_LENGTH} bytes`, s);
    }
    return s;
  });
}

function packDebug(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return 5;
  const o = optionsObject(value, 'debug');
  rejectUnknownKeys(o, 'debug', ['topN']);
  return optionalNumber(o.topN, 'debug.topN', { min: 1, max: 100, integer: true }, 5);
}
