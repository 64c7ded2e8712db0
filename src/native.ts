// native.ts — loads the addon (a prebuild from prebuilds/ when one matches,
// else the compiled build/Release) on first use, and hands it the error class.
import path from 'node:path';
import { HyperionError } from './errors';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type NativeAddon = Record<string, any> & { _test: Record<string, any> };

/** The package root: dist/cjs/.. /.. when built, src/.. when run from source. */
export const packageRoot = path.resolve(__dirname, __dirname.endsWith(path.join('dist', 'cjs')) ? '../..' : '..');

let addon: NativeAddon | undefined;
let loadedFrom: string | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as ((dir: string) => NativeAddon) & { resolve?: (dir: string) => string };
  loadedFrom = typeof load.resolve === 'function' ? load.resolve(packageRoot) : undefined;
  const loaded = load(packageRoot);
  loaded.setErrorClass(HyperionError);
  addon = loaded;
  return loaded;
}

/** Where the addon was loaded from (a prebuild or build/Release); for diagnostics and tests. */
export function nativeBindingPath(): string | undefined {
  native();
  return loadedFrom;
}
