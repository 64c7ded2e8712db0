// cli/demo.ts — `hyperion demo`: the README's main-job command. It makes (or
// reuses) a small random-weight model with the project's own model maker,
// loads it with memory tracking and the profiler on, streams a generation, and
// prints the memory report, the leak check, the hotspot table and the files it
// wrote. Every figure it prints is computed by this run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from './main';
import { EXIT } from './exit-codes';
import { version, getCpuFeatures } from '../system';
import { makeModel } from '../maker';
import { loadModel } from '../model';
import { initMemory, getHeapStats, checkMemoryLeaks, getMemoryDebugInfo, MEMORY_TAGS } from '../memory';
import { initProfiler, startProfiling, stopProfiling, saveProfile, getHotspots } from '../profiler';
import { bytes, table } from './format';
import { progress } from './progress';

/** The folder the demo caches its model in and writes its reports to. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'hyperion-runtime');
}

const DEMO_SHAPE = 'tiny';
const DEMO_TYPE = 'q4_k_m';
const DEMO_PROMPT = 'Once upon a time';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'make a small model and show generation, the memory debugger and the profiler working on it',
  usage: 'hyperion demo [--cache <dir>] [--tokens N] [--json]',
  details:
    'Makes (once; cached) a random-weight llama model with the project\'s own model maker, loads it with allocation\n' +
    'tracking and the profiler on, streams a generation, then prints the memory report, the leak check, the hotspot\n' +
    'table, and the paths of the profile and leak report it wrote. The model\'s weights are random: its text is noise.',
  options: { cache: { type: 'string' }, tokens: { type: 'string' } },
  async run(ctx) {
    const cacheDir = path.resolve((ctx.values.cache as string | undefined) ?? defaultCacheDir());
    const maxTokens = ctx.values.tokens === undefined ? 48 : Number(ctx.values.tokens);
    fs.mkdirSync(cacheDir, { recursive: true });
    const modelPath = path.join(cacheDir, `demo-${DEMO_SHAPE}-${DEMO_TYPE}.gguf`);
    const profilePath = path.join(cacheDir, 'demo-profile.json');
    const leakPath = path.join(cacheDir, 'demo-leaks.json');
    const say = (line: string) => {
      if (!ctx.json) ctx.out(line);
    };

    say(`Hyperion Runtime ${version} — demo`);
    say('The demo model has RANDOM weights: it shows the runtime working, and the text it generates is noise.\n');

    // 1. the model: made once by the project's own model maker, then reused
    let made: { ms: number } | null = null;
    if (!fs.existsSync(modelPath)) {
      const bar = progress(`making the ${DEMO_SHAPE} ${DEMO_TYPE} model`, process.stderr, ctx.json);
      made = await makeModel(modelPath, { shape: DEMO_SHAPE, type: DEMO_TYPE, seed: 1, onProgress: (d, t) => bar.update(d, t) });
      bar.done();
    }
    say(`Model    ${modelPath} (${made ? `made in ${(made.ms / 1000).toFixed(2)} s` : 'reused from the cache'})`);

    // 2. the debugger and the profiler on, then the model
    initMemory({ trackAllocations: true, trackStackTraces: true });
    const since = getMemoryDebugInfo().nextSequence;
    initProfiler({ trackMemory: true, sampleIntervalMs: 5, bufferEvents: 16384 });
    startProfiling();
    const model = await loadModel(modelPath);
    const cpu = getCpuFeatures();
    say(`Loaded   ${model.info.architecture}, ${model.info.parameters.toLocaleString('en-US')} parameters, ${model.info.layers} layers, ` +
      `vocabulary ${model.info.vocabSize}, ${model.info.threads} threads, kernels ${cpu.kernels.matmul ?? cpu.bestIsa} (${model.info.loadMs.toFixed(1)} ms)`);

    // 3. a streamed generation
    say(`\nPrompt   "${DEMO_PROMPT}"`);
    if (!ctx.json) process.stdout.write('Output   ');
    const session = model.createSession({ contextSize: 256 });
    const stream = session.generate(DEMO_PROMPT, { maxTokens, temperature: 0.8, seed: 42, stop: [] });
    for await (const piece of stream) {
      if (!ctx.json) process.stdout.write(piece.text.replace(/\n/g, ' '));
    }
    const result = await stream.result;
    if (!ctx.json) process.stdout.write('\n');
    const s = result.stats;
    say(`Speed    prompt ${s.processedTokens} tokens at ${s.promptTokensPerSecond.toFixed(0)} tok/s, ${s.generatedTokens} tokens generated at ` +
      `${s.decodeTokensPerSecond.toFixed(0)} tok/s, first token after ${s.timeToFirstTokenMs?.toFixed(1) ?? '-'} ms (stop: ${result.stopReason})`);

    // 4. the profile
    await stopProfiling();
    const saved = await saveProfile(profilePath, { format: 'both' });
    const hotspots = await getHotspots(8);

    // 5. memory: the report while the model is loaded, then the leak check after dispose
    const heap = getHeapStats();
    await session.dispose();
    await model.dispose();
    // what the model and the generation left: the runtime's own long-lived buffers (the profiler's recorded
    // zones, the log queue, the debugger's tables) are not theirs
    const leaks = checkMemoryLeaks({ sinceSequence: since, tags: MEMORY_TAGS.filter((t) => !['profiler', 'logging', 'memory-debugger'].includes(t)) });
    fs.writeFileSync(leakPath, JSON.stringify({ modelLeakCheck: model.lastLeakReport, sinceDemoStart: leaks }, null, 2));

    if (ctx.json) {
      ctx.out(JSON.stringify({
        version,
        randomWeights: true,
        model: { path: modelPath, info: model.info },
        prompt: DEMO_PROMPT,
        text: result.text,
        stats: result.stats,
        stopReason: result.stopReason,
        memory: heap,
        leaks: { bytes: leaks.bytes, blocks: leaks.blocks, groups: leaks.groups, model: model.lastLeakReport },
        hotspots,
        files: { profile: saved.trace, summary: saved.summary, leakReport: leakPath },
      }, null, 2));
      return EXIT.ok;
    }

    ctx.out('\nMemory (while the model was loaded)');
    ctx.out(`  in use ${bytes(heap.inUseBytes)} (peak ${bytes(heap.peakBytes)}), reserved ${bytes(heap.reservedBytes)}, ` +
      `model weights mapped ${bytes(heap.mappedBytes)}${heap.rss ? `, process RSS ${bytes(heap.rss.bytes)}` : ''}`);
    ctx.out(`  fragmentation: inside blocks ${(heap.fragmentation.internal * 100).toFixed(1)}%, between free blocks ` +
      `${(heap.fragmentation.external * 100).toFixed(1)}%, reserved but unused ${(heap.fragmentation.reserved * 100).toFixed(1)}%`);
    const tags = Object.entries(heap.byTag).filter(([, u]) => u && u.bytes > 0).sort((a, b) => b[1]!.bytes - a[1]!.bytes);
    ctx.out(table(['tag', 'in use', 'blocks', 'peak'], tags.map(([t, u]) => [t, bytes(u!.bytes), u!.blocks, bytes(u!.peakBytes)])).replace(/^/gm, '  '));

    ctx.out('\nLeak check (after dispose)');
    const modelLeaks = model.lastLeakReport;
    ctx.out(`  the model left ${modelLeaks ? `${modelLeaks.bytes} bytes in ${modelLeaks.blocks} blocks` : 'nothing to report'} behind; ` +
      `allocations since the demo started still live: ${leaks.blocks} blocks, ${bytes(leaks.bytes)}`);
    if (leaks.text) ctx.out(leaks.text.split('\n').slice(0, 12).map((l) => `  ${l}`).join('\n'));

    ctx.out('\nHotspots (self time)');
    ctx.out(table(['op', 'type', 'calls', 'self ms', 'share', 'bound'], hotspots.map((h) => [
      h.name, h.type ?? '', h.calls, Number(h.selfMs.toFixed(2)), `${(h.share * 100).toFixed(1)}%`, h.bound,
    ])).replace(/^/gm, '  '));
    if (hotspots[0]) ctx.out(`  ${hotspots[0].recommendation}`);

    ctx.out('\nFiles');
    if (saved.trace) ctx.out(`  profile (Chrome trace: Perfetto, chrome://tracing, speedscope): ${saved.trace}`);
    if (saved.summary) ctx.out(`  profile summary: ${saved.summary}`);
    ctx.out(`  leak report: ${leakPath}`);
    return EXIT.ok;
  },
};
