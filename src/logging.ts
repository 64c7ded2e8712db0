// logging.ts — one logging pipeline for native and JS records: levels per
// category, console and file sinks, text or JSON lines, size-based rotation,
// an optional JS handler fed without ever blocking a native thread.
import { native } from './native';
import { invalidArgument } from './errors';
import {
  optionsObject,
  rejectUnknownKeys,
  optionalBoolean,
  optionalEnum,
  optionalNumber,
  requireNumber,
  type Options,
} from './validate';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_CATEGORIES = ['general', 'memory', 'performance', 'model', 'generation'] as const;
export type LogCategory = (typeof LOG_CATEGORIES)[number];
export type LogFormat = 'text' | 'json';

export interface LogRecord {
  /** ISO-8601 UTC with milliseconds */
  time: string;
  /** nanoseconds since the epoch */
  timeNs: bigint;
  level: Exclude<LogLevel, 'off'>;
  category: LogCategory;
  /** OS thread id of the thread that logged */
  thread: number;
  message: string;
}

export interface RotationOptions {
  /** Rotate when the active file would pass this size (fractions allowed). */
  maxSizeMb: number;
  /** Files kept, the active one included (default 5). */
  maxFiles?: number;
  /** gzip rotated files (default false). */
  compress?: boolean;
}

export interface LoggingOptions {
  /** Level for every category (default 'warn'). */
  level?: LogLevel;
  /** Per-category levels that override `level`. */
  categories?: Partial<Record<LogCategory, LogLevel>>;
  /** Default format of both sinks (default 'text'). */
  format?: LogFormat;
  /** stderr sink: on/off, or its own format (default on). */
  console?: boolean | { format?: LogFormat };
  /** File sink: a path, or a path and its own format; null turns it off. */
  file?: string | null | { path: string; format?: LogFormat };
  includeTimestamp?: boolean;
  includeThreadId?: boolean;
  rotation?: RotationOptions | null;
  /** Allow prompt and generated text into logs (default false: redacted). */
  logContent?: boolean;
  /** Receives every record that passes the levels, on the main thread. null removes it. */
  handler?: ((record: LogRecord) => void) | null;
  /** Records the handler may have in flight before new ones are counted as dropped (default 1024). */
  handlerQueueLimit?: number;
  /** Native queue capacity in records (default 4096); a full queue drops and counts. */
  queueCapacity?: number;
}

export interface LogStats {
  accepted: number;
  droppedQueue: number;
  droppedHandler: number;
  written: number;
  rotations: number;
  sinkErrors: number;
}

const LOGGING_KEYS = [
  'level', 'categories', 'format', 'console', 'file', 'includeTimestamp', 'includeThreadId', 'rotation',
  'logContent', 'handler', 'handlerQueueLimit', 'queueCapacity',
] as const;

// The configuration in force, kept in its validated form so that a later call
// changes only what it names.
interface Normalized {
  level: number;
  categoryLevels: number[];
  console: boolean;
  consoleFormat: number;
  filePath: string | null;
  fileFormat: number;
  includeTimestamp: boolean;
  includeThreadId: boolean;
  rotateMaxBytes: number;
  rotateMaxFiles: number;
  rotateCompress: boolean;
  logContent: boolean;
  queueCapacity: number;
}

let current: Normalized = {
  level: LOG_LEVELS.indexOf('warn'),
  categoryLevels: LOG_CATEGORIES.map(() => -1),
  console: true,
  consoleFormat: 0,
  filePath: null,
  fileFormat: 0,
  includeTimestamp: true,
  includeThreadId: true,
  rotateMaxBytes: 0,
  rotateMaxFiles: 5,
  rotateCompress: false,
  logContent: false,
  queueCapacity: 4096,
};

function levelIndex(value: unknown, field: string): number {
  return LOG_LEVELS.indexOf(optionalEnum(value, field, LOG_LEVELS, 'warn'));
}

function formatIndex(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  return optionalEnum(value, field, ['text', 'json'] as const, 'text') === 'json' ? 1 : 0;
}

/**
 * Configure logging. Only the options given change; the rest keep their
 * current values. Throws HYPERION_INVALID_ARGUMENT naming a bad option, or
 * HYPERION_IO when the log file cannot be opened (the old setup stays).
 */
