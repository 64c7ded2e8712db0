// `npm run test:asan-addon`: the addon's vitest suite once under
// AddressSanitizer + UndefinedBehaviorSanitizer, with leak detection.
//
// 1. Builds the addon (C core + addon, -fsanitize=address,undefined) with
//    cmake-js into build-asan-addon/ — a folder node-gyp-build never looks in,
//    so a normal `require` of the package can never pick this build up.
// 2. Builds a tiny leaking Node-API module (scripts/asan/leak-canary.c).
// 3. Runs vitest (scripts/asan/vitest.config.mts: the normal suite minus
//    test/prebuild.test.ts, plus the canary) with
//      LD_PRELOAD=<gcc's libasan.so>   node itself is not instrumented: the ASan
//                                      runtime must be loaded before anything else
//                                      in the process, so it can take over malloc;
//      NODE_OPTIONS=--require scripts/asan/preload.cjs
//                                      hands out the sanitized addon, and lets
//                                      vitest's workers exit so the leak check runs;
//      ASAN_OPTIONS=detect_leaks=1     LeakSanitizer at every process exit,
//        allow_user_segv_handler=1     V8 and the memory debugger's guard pages
//                                      install SIGSEGV handlers; ASan would
//                                      otherwise refuse them (and V8's wasm trap
//                                      handling, the debugger's fault reports break),
//        log_path=build-asan-addon/run/asan    one report file per process, read
//                                      afterwards (vitest does not see a worker's
//                                      exit status once it has stopped it).
//      LSAN_OPTIONS=suppressions=scripts/asan/lsan.supp   (leak suppressions belong
//                                      to LSAN_OPTIONS; in ASAN_OPTIONS they make
//                                      every process fail at start: each entry is
//                                      named and justified in the file)
//    verify_asan_link_order=0 is not needed: with LD_PRELOAD the runtime is first.
// 4. Waits for every process of the run to finish its leak check, then reads
//    the reports: any ASan error, UBSan error or leak in a process that loaded
//    the addon fails the run; the canary's leak must be reported (else the
//    check did not run and the result would mean nothing). Reports from
//    processes that never loaded the addon (vitest's own main process) are
//    listed but do not fail the run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'build-asan-addon');
const runDir = path.join(outDir, 'run');
const jobs = String(Math.max(1, Math.min(4, Number(process.env.JOBS) || 2)));
const vitestArgs = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function step(title) {
  console.log(`\n=== ${title}`);
}

function asanRuntime() {
  const r = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const lib = (r.stdout ?? '').trim();
  if (r.status !== 0 || !path.isAbsolute(lib) || !fs.existsSync(lib))
    throw new Error('gcc has no AddressSanitizer runtime (libasan.so); on Debian it comes with gcc (libasan8)');
  return lib;
}

function buildAddon() {
  step('sanitized addon (cmake-js, build-asan-addon/)');
  const cmakeJs = path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const r = run(process.execPath, [cmakeJs, 'compile', '--out', outDir, '--CDHYPERION_SANITIZE=ON', '--CDHYPERION_BUILD_TESTS=OFF',
    '--CDCMAKE_BUILD_TYPE=RelWithDebInfo', '--parallel', jobs, '--log-level', 'warn']);
  const addon = path.join(outDir, 'Release', 'hyperion.node');
  if (r.status !== 0 || !fs.existsSync(addon)) throw new Error('the sanitized addon did not build');
  return addon;
}

function buildCanary() {
  const src = path.join(root, 'scripts', 'asan', 'leak-canary.c');
  const out = path.join(outDir, 'leak-canary.node');
  const headers = [path.join(root, 'node_modules', 'node-api-headers', 'include'), path.join(path.dirname(process.execPath), '..', 'include', 'node')]
    .find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!headers) throw new Error('node_api.h not found (node-api-headers is installed with cmake-js)');
  const r = run('gcc', ['-shared', '-fPIC', '-O1', '-g', '-fsanitize=address', `-I${headers}`, src, '-o', out]);
  if (r.status !== 0) throw new Error('the leak canary did not build');
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForProcesses(pids, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    left = left.filter(alive);
  }
  return left;
}

// One report file per process that had something to say: leak blocks, other errors.
function readReports(pidInfo) {
  const reports = [];
  for (const f of fs.readdirSync(runDir)) {
    const m = /^(asan|ubsan)\.(\d+)$/.exec(f);
    if (!m) continue;
    const pid = Number(m[2]);
    const text = fs.readFileSync(path.join(runDir, f), 'utf8');
    const leaks = text.split(/\n(?=(?:Direct|Indirect) leak of )/).filter((b) => /^(Direct|Indirect) leak of /.test(b));
    const canary = leaks.filter((b) => /leak-canary/.test(b) && /4242 byte/.test(b));
    reports.push({
      file: path.relative(root, path.join(runDir, f)),
      pid,
      addon: pidInfo.get(pid)?.addon ?? false,
      what: pidInfo.get(pid)?.what ?? 'unknown process',
      leaks: leaks.filter((b) => !canary.includes(b)),
      canary: canary.length,
      errors: (text.match(/ERROR: AddressSanitizer[^\n]*|runtime error:[^\n]*/g) ?? []),
      suppressed: (/Suppressions used:\n[\s\S]*?\n\n/.exec(text)?.[0] ?? '').trim(),
    });
  }
  return reports;
}

