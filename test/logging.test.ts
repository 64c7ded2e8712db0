import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { configureLogging, flushLogs, getLogStats, log, logContent, setLogLevel, type LogRecord } from '../src/index';
import { native } from '../src/native';
import { tempDir } from './helpers';

afterEach(async () => {
  await flushLogs();
  configureLogging({ level: 'warn', categories: {}, console: true, file: null, rotation: null, logContent: false, handler: null, queueCapacity: 4096, format: 'text' });
});

function readJsonLines(file: string): Array<Record<string, unknown>> {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('JSON log lines', () => {
  it('parse and carry level, category, time and thread', async () => {
    const file = path.join(tempDir(), 'log.jsonl');
    configureLogging({ level: 'debug', console: false, file: { path: file, format: 'json' } });
    log('info', 'model', 'hello "json"\nsecond line');
    native()._test.logFromNativeThread(3, 1, 1); // debug, memory
    await flushLogs();
    const lines = readJsonLines(file);
    expect(lines.length).toBe(4);
    for (const line of lines) {
      expect(typeof line.time).toBe('string');
      expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
      expect(Number.isInteger(line.thread)).toBe(true);
      expect(['debug', 'info']).toContain(line.level);
      expect(['model', 'memory']).toContain(line.category);
    }
    expect(lines[0]).toMatchObject({ level: 'info', category: 'model', message: 'hello "json"\nsecond line' });
    expect(lines[1]).toMatchObject({ level: 'debug', category: 'memory', message: 'native thread record 0' });
    expect(lines[1].thread).not.toBe(lines[0].thread); // logged from another OS thread
  });

  it('respect per-category levels', async () => {
    const file = path.join(tempDir(), 'levels.jsonl');
    configureLogging({ level: 'warn', categories: { memory: 'trace' }, console: false, file: { path: file, format: 'json' } });
    log('info', 'model', 'dropped');
    log('trace', 'memory', 'kept');
    log('error', 'model', 'kept too');
    await flushLogs();
    expect(readJsonLines(file).map((l) => l.message)).toEqual(['kept', 'kept too']);
    setLogLevel('off');
    log('error', 'model', 'off means off');
    await flushLogs();
    expect(readJsonLines(file).length).toBe(2);
  });

  it('can leave out timestamp and thread id', async () => {
    const file = path.join(tempDir(), 'bare.jsonl');
    configureLogging({ level: 'info', console: false, file: { path: file, format: 'json' }, includeTimestamp: false, includeThreadId: false });
    log('info', 'general', 'bare');
    await flushLogs();
    expect(readJsonLines(file)).toEqual([{ level: 'info', category: 'general', message: 'bare' }]);
  });
});

describe('rotation', () => {
  for (const compress of [false, true]) {
    it(`leaves N files of bounded size${compress ? ', rotated ones gzipped' : ''}`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'app.log');
      const maxBytes = 8 * 1024;
      configureLogging({ level: 'info', console: false, file, rotation: { maxSizeMb: maxBytes / (1024 * 1024), maxFiles: 4, compress } });
      for (let i = 0; i < 1500; i++) {
        log('info', 'performance', `record ${i} ${'x'.repeat(40)}`);
        if (i % 200 === 0) await flushLogs();
      }
      await flushLogs();
      const files = fs.readdirSync(dir).sort();
      expect(files).toEqual(compress ? ['app.log', 'app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz'] : ['app.log', 'app.log.1', 'app.log.2', 'app.log.3']);
      for (const f of files) {
        const bytes = fs.readFileSync(path.join(dir, f));
        const text = f.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes;
        expect(text.length).toBeLessThanOrEqual(maxBytes);
        expect(text.length).toBeGreaterThan(0);
      }
      // the newest records are in the active file, in order
      const active = fs.readFileSync(file, 'utf8').trim().split('\n');
      expect(active.at(-1)).toContain('record 1499');
      expect(getLogStats().rotations).toBeGreaterThan(3);
    });
  }
});

describe('content redaction', () => {
  it('keeps prompt text out of logs by default', async () => {
    const file = path.join(tempDir(), 'content.log');
    configureLogging({ level: 'info', console: false, file });
    logContent('info', 'generation', 'prompt', 'the secret prompt text');
    await flushLogs();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('the secret prompt text');
    expect(text).toContain('prompt: [redacted 22 bytes');
    configureLogging({ logContent: true });
    logContent('info', 'generation', 'prompt', 'the secret prompt text');
    await flushLogs();
    expect(fs.readFileSync(file, 'utf8')).toContain('prompt: the secret prompt text');
  });
});

describe('the JS handler', () => {
  it('receives native records on the main thread', async () => {
    const records: LogRecord[] = [];
    configureLogging({ level: 'info', console: false, handler: (r) => records.push(r) });
    native()._test.logFromNativeThread(50, 2, 4);
    await flushLogs();
    expect(records.length).toBe(50);
    expect(records[0]).toMatchObject({ level: 'info', category: 'generation', message: 'native thread record 0' });
    expect(typeof records[0].timeNs).toBe('bigint');
  });

  it('never blocks a native thread: what overflows is counted and reported', async () => {
    const file = path.join(tempDir(), 'overflow.log');
    const records: LogRecord[] = [];
    configureLogging({ level: 'info', console: false, file, handler: (r) => records.push(r), handlerQueueLimit: 16, queueCapacity: 64 });
    const before = getLogStats();
    // The main thread is busy (it waits in pthread_join) while the native
    // thread logs: nothing on the JS side can drain anything meanwhile.
    const ns = native()._test.logFromNativeThread(20000, 2, 0);
    await flushLogs(5000);
    const after = getLogStats();
    const accepted = after.accepted - before.accepted;
    const droppedQueue = after.droppedQueue - before.droppedQueue;
    const droppedHandler = after.droppedHandler - before.droppedHandler;
    expect(accepted + droppedQueue).toBe(20000);
    expect(droppedHandler).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(20000);
    if (droppedQueue > 0) {
      expect(fs.readFileSync(file, 'utf8')).toMatch(/log records were dropped because the log queue \(capacity 64\) was full/);
    }
    expect(ns / 1e6).toBeLessThan(5000); // finished on its own; a blocked thread would hang here
  });
});

describe('configuration errors', () => {
  it('an unwritable file gives HYPERION_IO and keeps the old setup', async () => {
    const file = path.join(tempDir(), 'ok.log');
    configureLogging({ level: 'info', console: false, file });
    expect(() => configureLogging({ file: '/nonexistent-hyperion-dir/x.log' })).toThrow(expect.objectContaining({ code: 'HYPERION_IO', field: 'file' }));
    log('info', 'general', 'still here');
    await flushLogs();
    expect(fs.readFileSync(file, 'utf8')).toContain('still here');
  });

  it('names bad fields', () => {
    expect(() => configureLogging({ categories: { memroy: 'info' } as never })).toThrow(expect.objectContaining({ field: 'categories.memroy' }));
    expect(() => configureLogging({ rotation: { maxSizeMb: 1, maxFiles: 0 } })).toThrow(expect.objectContaining({ field: 'rotation.maxFiles' }));
    expect(() => configureLogging({ console: { format: 'xml' as never } })).toThrow(expect.objectContaining({ field: 'console.format' }));
    expect(() => configureLogging({ queueCapacity: 1.5 })).toThrow(expect.objectContaining({ field: 'queueCapacity' }));
    expect(() => configureLogging({ handler: 'nope' as never })).toThrow(expect.objectContaining({ field: 'handler' }));
  });
});
