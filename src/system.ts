// system.ts — version, CPU features and the SIMD switches.
import fs from 'node:fs';
import path from 'node:path';
import { native, packageRoot } from './native';
import { HyperionError, setJsErrorCallback } from './errors';
import { optionalString } from './validate';
import { invalidArgument } from './errors';

/** The package version (package.json). The native core reports the same; a test holds them equal. */
export const version: string = (
  JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** The C core's own version string. */
export function nativeVersion(): string {
  return native().version() as string;
}

export type Isa = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface CpuFeatures {
  arch: 'x86_64' | 'arm64' | 'other';
  modelName: string;
  logicalCores: number;
  physicalCores: number;
  sse42: boolean;
  avx: boolean;
  avx2: boolean;
  fma: boolean;
  f16c: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512vl: boolean;
  avx512vnni: boolean;
  neon: boolean;
  dotprod: boolean;
  /** The OS saves the AVX (YMM) / AVX-512 (ZMM) state: without it the feature is reported false. */
  osSavesYmm: boolean;
  osSavesZmm: boolean;
  /** The best instruction set compiled in that this CPU runs. */
  bestIsa: Isa;
  /** The instruction set each kernel group uses now. */
  kernels: Record<string, Isa>;
  kernelGroups: string[];
}

/** CPU features, detected once by the native core (x86: with the OS's XSAVE support checked). */
export function getCpuFeatures(): CpuFeatures {
  return native().cpuFeatures() as CpuFeatures;
}

/**
 * Turn the SIMD versions of a kernel group (or of `'all'`) on or off; off forces
 * the scalar reference, for tests and debugging.
 */
export function enableSIMD(ops: string, on: boolean): void {
  const name = optionalString(ops, 'ops');
  if (name === undefined) throw invalidArgument('ops', 'a kernel group name or "all"', ops);
  if (typeof on !== 'boolean') throw invalidArgument('on', 'a boolean', on);
  native().enableSimd(name, on);
}

/**
 * Call `callback` once for every error the runtime raises, native or JS, on the
 * main thread (asynchronously: after the operation that failed has returned or
 * thrown). null removes it. A throwing callback is logged, not propagated.
 */
export function setErrorCallback(callback: ((error: HyperionError) => void) | null): void {
  if (callback !== null && typeof callback !== 'function') throw invalidArgument('callback', 'a function or null', callback);
  const safe = callback
    ? (error: HyperionError) => {
        try {
          callback(error);
        } catch {
          /* the native side logs throws from its own delivery; JS-side ones are dropped the same way */
        }
      }
    : null;
  native().setErrorCallback(safe);
  setJsErrorCallback(safe);
}

/** The calling thread's most recent native error, or null. */
export function getLastError(): HyperionError | null {
  return native().getLastError() as HyperionError | null;
}
