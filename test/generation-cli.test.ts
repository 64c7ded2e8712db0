// `hyperion run` on stories260K (skipped with a message where ../shared is absent).
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers';
import { haveStories, storiesPath } from './generation-util';

if (!haveStories) console.warn(`generation-cli.test: ${storiesPath} is absent; the tests are skipped`);

describe.skipIf(!haveStories)('hyperion run', () => {
  it('streams the text to stdout and ends with one line of figures on stderr', () => {
    const r = runCli(['run', storiesPath, '-p', 'Once upon a time', '--temperature', '0', '--max-tokens', '12', '--threads', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith(', there was')).toBe(true);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^prompt \d+ tokens \(0 cached\) in [\d.]+ ms, [\d.]+ tok\/s · generated 12 tokens in [\d.]+ ms, [\d.]+ tok\/s · first token [\d.]+ ms · total [\d.]+ ms · stop: maxTokens$/);
  });

  it('--json prints the result object; --stop and the sampling options apply', () => {
    const args = ['run', storiesPath, '-p', 'Once upon a time', '--temperature', '0', '-n', '30', '-t', '1', '--json'];
    const full = JSON.parse(runCli(args).stdout);
    expect(full).toMatchObject({ stopReason: 'maxTokens', tokens: expect.any(Array), stats: expect.objectContaining({ generatedTokens: 30 }) });
    const stopped = JSON.parse(runCli([...args, '--stop', 'little', '--stop', 'zzz']).stdout);
    expect(stopped.stopReason).toBe('stop');
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf('little')));
    const seeded = ['run', storiesPath, '-p', 'Once', '--temperature', '0.9', '--top-k', '20', '--top-p', '0.9', '--min-p', '0.01', '--repeat-penalty', '1.1', '--seed', '5', '-n', '10', '-c', '64', '--json'];
    expect(JSON.parse(runCli(seeded).stdout).text).toBe(JSON.parse(runCli(seeded).stdout).text);
  });

  it('--chat renders the prompt with the chat template', () => {
    const r = runCli(['run', storiesPath, '-p', 'Hi', '--chat', '--system', 'Be brief.', '-n', '2', '-t', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    // "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]" is far longer than "Hi"
    expect(JSON.parse(r.stdout).stats.promptTokens).toBeGreaterThan(15);
  });

  it('reports usage errors with exit code 2', () => {
    expect(runCli(['run', storiesPath]).status).toBe(2);
    const bad = runCli(['run', storiesPath, '-p', 'x', '--temperature', 'hot']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--temperature');
    expect(runCli(['run', storiesPath, '-p', 'x', '--top-p', '2']).status).toBe(2);
    expect(runCli(['run', '/nonexistent.gguf', '-p', 'x']).status).toBe(1);
    expect(runCli(['run', '--help']).stdout).toContain('Usage: hyperion run');
  });
});
