// errors.ts — the one error type the runtime throws, and the error callback.

/** Stable error codes; the same names as the C core's status codes. */
export const ERROR_CODES = [
  'HYPERION_INVALID_ARGUMENT',
  'HYPERION_MODEL_INVALID',
  'HYPERION_MODEL_UNSUPPORTED',
  'HYPERION_IO',
  'HYPERION_MEMORY_LIMIT',
  'HYPERION_OUT_OF_MEMORY',
  'HYPERION_CONTEXT_FULL',
  'HYPERION_ABORTED',
  'HYPERION_TIMEOUT',
  'HYPERION_DISPOSED',
  'HYPERION_CORRUPTION',
  'HYPERION_INTERNAL',
] as const;
export type HyperionErrorCode = (typeof ERROR_CODES)[number];

export type HyperionErrorCategory = 'input' | 'model' | 'io' | 'memory' | 'limit' | 'aborted' | 'internal';

const CATEGORY_OF: Record<HyperionErrorCode, HyperionErrorCategory> = {
  HYPERION_INVALID_ARGUMENT: 'input',
  HYPERION_MODEL_INVALID: 'model',
  HYPERION_MODEL_UNSUPPORTED: 'model',
  HYPERION_IO: 'io',
  HYPERION_MEMORY_LIMIT: 'limit',
  HYPERION_OUT_OF_MEMORY: 'memory',
  HYPERION_CONTEXT_FULL: 'limit',
  HYPERION_ABORTED: 'aborted',
  HYPERION_TIMEOUT: 'limit',
  HYPERION_DISPOSED: 'input',
  HYPERION_CORRUPTION: 'memory',
  HYPERION_INTERNAL: 'internal',
};

export interface HyperionErrorDetails {
  code: HyperionErrorCode;
  category?: HyperionErrorCategory;
  file?: string;
  line?: number;
  suggestion?: string;
  /** Structured facts of the failure: `field`, `offset`, `requested`, `limit`, ... */
  fields?: Record<string, string | number>;
  /** True when the error was raised in the C core. */
  native?: boolean;
}

/**
 * Every failure of the runtime. `code` is stable and meant for programs;
 * `message` is for people. The structured fields of the failure are both in
 * `fields` and, for convenience, properties of the error itself
 * (`err.field`, `err.requested`, ...).
 */
export class HyperionError extends Error {
  readonly code: HyperionErrorCode;
  readonly category: HyperionErrorCategory;
  /** Source file of the C core (relative to native/) or of the TS layer that raised it. */
  readonly file?: string;
  readonly line?: number;
  readonly suggestion?: string;
  readonly fields: Readonly<Record<string, string | number>>;
  readonly native: boolean;
  [field: string]: unknown;

  constructor(message: string, details: HyperionErrorDetails) {
    super(message);
    this.name = 'HyperionError';
    this.code = details.code;
    this.category = details.category ?? CATEGORY_OF[details.code] ?? 'internal';
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.suggestion) this.suggestion = details.suggestion;
    this.fields = Object.freeze({ ...(details.fields ?? {}) });
    this.native = details.native === true;
    for (const [key, value] of Object.entries(this.fields)) {
      if (!(key in this)) (this as Record<string, unknown>)[key] = value;
    }
    if (!this.native) reportError(this);
  }
}

/** The category of a code. */
export function categoryOf(code: HyperionErrorCode): HyperionErrorCategory {
  return CATEGORY_OF[code];
}

// ---- error callback ------------------------------------------------------------

type ErrorCallback = (error: HyperionError) => void;
let jsCallback: ErrorCallback | null = null;

/** Errors raised in TS (option validation) reach the callback from here; errors
 *  raised in C reach it through the native bridge (once each either way). */
function reportError(error: HyperionError): void {
  const cb = jsCallback;
  if (cb) queueMicrotask(() => cb(error));
}

/** @internal used by setErrorCallback in index.ts */
export function setJsErrorCallback(cb: ErrorCallback | null): void {
  jsCallback = cb;
}

/** Build a HYPERION_INVALID_ARGUMENT error naming the field and what was expected. */
export function invalidArgument(field: string, expected: string, got: unknown): HyperionError {
  return new HyperionError(`${field}: expected ${expected}, got ${describe(got)}`, {
    code: 'HYPERION_INVALID_ARGUMENT',
    suggestion: `pass ${expected} as ${field}`,
    fields: { field, expected },
    file: 'src/' + callerFile(),
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

function callerFile(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack.slice(3)) {
    const m = /[/\\](\w+)\.[jt]s:\d+/.exec(line);
    if (m && m[1] !== 'validate' && m[1] !== 'errors') return `${m[1]}.ts`;
  }
  return 'index.ts';
}
