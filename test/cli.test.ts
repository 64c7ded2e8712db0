import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sharedDir, tempDir } from './helpers';

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
  // verify on the malformed corpus, every file through the CLI: cli-json.test.ts
});