async function main() {
  const lib = asanRuntime();
  const addon = buildAddon();
  const canary = buildCanary();
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'))) {
    step('TypeScript');
    if (run(process.execPath, [path.join(root, 'scripts', 'build-ts.mjs')]).status !== 0) throw new Error('the TypeScript did not build');
  }

  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(runDir, 'pids'), { recursive: true });
  step('vitest under ASan + UBSan (addon from build-asan-addon/, LD_PRELOAD libasan)');
  const env = {
    ...process.env,
    LD_PRELOAD: [lib, process.env.LD_PRELOAD].filter(Boolean).join(':'),
    NODE_OPTIONS: [`--require ${path.join(root, 'scripts', 'asan', 'preload.cjs')}`, process.env.NODE_OPTIONS].filter(Boolean).join(' '),
    HYPERION_ASAN_ADDON: addon,
    HYPERION_ASAN_CANARY: canary,
    HYPERION_ASAN_RUN: runDir,
    ASAN_OPTIONS: ['detect_leaks=1', 'allow_user_segv_handler=1', `log_path=${path.join(runDir, 'asan')}`].join(':'),
    LSAN_OPTIONS: [`suppressions=${path.join(root, 'scripts', 'asan', 'lsan.supp')}`, 'print_suppressions=1'].join(':'),
    UBSAN_OPTIONS: ['print_stacktrace=1', 'halt_on_error=1', `log_path=${path.join(runDir, 'ubsan')}`].join(':'),
  };
  const results = path.join(runDir, 'vitest.json');
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const r = run(process.execPath, [vitest, 'run', '--config', path.join(root, 'scripts', 'asan', 'vitest.config.mts'),
    '--reporter=default', '--reporter=json', `--outputFile=${results}`, ...vitestArgs], { env });

  // every process of the run must have finished its leak check
  const pidInfo = new Map();
  for (const f of fs.readdirSync(path.join(runDir, 'pids'))) {
    const pid = Number(f.replace('.addon', ''));
    const entry = pidInfo.get(pid) ?? { addon: false, what: '' };
    if (f.endsWith('.addon')) entry.addon = true;
    else entry.what = fs.readFileSync(path.join(runDir, 'pids', f), 'utf8');
    pidInfo.set(pid, entry);
  }
  const stuck = await waitForProcesses([...pidInfo.keys()], 120_000);

  const problems = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (fs.existsSync(results)) {
    const res = JSON.parse(fs.readFileSync(results, 'utf8'));
    passed = res.numPassedTests;
    failed = res.numFailedTests;
    skipped = res.numPendingTests + (res.numTodoTests ?? 0);
    for (const f of res.testResults ?? [])
      if (f.status === 'failed' && (f.assertionResults ?? []).every((a) => a.status !== 'failed'))
        problems.push(`${path.relative(root, f.name)} failed outside its tests (a sanitizer abort?): ${(f.message || '').split('\n')[0]}`);
  } else {
    problems.push(`vitest wrote no results (exit ${r.status})`);
  }
  if (failed) problems.push(`${failed} test(s) failed`);
  for (const pid of stuck) problems.push(`process ${pid} (${pidInfo.get(pid)?.what}) was still running 120 s after vitest ended`);

  const reports = readReports(pidInfo);
  const addonProcesses = [...pidInfo.values()].filter((e) => e.addon).length;
  let canaries = 0;
  for (const rep of reports) {
    canaries += rep.canary;
    for (const e of rep.errors) problems.push(`${rep.file} (${rep.what}): ${e}`);
    if (rep.leaks.length && rep.addon) problems.push(`${rep.file} (${rep.what}): ${rep.leaks.length} leak report(s) in a process that loaded the addon`);
    if (rep.leaks.length && !rep.addon)
      console.log(`note: ${rep.file} (${rep.what}, never loaded the addon): ${rep.leaks.length} leak report(s) not counted`);
    if (rep.suppressed) console.log(`note: ${rep.file}: ${rep.suppressed.replace(/\n/g, '\n      ')}`);
  }
  if (canaries !== 1)
    problems.push(canaries === 0
      ? "the leak canary's block was not reported: LeakSanitizer did not run in the vitest workers, so no leak result can be trusted"
      : `the leak canary was reported ${canaries} times (expected once)`);
  for (const rep of reports.filter((x) => x.leaks.length && x.addon)) {
    console.log(`\n--- ${rep.file}`);
    console.log(rep.leaks.slice(0, 10).join('\n'));
  }

  console.log('');
  console.log(`ASan addon run: ${addonProcesses} process(es) loaded the sanitized addon; leak check confirmed by the canary: ${canaries === 1 ? 'yes' : 'NO'}`);
  for (const p of problems) console.log(`problem: ${p}`);
  console.log(`Summary (ASan addon): ${passed} passed, ${failed + (problems.length && !failed ? problems.length : 0)} failed, ${skipped} skipped`);
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(`test:asan-addon: ${e.message}`);
  process.exit(1);
});
