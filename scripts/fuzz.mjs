// `npm run fuzz -- <target> <seconds> [options] [-- libFuzzer args]`: builds the
// fuzz targets (clang + libFuzzer, ASan + UBSan) into build-fuzz/, writes the
// seed corpora, runs one target for the time given and prints executions per
// second and the corpus size. `all` runs every target for <seconds> each (CI).
//
//   targets: gguf, gguf-struct, gguf-reports, tokenizer, sampler, stop (libFuzzer, fuzz/*.c)
//            chat-template (a JavaScript loop, fuzz/chat-template.mjs)
//   options: --canaries     serve blocks from the pool with canaries instead of
//                           the default guard pages (every block of the runtime's
//                           allocator on its own pages, end-aligned, so a read or
//                           write one byte past it faults; about as fast here);
//                           canaries also see writes just before a block
//            --fresh        start from the seeds only (forget build-fuzz/corpus/<target>)
//            --no-build     use the binaries and seeds as they are (parallel runs)
//            --seed N       chat-template: the random seed
//
// The corpus a run grows is kept in build-fuzz/corpus/<target> and reused by
// the next run. A crash, an invariant broken, a leak, a hang (> 10 s on one
// input) or an out-of-memory (> 2 GiB) stops the run with exit status 1; the
// input is in build-fuzz/artifacts/<target>/ and the script prints how to
// reproduce it and where to add it as a regression test (test/regressions/).
// Needs clang and libFuzzer: on Debian `apt-get install clang libclang-rt-14-dev`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'build-fuzz');
const TARGETS = {
  gguf: { binary: 'fuzz_gguf', seeds: 'gguf', dict: 'fuzz/gguf.dict' },
  'gguf-struct': { binary: 'fuzz_gguf_struct', seeds: 'gguf', dict: 'fuzz/gguf.dict' },
  'gguf-reports': { binary: 'fuzz_gguf_reports', seeds: 'gguf', dict: 'fuzz/gguf.dict', regressions: 'gguf-reports' },
  tokenizer: { binary: 'fuzz_tokenizer', seeds: 'tokenizer', needsVocab: true },
  sampler: { binary: 'fuzz_sampler', seeds: 'sampler' },
  stop: { binary: 'fuzz_stop', seeds: 'stop' },
  'chat-template': { js: 'fuzz/chat-template.mjs' },
};

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const extra = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const args = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--seed'));
const [targetName, secondsText] = positional;

function usage(message) {
  if (message) console.error(`fuzz: ${message}`);
  console.error(`usage: npm run fuzz -- <${Object.keys(TARGETS).join('|')}|all> <seconds> [--canaries] [--fresh] [--no-build] [--seed N] [-- libFuzzer args]`);
  process.exit(2);
}

if (!targetName || !(targetName in TARGETS || targetName === 'all')) usage(targetName ? `unknown target "${targetName}"` : 'no target');
const seconds = Number(secondsText ?? 60);
if (!Number.isFinite(seconds) || seconds <= 0) usage(`bad duration "${secondsText}"`);

const sharedDir = process.env.HYPERION_SHARED_DIR || path.resolve(root, '..', 'shared');
const haveVocab = fs.existsSync(path.join(sharedDir, 'vocab', 'ggml-vocab-llama-spm.gguf')) && fs.existsSync(path.join(sharedDir, 'vocab', 'ggml-vocab-gpt-2.gguf'));

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: opts.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', env: { ...process.env, ...opts.env } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function build(binaries) {
  if (spawnSync('clang', ['--version'], { stdio: 'ignore' }).status !== 0)
    throw new Error('clang is not installed (Debian: apt-get install clang libclang-rt-14-dev)');
  const jobs = String(Math.max(1, Math.min(4, Number(process.env.JOBS) || 2)));
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt'))) {
    const r = run('cmake', ['-S', '.', '-B', buildDir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DCMAKE_C_COMPILER=clang',
      '-DCMAKE_CXX_COMPILER=clang++', '-DHYPERION_FUZZ=ON', '-DHYPERION_BUILD_TESTS=OFF', '--log-level=WARNING']);
    if (r.status !== 0) throw new Error('configuring build-fuzz failed');
  }
  const r = run('cmake', ['--build', buildDir, '-j', jobs, '--target', 'fuzz_seeds', ...binaries]);
  if (r.status !== 0) throw new Error('building the fuzz targets failed (is libclang-rt-14-dev installed? it holds libFuzzer)');
  const seeds = run(path.join(buildDir, 'fuzz_seeds'), [path.join(buildDir, 'seeds')], { quiet: true, env: { HYPERION_SHARED_DIR: sharedDir } });
  if (seeds.status !== 0) throw new Error(`writing the seeds failed:\n${seeds.stderr}`);
}

