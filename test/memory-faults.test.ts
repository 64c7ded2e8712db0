// Guard pages and bad frees, caught in child processes: the child loads the
// package, turns guard pages on and calls a test-only native hook that makes
// one mistake. Faults (overflow, underflow, use-after-free) stop the child with
// a report on stderr and in a JSON file; double and invalid frees are detected,
// reported as errors, and the child goes on.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { root, tempDir } from './helpers';

const child = path.join(root, 'test', 'fixtures', 'memory-fault.cjs');

interface Frame {
  function: string;
}

function run(kind: string) {
  const report = path.join(tempDir('hyperion-fault-'), 'report.json');
  const r = spawnSync(process.execPath, [child, kind, report], { encoding: 'utf8' });
  const json = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : null;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

const names = (stack: Frame[]) => stack.map((f) => f.function);

describe('guard-page faults stop the process with a report', () => {
  it('a one-byte overflow', () => {
    const r = run('overflow');
    expect(r.signal).toBe('SIGABRT');
    expect(r.json).toMatchObject({
      error: 'HyperionMemory',
      kind: 'heap-buffer-overflow',
      access: 'WRITE',
      offset: 100,
      relation: 'after',
      distance: 0,
      block: { size: 100, tag: 'test', guard: 'after', freed: false },
    });
    expect(names(r.json.access_stack)).toContain('hyperion_addon_test_overflow');
    expect(names(r.json.allocation_stack)[0]).toBe('hyperion_addon_test_overflow');
    expect(r.stderr).toContain('ERROR: HyperionMemory: heap-buffer-overflow');
    expect(r.stderr).toContain('in hyperion_addon_test_overflow');
    expect(r.stderr).toContain('is located 0 bytes after the 100-byte block');
    expect(r.stdout).not.toContain('survived');
  });

  it('a one-byte underflow (guard page before the block)', () => {
    const r = run('underflow');
    expect(r.signal).toBe('SIGABRT');
    expect(r.json).toMatchObject({ kind: 'heap-buffer-underflow', access: 'READ', offset: -1, relation: 'before', distance: 1, block: { size: 100, tag: 'test', guard: 'before' } });
    expect(names(r.json.allocation_stack)[0]).toBe('hyperion_addon_test_underflow');
    expect(names(r.json.access_stack)).toContain('hyperion_addon_test_underflow');
    expect(r.stderr).toContain('heap-buffer-underflow');
  });

  it('a use after free, with the free stack', () => {
    const r = run('use-after-free');
    expect(r.signal).toBe('SIGABRT');
    expect(r.json).toMatchObject({ kind: 'heap-use-after-free', access: 'READ', offset: 10, relation: 'inside', block: { size: 100, tag: 'test', freed: true } });
    expect(names(r.json.allocation_stack)[0]).toBe('hyperion_addon_test_use_after_free');
    expect(names(r.json.free_stack)[0]).toBe('hyperion_addon_test_use_after_free');
    expect(names(r.json.access_stack)).toContain('hyperion_addon_test_use_after_free');
    expect(r.stderr).toContain('freed by thread');
  });
});

describe('bad frees are detected and the process goes on', () => {
  it('a double free', () => {
    const r = run('double-free');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ survived: true, doubleFrees: 1, error: { code: 'HYPERION_CORRUPTION', kind: 'double-free', category: 'memory' } });
    expect(r.json).toBeNull();
    // the error log entry names the call site of both frees and the allocation
    expect(r.stderr).toContain('(double free)');
    expect(r.stderr).toContain('free attempted here');
    expect(r.stderr).toContain('first freed by thread');
    expect(r.stderr).toContain('in hyperion_addon_test_double_free');
  });

  it('an invalid free', () => {
    const r = run('invalid-free');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ survived: true, invalidFrees: 1, error: { code: 'HYPERION_CORRUPTION', kind: 'invalid-free' } });
    expect(r.stderr).toContain('(invalid free)');
    expect(r.stderr).toContain('in hyperion_addon_test_invalid_free');
  });
});