export function configureLogging(options: LoggingOptions): void {
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', LOGGING_KEYS);
  const next: Normalized = { ...current, categoryLevels: [...current.categoryLevels] };

  if (o.level !== undefined) {
    next.level = levelIndex(o.level, 'level');
    if (o.categories === undefined) next.categoryLevels = LOG_CATEGORIES.map(() => -1);
  }
  if (o.categories !== undefined) {
    const cats = optionsObject(o.categories, 'categories');
    rejectUnknownKeys(cats, 'categories', LOG_CATEGORIES);
    next.categoryLevels = LOG_CATEGORIES.map((c) => (cats[c] === undefined ? -1 : levelIndex(cats[c], `categories.${c}`)));
  }
  const defaultFormat = formatIndex(o.format, 'format', -1);
  if (defaultFormat >= 0) {
    next.consoleFormat = defaultFormat;
    next.fileFormat = defaultFormat;
  }
  if (o.console !== undefined) {
    if (typeof o.console === 'boolean') next.console = o.console;
    else {
      const c = optionsObject(o.console, 'console');
      rejectUnknownKeys(c, 'console', ['format']);
      next.console = true;
      next.consoleFormat = formatIndex(c.format, 'console.format', next.consoleFormat);
    }
  }
  if (o.file !== undefined) {
    if (o.file === null) next.filePath = null;
    else if (typeof o.file === 'string') {
      if (o.file.length === 0) throw invalidArgument('file', 'a non-empty path, an object or null', o.file);
      next.filePath = o.file;
    } else {
      const f = optionsObject(o.file, 'file');
      rejectUnknownKeys(f, 'file', ['path', 'format']);
      if (typeof f.path !== 'string' || f.path.length === 0) throw invalidArgument('file.path', 'a non-empty string', f.path);
      next.filePath = f.path;
      next.fileFormat = formatIndex(f.format, 'file.format', next.fileFormat);
    }
  }
  next.includeTimestamp = optionalBoolean(o.includeTimestamp, 'includeTimestamp', next.includeTimestamp);
  next.includeThreadId = optionalBoolean(o.includeThreadId, 'includeThreadId', next.includeThreadId);
  if (o.rotation !== undefined) {
    if (o.rotation === null) next.rotateMaxBytes = 0;
    else {
      const r = optionsObject(o.rotation, 'rotation') as Options;
      rejectUnknownKeys(r, 'rotation', ['maxSizeMb', 'maxFiles', 'compress']);
      const mb = requireNumber(r.maxSizeMb, 'rotation.maxSizeMb', { min: 0, exclusiveMin: true, max: 1024 * 1024 });
      next.rotateMaxBytes = Math.max(1, Math.round(mb * 1024 * 1024));
      next.rotateMaxFiles = optionalNumber(r.maxFiles, 'rotation.maxFiles', { min: 1, max: 1000, integer: true }, 5);
      next.rotateCompress = optionalBoolean(r.compress, 'rotation.compress', false);
    }
  }
  next.logContent = optionalBoolean(o.logContent, 'logContent', next.logContent);
  next.queueCapacity = optionalNumber(o.queueCapacity, 'queueCapacity', { min: 2, max: 1 << 20, integer: true }, next.queueCapacity);
  let handlerLimit: number | undefined;
  if (o.handlerQueueLimit !== undefined) {
    handlerLimit = requireNumber(o.handlerQueueLimit, 'handlerQueueLimit', { min: 1, max: 1 << 20, integer: true });
  }
  if (o.handler !== undefined && o.handler !== null && typeof o.handler !== 'function') {
    throw invalidArgument('handler', 'a function or null', o.handler);
  }

  native().configureLogging({ ...next, filePath: next.filePath ?? undefined });
  current = next;
  if (o.handler !== undefined || handlerLimit !== undefined) {
    const handler = o.handler === undefined ? currentHandler : (o.handler as LoggingOptions['handler']);
    native().setLogHandler(handler ?? null, handlerLimit);
    currentHandler = handler ?? null;
  }
}

let currentHandler: ((record: LogRecord) => void) | null = null;

/** Set the level of every category, or of one. */
export function setLogLevel(level: LogLevel, category?: LogCategory): void {
  if (level === undefined) throw invalidArgument('level', `one of ${LOG_LEVELS.join(', ')}`, level);
  const index = LOG_LEVELS.indexOf(optionalEnum(level, 'level', LOG_LEVELS, 'warn'));
  if (category === undefined) {
    native().setLogLevel(index);
    current.level = index;
    current.categoryLevels = LOG_CATEGORIES.map(() => -1);
  } else {
    const c = LOG_CATEGORIES.indexOf(optionalEnum(category, 'category', LOG_CATEGORIES, 'general'));
    native().setLogLevel(index, c);
    current.categoryLevels[c] = index;
  }
}

/** Log a record from JS through the same pipeline as native records. */
export function log(level: Exclude<LogLevel, 'off'>, category: LogCategory, message: string): void {
  const l = LOG_LEVELS.indexOf(level);
  const c = LOG_CATEGORIES.indexOf(category);
  if (l < 0 || l > 4) throw invalidArgument('level', 'one of trace, debug, info, warn, error', level);
  if (c < 0) throw invalidArgument('category', `one of ${LOG_CATEGORIES.join(', ')}`, category);
  native().log(l, c, String(message));
}

/** Log user content (a prompt, generated text): redacted unless logContent is on. */
export function logContent(level: Exclude<LogLevel, 'off'>, category: LogCategory, label: string, text: string): void {
  native().logContent(LOG_LEVELS.indexOf(level), LOG_CATEGORIES.indexOf(category), label, text);
}

/**
 * Wait until every record logged so far is written to the sinks and delivered
 * to the handler. Resolves false when the native side did not finish in time.
 */
export async function flushLogs(timeoutMs = 2000): Promise<boolean> {
  const done = native().flushLogs(timeoutMs) as boolean;
  const deadline = Date.now() + timeoutMs;
  while (native().pendingLogRecords() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done && native().pendingLogRecords() === 0;
}

/** Counters of the pipeline: accepted, dropped (queue full / handler full), written, rotations, sink errors. */
export function getLogStats(): LogStats {
  return native().logStats() as LogStats;
}
