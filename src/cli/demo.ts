// cli/demo.ts — `hyperion demo`: the README's main-job command. It shows what
// this build can do on a built-in default, computing every figure it prints.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from './main';
import { version, nativeVersion, getCpuFeatures } from '../system';
import { configureLogging, flushLogs, getLogStats, log, logContent } from '../logging';
import { HyperionError } from '../errors';
import { native } from '../native';

/** The folder the demo writes to (and, once models exist, caches them in). */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'hyperion-runtime');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'show the runtime working on a built-in default',
  usage: 'hyperion demo [--cache <dir>] [--json]',
  details:
    'Detects the CPU and the kernels chosen for it, runs the logging pipeline into a JSON log file and reads it back,\n' +
    'shows a typed error, and reports the native memory in use. Model loading and generation are not part of this\n' +
    'build yet; the demo says so rather than pretend.',
  options: { cache: { type: 'string' } },
  async run(ctx) {
    const cacheDir = path.resolve((ctx.values.cache as string | undefined) ?? defaultCacheDir());
    fs.mkdirSync(cacheDir, { recursive: true });
    const logPath = path.join(cacheDir, 'demo-log.jsonl');
    fs.rmSync(logPath, { force: true });

    // 1. CPU and kernels
    const cpu = getCpuFeatures();
    const simd = ['sse42', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512vnni', 'neon', 'dotprod']
      .filter((k) => (cpu as unknown as Record<string, boolean>)[k]);

    // 2. Logging: JS and native records through one pipeline into a JSON file
    const handled: string[] = [];
    configureLogging({
      level: 'info',
      console: false,
      file: { path: logPath, format: 'json' },
      handler: (r) => handled.push(r.level),
    });
    log('info', 'general', `demo started (hyperion ${version})`);
    logContent('info', 'generation', 'prompt', 'a prompt that must not appear in the log');
    const records = 200;
    const nativeNs = native()._test.logFromNativeThread(records, 2, 2) as number;
    await flushLogs();
    const lines = fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; category: string; time: string; thread: number; message: string });
    const redacted = !lines.some((l) => l.includes('must not appear'));
    const stats = getLogStats();
    configureLogging({ file: null, console: true, level: 'warn', handler: null });

    // 3. A typed error, as a caller sees it
    let errorShown: { code: string; field: unknown; message: string } | undefined;
    try {
      configureLogging({ level: 'loud' as never });
    } catch (e) {
      if (e instanceof HyperionError) errorShown = { code: e.code, field: e.field, message: e.message };
    }

    // 4. Native memory the runtime holds right now
    const mem = native().memoryStats ? native().memoryStats() : undefined;

    const result = {
      version,
      nativeVersion: nativeVersion(),
      cpu: { model: cpu.modelName, arch: cpu.arch, logicalCores: cpu.logicalCores, physicalCores: cpu.physicalCores, simd, kernels: cpu.kernels },
      logging: {
        file: logPath,
        linesWritten: lines.length,
        allParse: parsed.length === lines.length,
        fromNativeThread: parsed.filter((p) => p.message.startsWith('native thread record')).length,
        nativeThreadMs: nativeNs / 1e6,
        handlerReceived: handled.length,
        promptRedacted: redacted,
        dropped: stats.droppedQueue + stats.droppedHandler,
      },
      error: errorShown,
      memory: mem,
      model: 'not available in this build: model loading and generation have not landed yet',
    };
    if (ctx.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return 0;
    }
    ctx.out(`Hyperion Runtime ${version} — demo`);
    ctx.out('');
    ctx.out(`CPU      ${cpu.modelName || 'unknown'} (${cpu.arch}, ${cpu.logicalCores} logical / ${cpu.physicalCores} physical cores)`);
    ctx.out(`SIMD     ${simd.join(' ') || 'none'}`);
    ctx.out(`Kernels  ${Object.entries(cpu.kernels).map(([g, isa]) => `${g} → ${isa}`).join(', ')}`);
    ctx.out('');
    ctx.out(`Logging  ${lines.length} JSON lines written to ${logPath}; all parse: ${result.logging.allParse ? 'yes' : 'NO'}`);
    ctx.out(`         ${result.logging.fromNativeThread} of ${records} came from a native thread, which spent ${result.logging.nativeThreadMs.toFixed(2)} ms logging them`);
    ctx.out(`         the JS handler received ${handled.length}; dropped ${result.logging.dropped}; prompt text redacted: ${redacted ? 'yes' : 'NO'}`);
    if (errorShown) ctx.out(`Errors   configureLogging({ level: 'loud' }) threw HyperionError ${errorShown.code} naming field "${String(errorShown.field)}"`);
    if (mem) ctx.out(`Memory   ${mem.inUseBytes} bytes of native memory in ${mem.activeAllocations} blocks; peak ${mem.peakBytes} bytes`);
    ctx.out('');
    ctx.out(`Model    ${result.model}.`);
    return 0;
  },
};
