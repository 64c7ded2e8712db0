import { describe, expect, it, afterEach } from 'vitest';
import { HyperionError, setErrorCallback, getLastError, configureLogging, ERROR_CODES, categoryOf } from '../src/index';
import { native } from '../src/native';

afterEach(() => setErrorCallback(null));

function raiseNative(code: number, message: string): HyperionError {
  try {
    native()._test.raiseError(code, message);
  } catch (e) {
    return e as HyperionError;
  }
  throw new Error('raiseError did not throw');
}

describe('errors raised in C', () => {
  it('arrive as HyperionError with code, category, file, line and fields', () => {
    const err = raiseNative(5, 'memory limit exceeded in "kv-cache"');
    expect(err).toBeInstanceOf(HyperionError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('HyperionError');
    expect(err.code).toBe('HYPERION_MEMORY_LIMIT');
    expect(err.category).toBe('limit');
    expect(err.message).toBe('memory limit exceeded in "kv-cache"');
    expect(err.file).toBe('addon/testing.cc');
    expect(err.line).toBeGreaterThan(0);
    expect(err.suggestion).toBe('this is a test error');
    expect(err.fields).toEqual({ field: 'testField', requested: 1536, limit: 1024 });
    expect(err.requested).toBe(1536);
    expect(err.native).toBe(true);
  });

  it('maps every status code to its string code and category', () => {
    ERROR_CODES.forEach((code, i) => {
      const err = raiseNative(i + 1, code);
      expect(err.code).toBe(code);
      expect(err.category).toBe(categoryOf(code));
    });
  });

  it('getLastError returns the thread\'s last native error', () => {
    raiseNative(11, 'corrupted');
    const last = getLastError();
    expect(last?.code).toBe('HYPERION_CORRUPTION');
    native().clearLastError();
    expect(getLastError()).toBeNull();
  });
});

describe('the error callback', () => {
  it('fires once per native error', async () => {
    const seen: HyperionError[] = [];
    setErrorCallback((e) => seen.push(e));
    raiseNative(4, 'io one');
    raiseNative(2, 'model two');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((e) => e.code)).toEqual(['HYPERION_IO', 'HYPERION_MODEL_INVALID']);
    expect(seen[1]).toBeInstanceOf(HyperionError);
    expect(seen[1].file).toBe('addon/testing.cc');
  });

  it('fires once per JS validation error, and not after removal', async () => {
    const seen: string[] = [];
    setErrorCallback((e) => seen.push(`${e.code}:${String(e.field)}`));
    expect(() => configureLogging({ level: 'loud' as never })).toThrow(HyperionError);
    await new Promise((r) => setTimeout(r, 20));
    setErrorCallback(null);
    expect(() => configureLogging({ level: 'loud' as never })).toThrow(HyperionError);
    raiseNative(4, 'after removal');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['HYPERION_INVALID_ARGUMENT:level']);
  });

  it('survives a callback that throws', async () => {
    let calls = 0;
    setErrorCallback(() => {
      calls++;
      throw new Error('callback bug');
    });
    raiseNative(4, 'x');
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });

  it('rejects a non-function', () => {
    expect(() => setErrorCallback(42 as never)).toThrow(/callback: expected a function or null/);
  });
});

describe('option validation', () => {
  it('names the field and what was expected', () => {
    try {
      configureLogging({ rotation: { maxSizeMb: -1 } });
      expect.unreachable();
    } catch (e) {
      const err = e as HyperionError;
      expect(err.code).toBe('HYPERION_INVALID_ARGUMENT');
      expect(err.category).toBe('input');
      expect(err.field).toBe('rotation.maxSizeMb');
      expect(err.message).toMatch(/rotation\.maxSizeMb: expected a finite number > 0/);
      expect(err.native).toBe(false);
    }
  });

  it('rejects unknown option names', () => {
    expect(() => configureLogging({ levle: 'info' } as never)).toThrow(/levle: expected one of the known options/);
  });
});