function summarize(log) {
  const num = (re) => {
    const m = re.exec(log);
    return m ? Number(m[1]) : undefined;
  };
  // the final line, or (a run stopped by a finding) the last status line
  const status = [...log.matchAll(/#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+) corp: (\d+)\/(\d+\w*)/g)];
  const done = status.length ? status[status.length - 1] : null;
  return {
    execs: num(/stat::number_of_executed_units: (\d+)/) ?? (done ? Number(done[1]) : undefined),
    execsPerSec: num(/stat::average_exec_per_sec:\s+(\d+)/),
    rssMb: num(/stat::peak_rss_mb:\s+(\d+)/),
    coverage: done ? Number(done[2]) : undefined,
    features: done ? Number(done[3]) : undefined,
    corpus: done ? Number(done[4]) : undefined,
    corpusBytes: done ? done[5] : undefined,
  };
}

function fuzzNative(name, t, secs) {
  const corpus = path.join(buildDir, 'corpus', name);
  const artifacts = path.join(buildDir, 'artifacts', name);
  const logs = path.join(buildDir, 'logs');
  if (flag('--fresh')) fs.rmSync(corpus, { recursive: true, force: true });
  for (const d of [corpus, artifacts, logs]) fs.mkdirSync(d, { recursive: true });
  const logFile = path.join(logs, `${name}.log`);
  const fuzzArgs = [corpus, path.join(buildDir, 'seeds', t.seeds), `-max_total_time=${secs}`, '-print_final_stats=1',
    `-artifact_prefix=${artifacts}/`, '-timeout=10', '-rss_limit_mb=2048', '-malloc_limit_mb=2048', '-use_value_profile=1'];
  if (t.dict) fuzzArgs.push(`-dict=${path.join(root, t.dict)}`);
  fuzzArgs.push(...extra);
  const env = {
    ...process.env,
    HYPERION_SHARED_DIR: sharedDir,
    // a 64 MiB quarantine (ASan's default is 256): RSS then stays near 100-450 MB
    // instead of climbing with the number of executions on a shared machine
    ASAN_OPTIONS: ['detect_leaks=1', 'allocator_may_return_null=1', 'quarantine_size_mb=64', process.env.ASAN_OPTIONS].filter(Boolean).join(':'),
    UBSAN_OPTIONS: ['print_stacktrace=1', 'halt_on_error=1', process.env.UBSAN_OPTIONS].filter(Boolean).join(':'),
    HYPERION_FUZZ_GUARD: flag('--canaries') ? '0' : '1',
  };
  console.log(`\n=== fuzz ${name}: ${secs} s, ${flag('--canaries') ? 'pooled blocks with canaries' : 'guard pages on every block'}; log in ${path.relative(root, logFile)}`);
  const before = new Set(fs.readdirSync(artifacts));
  return new Promise((resolve) => {
    const child = spawn(path.join(buildDir, t.binary), fuzzArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = fs.createWriteStream(logFile);
    let log = '';
    let lastPulse = 0;
    const onData = (chunk) => {
      const text = chunk.toString();
      out.write(text);
      log += text;
      if (log.length > 4_000_000) log = log.slice(-2_000_000);
      // a status line about every 30 s, and anything that looks like trouble
      for (const line of text.split('\n')) {
        if (/==\d+==\s*ERROR|invariant broken|SUMMARY:|Test unit written|deadly signal|LeakSanitizer|ALARM|out-of-memory/.test(line)) console.log(line);
        else if (/^#\d+\s+(pulse|NEW|REDUCE).*exec\/s/.test(line) && Date.now() - lastPulse > 30_000) {
          lastPulse = Date.now();
          console.log(line);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code, signal) => {
      out.end();
      const s = summarize(log);
      const found = fs.readdirSync(artifacts).filter((f) => !before.has(f));
      const ok = code === 0 && found.length === 0;
      console.log(`fuzz ${name}: ${secs} s, ${s.execs ?? '?'} executions, ${s.execsPerSec ?? '?'} exec/s, ` +
        `corpus ${s.corpus ?? '?'} inputs (${s.corpusBytes ?? '?'}), coverage ${s.coverage ?? '?'} edges / ${s.features ?? '?'} features, ` +
        `peak RSS ${s.rssMb ?? '?'} MB: ${ok ? 'no crash, hang, leak or broken invariant' : `FAILED (exit ${code}${signal ? `, ${signal}` : ''})`}`);
      for (const f of found) {
        const p = path.join(artifacts, f);
        console.log(`  reproducer: ${path.relative(root, p)}\n    rerun:  HYPERION_SHARED_DIR=${sharedDir} ${path.relative(root, path.join(buildDir, t.binary))} ${path.relative(root, p)}` +
          `\n    keep:   cp ${path.relative(root, p)} test/regressions/${t.regressions ?? t.seeds}/<what-it-broke>   (replayed by the native suite)`);
      }
      resolve({ name, ok, ...s, seconds: secs });
    });
  });
}

function fuzzJs(name, t, secs) {
  console.log(`\n=== fuzz ${name}: ${secs} s`);
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'chat.js'))) {
    const r = run(process.execPath, [path.join(root, 'scripts', 'build-ts.mjs')]);
    if (r.status !== 0) return { name, ok: false };
  }
  const jsArgs = [path.join(root, t.js), String(secs)];
  if (option('--seed')) jsArgs.push('--seed', option('--seed'));
  jsArgs.push(...extra);
  const r = spawnSync(process.execPath, jsArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  const m = /(\d+) renders \((\d+)\/s\), corpus (\d+) inputs/.exec(r.stdout ?? '');
  return { name, ok: r.status === 0, execs: m ? Number(m[1]) : undefined, execsPerSec: m ? Number(m[2]) : undefined, corpus: m ? Number(m[3]) : undefined, seconds: secs };
}

async function main() {
  const names = targetName === 'all' ? Object.keys(TARGETS) : [targetName];
  const native = names.filter((n) => TARGETS[n].binary && (!TARGETS[n].needsVocab || haveVocab));
  if (native.length && !flag('--no-build')) build(native.map((n) => TARGETS[n].binary));
  const results = [];
  for (const n of names) {
    const t = TARGETS[n];
    if (t.needsVocab && !haveVocab) {
      console.log(`\n=== fuzz ${n}: skipped: the shared vocabularies are not in ${sharedDir}/vocab (set HYPERION_SHARED_DIR)`);
      continue;
    }
    results.push(t.js ? fuzzJs(n, t, seconds) : await fuzzNative(n, t, seconds));
  }
  if (results.length > 1) {
    console.log('\nfuzz summary:');
    for (const r of results)
      console.log(`  ${r.name.padEnd(14)} ${r.ok ? 'ok    ' : 'FAILED'} ${String(r.execs ?? '?').padStart(9)} execs ${String(r.execsPerSec ?? '?').padStart(6)}/s  corpus ${r.corpus ?? '?'}`);
  }
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main().catch((e) => {
  console.error(`fuzz: ${e.message}`);
  process.exit(1);
});
