import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runNode } from './helpers';
import { version, nativeVersion, getCpuFeatures, enableSIMD } from '../src/index';

describe('the package', () => {
  it('loads from CommonJS', () => {
    // resolve through package.json's exports map
    const viaPath = runNode(`const h = require(${JSON.stringify(root)}); console.log(JSON.stringify([typeof h.configureLogging, h.nativeVersion(), new h.HyperionError('x', {code:'HYPERION_IO'}).category]))`);
    expect(viaPath.stderr).toBe('');
    expect(JSON.parse(viaPath.stdout)).toEqual(['function', version, 'io']);
  });

  it('loads from ESM with named exports', () => {
    const url = new URL(`file://${path.join(root, 'dist', 'esm', 'index.mjs')}`).href;
    const r = runNode(`import { configureLogging, nativeVersion, HyperionError } from ${JSON.stringify(url)}; import def from ${JSON.stringify(url)}; console.log(JSON.stringify([typeof configureLogging, nativeVersion(), typeof HyperionError, typeof def.getCpuFeatures]))`, { module: true });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['function', version, 'function', 'function']);
  });

  it('the exports map points at files that exist, and ships types', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    for (const target of Object.values(pkg.exports['.']) as string[]) {
      expect(fs.existsSync(path.join(root, target)), target).toBe(true);
    }
    const dts = fs.readFileSync(path.join(root, 'dist', 'cjs', 'index.d.ts'), 'utf8');
    expect(dts).toContain('HyperionError');
    expect(dts).toContain('configureLogging');
  });

  it('has one version in package.json and in the C core', () => {
    expect(nativeVersion()).toBe(version);
  });

  it('reports CPU features and the kernels chosen for them', () => {
    const f = getCpuFeatures();
    expect(['x86_64', 'arm64', 'other']).toContain(f.arch);
    expect(f.logicalCores).toBeGreaterThanOrEqual(1);
    expect(f.physicalCores).toBeLessThanOrEqual(f.logicalCores);
    if (f.avx512f) expect(f.osSavesZmm).toBe(true);
    if (f.avx2) expect(f.osSavesYmm).toBe(true);
    expect(f.kernelGroups).toContain('vec');
    enableSIMD('all', false);
    expect(Object.values(getCpuFeatures().kernels).every((isa) => isa === 'scalar')).toBe(true);
    enableSIMD('all', true);
    expect(getCpuFeatures().kernels.vec).toBe(f.bestIsa);
    expect(() => enableSIMD('nonsense', false)).toThrow(expect.objectContaining({ code: 'HYPERION_INVALID_ARGUMENT', field: 'ops' }));
  });
});
