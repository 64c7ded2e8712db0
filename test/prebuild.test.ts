// The prebuild path: `prebuildify --napi --strip` writes prebuilds/linux-x64/,
// and the package loads from there when build/ is absent. Done in a copy of the
// package so the working tree's own build/ is left alone.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root, tempDir } from './helpers';

const PACKAGE_FILES = ['package.json', 'binding.gyp', 'native', 'scripts', 'dist', 'bin'];

describe('prebuilds', () => {
  it('the package loads from prebuilds/ when build/ is absent', () => {
    const copy = path.join(tempDir('hyperion-prebuild-'), 'pkg');
    fs.mkdirSync(copy);
    for (const f of PACKAGE_FILES) fs.cpSync(path.join(root, f), path.join(copy, f), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));

    const build = spawnSync(process.execPath, [path.join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip'], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, JOBS: '2' },
    });
    expect(build.status, build.stderr.slice(-2000)).toBe(0);
    const prebuilt = fs.readdirSync(path.join(copy, 'prebuilds', `${process.platform}-${process.arch}`));
    expect(prebuilt.some((f) => f.endsWith('.node'))).toBe(true);

    fs.rmSync(path.join(copy, 'build'), { recursive: true, force: true });
    const load = spawnSync(process.execPath, ['-e', `
      const n = require('./dist/cjs/native.js');
      const h = require('./dist/cjs/index.js');
      console.log(JSON.stringify({ from: n.nativeBindingPath(), version: h.nativeVersion() }));
    `], { cwd: copy, encoding: 'utf8' });
    expect(load.status, load.stderr).toBe(0);
    const result = JSON.parse(load.stdout);
    expect(result.from).toContain(path.join(copy, 'prebuilds'));
    expect(result.version).toMatch(/^\d+\.\d+\.\d+$/);
  }, 600_000);
});
