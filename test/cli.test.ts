import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli, runNode, sharedDir, tempDir } from './helpers';
import { native } from '../src/native';

describe('hyperion CLI', () => {
  it('demo runs and reports only what it computed', () => {
    const cache = tempDir();
    const r = runCli(['demo', '--json', '--cache', cache]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.logging.allParse).toBe(true);
    expect(result.logging.fromNativeThread).toBe(200);
    expect(result.logging.promptRedacted).toBe(true);
    expect(fs.existsSync(result.logging.file)).toBe(true);
    expect(fs.readFileSync(result.logging.file, 'utf8').trim().split('\n').length).toBe(result.logging.linesWritten);
    expect(result.error).toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field: 'level' });
    expect(result.memory.activeAllocations).toBeGreaterThan(0);
  });

  it('demo prints a readable report', () => {
    const r = runCli(['demo', '--cache', tempDir()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Hyperion Runtime');
    expect(r.stdout).toMatch(/Kernels\s+vec →/);
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
