// `hyperion profile`: files written, the printed report, --json, exit codes.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../src/index';
import { runCli, tempDir } from './helpers';

describe('hyperion profile', () => {
  let model = '';
  beforeAll(async () => {
    model = (await makeModel(path.join(tempDir(), 'tiny-q4_0.gguf'), { shape: 'tiny', type: 'q4_0' })).path;
  });

  it('rejects bad usage with exit code 2', () => {
    expect(runCli(['profile']).status).toBe(2);
    expect(runCli(['profile', 'a.gguf', 'b.gguf']).status).toBe(2);
    const bad = runCli(['profile', 'm.gguf', '--tokens', 'many']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--tokens: expected an integer 1..');
    expect(runCli(['profile', 'm.gguf', '--tokens', '0']).status).toBe(2);
    expect(runCli(['profile', 'm.gguf', '--threads', '-1']).status).toBe(2);
    expect(runCli(['profile', 'm.gguf', '-p', 'hi', '--tokens', '4']).status).toBe(2);
    expect(runCli(['profile', 'm.gguf', '-n', '-1']).status).toBe(2);
    expect(runCli(['profile', 'm.gguf', '--max-tokens', 'some']).stderr).toContain('--max-tokens: expected an integer 0..');
    expect(runCli(['profile', '--help']).stdout).toContain('Usage: hyperion profile');
  });

  it('reports a missing model file as a problem (exit 1)', () => {
    const r = runCli(['profile', path.join(tempDir(), 'absent.gguf'), '--tokens', '4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('HYPERION_IO');
  });

  it('writes the trace and the summary and prints hotspots and bottlenecks', () => {
    const dir = tempDir();
    const out = path.join(dir, 'sub', 'profile.json');
    const r = runCli(['profile', model, '--tokens', '24', '--threads', '2', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'sub', 'profile.summary.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).displayTimeUnit).toBe('ms');
    expect(r.stdout).toContain('24 synthetic token ids');
    expect(r.stdout).toContain('evaluation of 24 prompt tokens (prefill), then 32 tokens generated one at a time (decode, greedy)');
    // the load phase is the whole load (the file, the repacked copies, the vocabulary), so no time goes unexplained
    expect(r.stdout).toMatch(/load\s+[\d.]+ ms\n/);
    expect(r.stdout).toMatch(/prefill\s+[\d.]+ ms\s+24 tokens, [\d.]+ tokens\/s/);
    expect(r.stdout).toMatch(/decode\s+[\d.]+ ms\s+32 tokens, [\d.]+ tokens\/s/);
    expect(r.stdout).toMatch(/Hotspots[\s\S]+#\s+op\s+type\s+calls\s+self ms/);
    expect(r.stdout).toMatch(/ {3}1 {2}(matmul|matvec|quantize|attention)/);
    expect(r.stdout).toContain('Bottlenecks');
    expect(r.stdout).toMatch(/memory-bound|compute-bound/);
    expect(r.stdout).toMatch(/[Hh]ardware counters/);
  });

  it('--json prints the summary; -p is tokenized by the model; -n sets the decoded tokens', () => {
    const dir = tempDir();
    const r = runCli(['profile', model, '-p', 'Once upon a time', '-n', '5', '--json', '-o', path.join(dir, 'p.json'), '--threads', '1']);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.kind).toBe('session');
    const phase = (name: string) => summary.phases.find((p: { phase: string }) => p.phase === name);
    expect(r.stderr).toMatch(/the prompt, tokenized \(\d+ tokens\)/);
    expect(phase('prefill').tokens).toBeGreaterThan(0);
    // exactly -n tokens: greedy, not stopped by the end-of-text token
    expect(phase('decode').tokens).toBe(5);
    // the load phase's one op zone, where the CPU repacks Q4_0 (AVX-512)
    const repack = summary.ops.find((o: { name: string }) => o.name === 'repack');
    if (repack) expect(repack.bytes).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'p.summary.json'), 'utf8'))).toEqual(summary);
  });

  it('-n 0 profiles the prompt alone; a run that overflows the context is refused naming the flag', () => {
    const dir = tempDir();
    const r = runCli(['profile', model, '--tokens', '16', '-n', '0', '--json', '-o', path.join(dir, 'p.json')]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.phases.find((p: { phase: string }) => p.phase === 'prefill').tokens).toBe(16);
    expect(summary.phases.find((p: { phase: string }) => p.phase === 'decode').tokens).toBe(0);
    expect(r.stderr).toContain('no generation (--max-tokens 0)');
    // the tiny shape's context is 256 positions
    const over = runCli(['profile', model, '--tokens', '250', '-n', '10', '-o', path.join(dir, 'q.json')]);
    expect(over.status).toBe(2);
    expect(over.stderr).toContain('--max-tokens');
    expect(over.stderr).toContain('256 positions');
  });
});
