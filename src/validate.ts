// validate.ts — option checks shared by the public API. A wrong option gives
// HYPERION_INVALID_ARGUMENT naming the field and what was expected.
import { invalidArgument } from './errors';

export type Options = Record<string, unknown>;

/** undefined → {}; an object → itself; anything else throws. */
export function optionsObject(value: unknown, field: string): Options {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(field, 'an object', value);
  return value as Options;
}

/** Unknown keys are mistakes (a misspelt option must not be silently ignored). */
export function rejectUnknownKeys(options: Options, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw invalidArgument(field ? `${field}.${key}` : key, `one of the known options (${allowed.join(', ')})`, key);
    }
  }
}

export function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(field, 'a boolean', value);
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(field, 'a non-empty string', value);
  return value;
}

export function optionalEnum<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** min is exclusive */
  exclusiveMin?: boolean;
}

export function optionalNumber(value: unknown, field: string, rule: NumberRule, fallback: number): number {
  if (value === undefined) return fallback;
  return requireNumber(value, field, rule);
}

export function requireNumber(value: unknown, field: string, rule: NumberRule): number {
  const parts: string[] = [rule.integer ? 'an integer' : 'a finite number'];
  if (rule.min !== undefined) parts.push(`${rule.exclusiveMin ? '>' : '>='} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  const expected = parts.join(' ');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(field, expected, value);
  if (rule.integer && !Number.isInteger(value)) throw invalidArgument(field, expected, value);
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) throw invalidArgument(field, expected, value);
  if (rule.max !== undefined && value > rule.max) throw invalidArgument(field, expected, value);
  return value;
}
