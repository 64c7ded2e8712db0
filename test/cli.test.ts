import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers';

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
