// `npm test`: builds what is stale (the addon, the TypeScript, the C core's
// test binaries), runs the native unit tests (plain and under ASan + UBSan)
// and the vitest suite, then prints one summary line of passed/failed counts.
//   node scripts/run-tests.mjs [--only native|asan|js] [--skip-asan] [-- vitest args]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dashdash = args.indexOf('--');
const vitestArgs = dashdash >= 0 ? args.slice(dashdash + 1) : [];
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const skipAsan = args.includes('--skip-asan') || process.env.HYPERION_SKIP_ASAN === '1';
const jobs = String(Math.max(1, Math.min(4, Number(process.env.JOBS) || 2)));

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', env: { ...process.env, ...opts.env } });
  if (opts.capture && r.stdout) process.stdout.write(r.stdout);
  return r;
}

function step(title) {
  console.log(`\n=== ${title}`);
}

function mtime(p) {
  try {
    return fs.statSync(path.join(root, p)).mtimeMs;
  } catch {
    return 0;
  }
}

function buildAddon() {
  step('addon (node-gyp)');
  const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const stale = mtime('build/Makefile') === 0 || Math.max(mtime('binding.gyp'), mtime('native/sources.json')) > mtime('build/Makefile');
  const r = run(process.execPath, [gyp, stale ? 'rebuild' : 'build', '-j', jobs, '--loglevel=warn']);
  if (r.status !== 0) throw new Error('the addon did not build');
}

function buildTs() {
  step('TypeScript');
  const r = run(process.execPath, [path.join(root, 'scripts', 'build-ts.mjs')]);
  if (r.status !== 0) throw new Error('the TypeScript did not build');
}

function nativeSuite(preset, label) {
  step(`native unit tests (${label})`);
  let r = run('cmake', ['--preset', preset, '--log-level=WARNING']);
  if (r.status === 0) r = run('cmake', ['--build', '--preset', preset, '-j', jobs]);
  if (r.status !== 0) {
    problems.push(`${label}: build failed`);
    totals.failed++;
    return;
  }
  const binary = path.join(root, `build-${preset}`, 'hyperion_native_tests');
  const env = preset === 'asan' ? { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' } : {};
  r = run(binary, [], { capture: true, env });
  const m = /native: (\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  if (!m) {
    problems.push(`${label}: the test binary ended without a summary (exit ${r.status}, signal ${r.signal})`);
    totals.failed++;
    return;
  }
  totals.passed += Number(m[1]);
  totals.failed += Number(m[2]);
  if (r.status !== 0 && Number(m[2]) === 0) {
    problems.push(`${label}: exit code ${r.status} (sanitizer report?)`);
    totals.failed++;
  }
}

function vitestSuite() {
  step('vitest (TypeScript and the addon)');
  const out = path.join(root, 'build-test', 'vitest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.rmSync(out, { force: true });
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const r = run(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...vitestArgs]);
  if (!fs.existsSync(out)) {
    problems.push(`vitest: no results (exit ${r.status})`);
    totals.failed++;
    return;
  }
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  totals.passed += res.numPassedTests;
  totals.failed += res.numFailedTests;
  totals.skipped += res.numPendingTests + (res.numTodoTests ?? 0);
  // a file that crashed before its tests ran counts as a failure too
  const brokenFiles = (res.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).every((a) => a.status !== 'failed'));
  for (const f of brokenFiles) {
    problems.push(`vitest: ${path.relative(root, f.name)} failed outside its tests: ${(f.message || '').split('\n')[0]}`);
    totals.failed++;
  }
  if (r.status !== 0 && res.numFailedTests === 0 && brokenFiles.length === 0) {
    problems.push(`vitest: exit code ${r.status}`);
    totals.failed++;
  }
}

try {
  if (!only || only === 'js') {
    buildAddon();
    buildTs();
  }
  if (!only || only === 'native') nativeSuite('native', 'plain');
  if ((!only && !skipAsan) || only === 'asan') nativeSuite('asan', 'ASan + UBSan');
  if (!only || only === 'js') vitestSuite();
} catch (e) {
  problems.push(e.message);
  totals.failed++;
}

console.log('');
for (const p of problems) console.log(`problem: ${p}`);
console.log(`Summary: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
