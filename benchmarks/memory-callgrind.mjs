// benchmarks/memory-callgrind.mjs — what the memory debugger costs, counted in
// instructions instead of seconds, so the figure holds on a busy machine.
//
//   node benchmarks/memory-callgrind.mjs [--model file.gguf] [--tokens 32] [--out file.json]
//
// For each memory mode (off, tracking, stacks) it runs one generation (a short
// prompt, then --tokens greedy tokens, one thread) in a child process under
// `valgrind --tool=callgrind`, counting only the instructions executed inside
// hy_generate (the native generation thread: prompt processing, decode,
// sampling, and every allocation they make), and prints the overhead of each
// mode against "off". callgrind counts the same total for the same binary and
// inputs whatever else the machine is doing; it does not see cache misses or
// lock contention, so it complements benchmarks/memory.mjs (wall/CPU time)
// rather than replacing it. Needs valgrind (Debian package `valgrind`).
// Without --model it makes the 'tiny' q4_0 model (the smallest shape: the
// allocator's share of the work is largest there, so this is the pessimistic case).
// Measures and prints; asserts nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string', default: '32' },
    out: { type: 'string', default: path.join(here, 'results', 'memory-callgrind.json') },
    child: { type: 'string' },
  },
});

const MODES = { off: {}, tracking: { trackAllocations: true }, stacks: { trackStackTraces: true } };
const h = require(path.join(root, 'dist', 'cjs', 'index.js'));

// ---- child: one generation in one mode -------------------------------------------
if (values.child) {
  const [mode, model, tokens] = JSON.parse(values.child);
  h.initMemory({ reset: true, ...MODES[mode] });
  const m = await h.loadModel(model, { threads: 1 });
  const s = m.createSession({ contextSize: 256 });
  const r = await s.complete([1, 5, 9, 11], { maxTokens: tokens, temperature: 0 });
  await s.dispose();
  await m.dispose();
  process.stdout.write(JSON.stringify({ generated: r.tokens.length }));
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------
if (spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status !== 0) {
  console.error('memory-callgrind: valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}
let model = values.model;
if (!model) {
  model = path.join(os.tmpdir(), 'hyperion-callgrind-tiny-q4_0.gguf');
  if (!fs.existsSync(model)) await h.makeModel(model, { shape: 'tiny', type: 'q4_0', seed: 1 });
}
const tokens = Number(values.tokens);
const outFile = (mode) => path.join(os.tmpdir(), `hyperion-callgrind-${process.pid}-${mode}.out`);
const rows = [];
for (const mode of Object.keys(MODES)) {
  process.stderr.write(`running ${mode} under callgrind...\n`);
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${outFile(mode)}`, '--toggle-collect=hy_generate',
     process.execPath, fileURLToPath(import.meta.url), '--child', JSON.stringify([mode, model, tokens])],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const collected = /Collected\s*:\s*(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !collected) {
    console.error(`memory-callgrind: the ${mode} run failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-2000)}`);
    process.exit(1);
  }
  fs.rmSync(outFile(mode), { force: true });
  rows.push({ mode, instructions: Number(collected[1]), generated: JSON.parse(r.stdout).generated });
}
const base = rows[0].instructions;
console.log(`\nInstructions inside hy_generate: ${path.basename(model)}, 4-token prompt + ${tokens} tokens, 1 thread`);
console.log('mode        instructions   per token     vs off');
for (const r of rows) {
  r.overheadPercent = ((r.instructions - base) / base) * 100;
  console.log(`${r.mode.padEnd(10)} ${String(r.instructions).padStart(13)} ${String(Math.round(r.instructions / (r.generated + 4))).padStart(11)} ${(r.overheadPercent >= 0 ? '+' : '') + r.overheadPercent.toFixed(2)}%`);
}
fs.mkdirSync(path.dirname(values.out), { recursive: true });
fs.writeFileSync(values.out, JSON.stringify({ model: path.basename(model), tokens, rows, when: new Date().toISOString() }, null, 2));
console.log(`\nJSON: ${path.relative(process.cwd(), values.out)}`);
