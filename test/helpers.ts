// helpers.ts — shared test utilities.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export const root = path.resolve(__dirname, '..');
export const sharedDir = process.env.HYPERION_SHARED_DIR ?? path.resolve(root, '..', 'shared');

export function tempDir(prefix = 'hyperion-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run node with a script (CommonJS unless `module` is set) in a child process. */
export function runNode(code: string, opts: { module?: boolean; cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const args = opts.module ? ['--input-type=module', '-e', code] : ['-e', code];
  return spawnSync(process.execPath, args, { cwd: opts.cwd ?? root, encoding: 'utf8', env: { ...process.env, ...opts.env } });
}

/** Run the `hyperion` CLI. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'hyperion.js'), ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
  });
}

export async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
