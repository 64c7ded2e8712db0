// model-files.ts — verifyModel() and getModelInfo(): read-only checks of a GGUF
// file, done on a native thread. Neither throws for a bad file: the report
// says what is wrong (code, field, byte offset).
import { native } from './native';
import { invalidArgument, type HyperionErrorCode } from './errors';
import { optionsObject, rejectUnknownKeys, optionalNumber } from './validate';

export interface FileProblem {
  code: HyperionErrorCode;
  category: string;
  field: string;
  offset: number | null;
  message: string;
  suggestion?: string;
}

export interface VerifyReport {
  path: string;
  ok: boolean;
  validGguf: boolean;
  fileSize: number;
  version: number | null;
  tensorCount: number | null;
  kvCount: number | null;
  alignment: number | null;
  architecture: string | null;
  problems: FileProblem[];
  warnings: Array<{ field: string; offset: number; message: string }>;
  warningsDropped: number;
}

export interface ModelFileInfo {
  path: string;
  ok: boolean;
  supported: boolean;
  fileSize: number;
  ggufVersion: number | null;
  architecture: string | null;
  name: string | null;
  parameterCount: number | null;
  tensorTypes: Record<string, { count: number; bytes: number; supported: boolean }>;
  vocabSize: number | null;
  tokenizerModel: string | null;
  contextLength: number | null;
  layers: number | null;
  embedding: number | null;
  heads: number | null;
  kvHeads: number | null;
  headDim: number | null;
  feedForward: number | null;
  rope: Record<string, unknown> | null;
  memory: {
    contextSize: number;
    weightsBytes: number;
    /** Of weightsBytes, what loadModel with repackWeights (the default) copies into the pool with this CPU's
     * kernels: it counts against maxMemoryMb (0 when the kernels read every weight from the mapping). */
    repackedWeightsBytes: number;
    kvCacheF16Bytes: number;
    kvCacheF32Bytes: number;
    activationsBytes: number;
    totalF16Bytes: number;
    totalF32Bytes: number;
  } | null;
  problems: FileProblem[];
  [key: string]: unknown;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** snake_case keys of the native JSON to the camelCase the JS API uses (type names like "q4_K" are values' keys: kept). */
function camelize(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camelize(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[keepKeys ? k : camel(k)] = camelize(v, k === 'tensor_types');
    return out;
  }
  return value;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a path to a .gguf file', path);
  return path;
}

/** Validate every header field, count, string, dimension and offset of a GGUF file. Never throws for a bad file. */
export async function verifyModel(path: string): Promise<VerifyReport> {
  const json = (await native().verifyModel(checkPath(path))) as string;
  return camelize(JSON.parse(json)) as VerifyReport;
}

/** What a GGUF file holds and what a context of `contextSize` positions would need. Never throws for a bad file. */
export async function getModelInfo(path: string, options?: { contextSize?: number }): Promise<ModelFileInfo> {
  const o = optionsObject(options, 'options');
  rejectUnknownKeys(o, '', ['contextSize']);
  const contextSize = optionalNumber(o.contextSize, 'contextSize', { min: 1, max: 1 << 24, integer: true }, 0);
  const json = (await native().modelInfo(checkPath(path), contextSize)) as string;
  return camelize(JSON.parse(json)) as ModelFileInfo;
}

export interface InspectReport {
  path: string;
  fileSize: number;
  version: number;
  alignment: number;
  dataOffset: number;
  metadata: Array<{ key: string; type: string; value?: unknown; elementType?: string; count?: number; head?: unknown[]; length?: number; truncated?: boolean }>;
  tensors: Array<{ name: string; type: string; shape: number[]; bytes: number; offset: number }>;
}

/**
 * Every metadata key and tensor of a GGUF file. Unlike verifyModel it rejects a
 * file it cannot parse (HYPERION_IO, HYPERION_MODEL_INVALID naming field and offset).
 */
export async function inspectModel(path: string): Promise<InspectReport> {
  const json = (await native().inspectModel(checkPath(path))) as string;
  return JSON.parse(json) as InspectReport;
}
