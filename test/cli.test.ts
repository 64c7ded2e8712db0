import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli, runNode, sharedDir, tempDir } from './helpers';
import { native } from '../src/native';

describe('hyperion CLI', () => {
  it('demo makes a model, generates, and writes the profile and the leak report it names', () => {
    const cache = tempDir();
    const r = runCli(['demo', '--json', '--cache', cache, '--tokens', '16']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.randomWeights).toBe(true);
    expect(result.stats.generatedTokens).toBeGreaterThan(0);
    expect(result.stats.generatedTokens).toBeLessThanOrEqual(16);
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.leaks.model).toMatchObject({ bytes: 0, blocks: 0 });
    expect(result.leaks.blocks).toBe(0);
    expect(result.hotspots.length).toBeGreaterThan(0);
    expect(result.memory.inUseBytes).toBeGreaterThan(0);
    for (const f of [result.files.profile, result.files.summary, result.files.leakReport]) expect(fs.existsSync(f), f).toBe(true);
    const trace = JSON.parse(fs.readFileSync(result.files.profile, 'utf8'));
    expect(Object.keys(trace)[0]).toBe('displayTimeUnit');
    // the second run reuses the cached model
    const again = runCli(['demo', '--cache', cache, '--tokens', '8']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('reused from the cache');
    expect(again.stdout).toContain('RANDOM weights');
    expect(again.stdout).toMatch(/Hotspots/);
  });

  it('has --help for every command and exit codes scripts can rely on', () => {
    expect(runCli(['--help']).status).toBe(0);
    expect(runCli(['demo', '--help']).stdout).toContain('Usage: hyperion demo');
    expect(runCli(['version', '--json']).stdout).toMatch(/"version"/);
    const unknown = runCli(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(runCli(['demo', '--bogus']).status).toBe(2);
    expect(runCli([]).status).toBe(2);
  });
});

describe('inspect and verify', () => {
  const stories = path.join(sharedDir, 'models', 'stories260K.gguf');
  const haveStories = fs.existsSync(stories);

  it.skipIf(!haveStories)('inspect prints metadata, tensors and memory; --json gives both reports', () => {
    const text = runCli(['inspect', stories]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('llama.embedding_length');
    expect(text.stdout).toContain('token_embd.weight');
    expect(text.stdout).toMatch(/Memory for a context of 128 positions/);
    const json = runCli(['inspect', stories, '--json', '--context-size', '64']);
    const r = JSON.parse(json.stdout);
    expect(r.file.tensors.length).toBe(48);
    expect(r.info.memory.contextSize).toBe(64);
    expect(runCli(['inspect', stories, '--context-size', 'lots']).status).toBe(2);
  });

  it.skipIf(!haveStories)('verify passes a good file', () => {
    const r = runCli(['verify', stories, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBe(true);
  });

  it('verify exits non-zero on every file of the malformed corpus', () => {
    const dir = tempDir();
    const written = native()._test.writeMalformedCorpus(dir) as number;
    expect(written).toBeGreaterThanOrEqual(30);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.gguf') && f !== 'valid.gguf');
    expect(files.length).toBe(written);
    expect(runCli(['verify', path.join(dir, 'valid.gguf')]).status).toBe(0);
    // one process checks them all through the API (fast); a few go through the CLI itself
    const results = runNode(`
      const h = require(${JSON.stringify(path.join(root, 'dist', 'cjs', 'index.js'))});
      (async () => {
        const out = [];
        for (const f of ${JSON.stringify(files)}) out.push([f, (await h.verifyModel(${JSON.stringify(dir)} + '/' + f)).ok]);
        console.log(JSON.stringify(out));
      })();`);
    const verdicts = JSON.parse(results.stdout) as Array<[string, boolean]>;
    expect(verdicts.filter(([, ok]) => ok)).toEqual([]);
    for (const f of files.slice(0, 5)) {
      const r = runCli(['verify', path.join(dir, f)]);
      expect(r.status, f).toBe(1);
      expect(r.stdout).toMatch(/problem HYPERION_MODEL_(INVALID|UNSUPPORTED)/);
    }
  });
});
