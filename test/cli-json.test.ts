// The CLI's contract with scripts: every command's --json output validates
// against its schema (schemas/*.schema.json, with ajv), --help for every
// command, the documented exit codes, and verify on the malformed corpus.
// Nothing here is timed: the bench test runs --quick and checks structure only.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import { root, runCli, tempDir } from './helpers';
import { native } from '../src/native';
import { commands } from '../src/cli/main';
import { EXIT, EXIT_MEANINGS } from '../src/cli/exit-codes';

const SCHEMA_BASE = 'https://hyperion-runtime.dev/schemas/';

function loadAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, strict: true });
  const dir = path.join(root, 'schemas');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as object);
  }
  return ajv;
}

const ajv = loadAjv();

/** Parse stdout as one JSON document and validate it against schemas/<name>.schema.json. */
function expectSchema(name: string, stdout: string): any {
  const validate = ajv.getSchema(`${SCHEMA_BASE}${name}.schema.json`);
  if (!validate) throw new Error(`no schema ${name}`);
  const value = JSON.parse(stdout);
  const ok = validate(value);
  expect(ok, `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return value;
}

describe('CLI --json outputs validate against their schemas', () => {
  const dir = tempDir();
  const model = path.join(dir, 'tiny-q4_0.gguf');

  beforeAll(() => {
    const r = runCli(['make-model', '--shape', 'tiny', '--type', 'q4_0', '--json', model]);
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expectSchema('make-model', r.stdout);
  });

  it('every schema compiles, and a wrong document fails', () => {
    for (const f of fs.readdirSync(path.join(root, 'schemas')).filter((f) => f.endsWith('.schema.json'))) {
      expect(ajv.getSchema(`${SCHEMA_BASE}${f}`), f).toBeTruthy();
    }
    const verify = ajv.getSchema(`${SCHEMA_BASE}verify.schema.json`)!;
    expect(verify({ path: 'x', ok: 'yes' })).toBe(false);
  });

  it('version, inspect, verify', () => {
    expectSchema('version', runCli(['version', '--json']).stdout);
    const inspect = runCli(['inspect', model, '--json']);
    expect(inspect.status, inspect.stderr).toBe(EXIT.ok);
    expect(expectSchema('inspect', inspect.stdout).info.architecture).toBe('llama');
    const verify = runCli(['verify', model, '--json']);
    expect(verify.status).toBe(EXIT.ok);
    expect(expectSchema('verify', verify.stdout).ok).toBe(true);
  });

  it('run and profile', () => {
    const run = runCli(['run', model, '-p', 'Once upon a time', '-n', '4', '--temperature', '0', '--json']);
    expect(run.status, run.stderr).toBe(EXIT.ok);
    expect(expectSchema('run', run.stdout).stats.generatedTokens).toBeGreaterThan(0);
    // the mapped Q4_0 weights give the same greedy tokens as the repacked ones (the same sums in the same order)
    const mapped = runCli(['run', model, '-p', 'Once upon a time', '-n', '4', '--temperature', '0', '--no-repack', '--json']);
    expect(mapped.status, mapped.stderr).toBe(EXIT.ok);
    expect(JSON.parse(mapped.stdout).tokens).toEqual(JSON.parse(run.stdout).tokens);
    const profile = runCli(['profile', model, '--tokens', '8', '-o', path.join(dir, 'p.json'), '--json']);
    expect(profile.status, profile.stderr).toBe(EXIT.ok);
    expect(expectSchema('profile', profile.stdout).ops.length).toBeGreaterThan(0);
  });

  it('demo', () => {
    const r = runCli(['demo', '--json', '--cache', path.join(dir, 'demo'), '--tokens', '4']);
    expect(r.status, r.stderr).toBe(EXIT.ok);
    expectSchema('demo', r.stdout);
  });

  it('errors print {"error": ...} with --json and exit with the documented codes', () => {
    const missing = runCli(['inspect', path.join(dir, 'no-such.gguf'), '--json']);
    expect(missing.status).toBe(EXIT.problem);
    expect(expectSchema('cli-error', missing.stdout).error.code).toBe('HYPERION_IO');
    const usage = runCli(['make-model', '--shape', 'enormous', '--json', path.join(dir, 'x.gguf')]);
    expect(usage.status).toBe(EXIT.usage);
    expect(expectSchema('cli-error', usage.stdout).error.code).toBe('HYPERION_INVALID_ARGUMENT');
    // profile's own checks of its flags too (they were text on stderr)
    const flag = runCli(['profile', path.join(dir, 'x.gguf'), '--tokens', '0', '--json']);
    expect(flag.status).toBe(EXIT.usage);
    const e = expectSchema('cli-error', flag.stdout).error;
    expect([e.code, e.field]).toEqual(['HYPERION_INVALID_ARGUMENT', '--tokens']);
  });

  it('bench --quick writes a result file, and --compare judges each row', () => {
    const out = path.join(dir, 'bench');
    const models = path.join(dir, 'models');
    const first = runCli(['bench', '--quick', '--json', '--types', 'q4_0', '--models', models, '--out', `${out}/`]);
    expect([EXIT.ok, EXIT.problem], first.stderr).toContain(first.status);
    const r = expectSchema('bench', first.stdout);
    expect(r.comparison).toBeNull();
    expect(r.result.skipped).toEqual([]);
    expect(first.status).toBe(EXIT.ok);
    // the file holds the same result, and validates on its own
    expect(path.dirname(r.file)).toBe(out);
    const saved = expectSchema('bench-result', fs.readFileSync(r.file, 'utf8'));
    expect(saved).toEqual(r.result);
    const names: string[] = saved.rows.map((row: { name: string }) => row.name);
    expect(new Set(names).size).toBe(names.length);
    for (const op of ['matvec', 'matmul', 'rmsnorm', 'rope', 'softmax', 'attention', 'swiglu', 'quantize']) {
      expect(names.some((n) => n.startsWith(`kernel/${op}/`)), op).toBe(true);
    }
    for (const type of ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k', 'q5_k', 'q6_k']) {
      expect(names).toContain(`kernel/matvec/${type}/tiny/ffn_up`);
    }
    for (const n of ['engine/pp/q4_0/tiny/1t', 'engine/tg/q4_0/tiny/1t', 'engine/pp/q4_0/tiny/2t', 'engine/tg/q4_0/tiny/2t']) expect(names).toContain(n);
    // the decode row says how much of the resident weights was mapped in 2 MiB pages (Linux reads it from /proc/self/smaps)
    const tg = saved.rows.find((row: { name: string }) => row.name === 'engine/tg/q4_0/tiny/1t');
    if (process.platform === 'linux') {
      expect(tg.metrics.weightsHugePageShare).toBeGreaterThanOrEqual(0);
      expect(tg.metrics.weightsHugePageShare).toBeLessThanOrEqual(1);
      // and how much CPU time the host took from this machine while it decoded (/proc/stat steal); null
      // when the decode was shorter than one clock tick of /proc/stat (10 ms), as the quick suite's can be
      if (tg.metrics.stealShare !== null) {
        expect(tg.metrics.stealShare).toBeGreaterThanOrEqual(0);
        expect(tg.metrics.stealShare).toBeLessThanOrEqual(1);
      }
    }
    // how fast the memory under the mapped layer weights streamed after the decode
    expect(tg.metrics.weightsReadGbps).toBeGreaterThan(0);
    expect(tg.metrics.shareOfWeightsReadLimit).toBeGreaterThan(0);
    expect(saved.cpuFeatures.kernels.matmul).toBeTruthy();
    expect(saved.machine.limits.bandwidthGbps).toBeGreaterThan(0);

    // compare a filtered run with the first: every kept row is judged, nothing else is "missing"
    const second = runCli(['bench', '--quick', '--json', '--filter', 'kernel/rmsnorm', '--filter', 'engine/tg/q4_0/tiny/1t',
      '--types', 'q4_0', '--models', models, '--out', path.join(dir, 'second.json'), '--compare', r.file]);
    const c = expectSchema('bench', second.stdout);
    expect(c.result.rows.map((row: { name: string }) => row.name).sort()).toEqual(['engine/tg/q4_0/tiny/1t', 'kernel/rmsnorm/tiny']);
    expect(c.comparison.rows.map((row: { name: string }) => row.name).sort()).toEqual(['engine/tg/q4_0/tiny/1t', 'kernel/rmsnorm/tiny']);
    for (const row of c.comparison.rows) {
      expect(['regression', 'improvement', 'same', 'noise-unknown']).toContain(row.verdict);
      expect(row.ratio).toBeCloseTo(row.current / row.previous, 9);
    }
    // exit 1 exactly when a regression was flagged
    expect(second.status).toBe(c.comparison.regressions > 0 ? EXIT.problem : EXIT.ok);

    // a file that is not a result is a usage error, found before any work
    const bad = runCli(['bench', '--quick', '--json', '--compare', model]);
    expect(bad.status).toBe(EXIT.usage);
    expect(expectSchema('cli-error', bad.stdout).error.code).toBe('HYPERION_INVALID_ARGUMENT');
  });
});

describe('--help and exit codes', () => {
  it('every command has --help, and the main help lists the commands and the exit codes', () => {
    const main = runCli(['--help']);
    expect(main.status).toBe(EXIT.ok);
    for (const c of commands) {
      expect(main.stdout).toContain(`  ${c.name}`);
      const r = runCli([c.name, '--help']);
      expect(r.status, c.name).toBe(EXIT.ok);
      expect(r.stdout).toContain(`Usage: hyperion ${c.name}`);
      expect(r.stdout).toContain('--json');
    }
    for (const k of Object.keys(EXIT) as Array<keyof typeof EXIT>) expect(main.stdout).toContain(`${String(EXIT[k]).padStart(2)}  ${EXIT_MEANINGS[k]}`);
    // README documents the same codes
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const k of Object.keys(EXIT) as Array<keyof typeof EXIT>) expect(readme).toMatch(new RegExp(`\\|\\s*${EXIT[k]}\\s*\\|`));
  });

  it('usage errors exit 2', () => {
    expect(runCli(['bench', '--bogus']).status).toBe(EXIT.usage);
    expect(runCli(['bench', '--quick', 'extra-argument']).status).toBe(EXIT.usage);
    expect(runCli(['bench', '--threads', 'many']).status).toBe(EXIT.usage);
    expect(runCli(['verify']).status).toBe(EXIT.usage);
  });
});

/** Run the CLI without blocking, a few at a time. */
function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'hyperion.js'), ...args], { cwd: root });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

describe('hyperion verify on the malformed corpus', () => {
  it('exits 1 for every malformed file and 0 for the valid one, each through the CLI', async () => {
    const dir = tempDir();
    const written = native()._test.writeMalformedCorpus(dir) as number;
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.gguf') && f !== 'valid.gguf');
    expect(files.length).toBe(written);
    expect(runCli(['verify', path.join(dir, 'valid.gguf')]).status).toBe(EXIT.ok);
    const verdicts: Array<[string, number | null, boolean]> = [];
    for (let i = 0; i < files.length; i += 4) {
      const batch = files.slice(i, i + 4);
      const results = await Promise.all(batch.map((f) => runCliAsync(['verify', path.join(dir, f), '--json'])));
      results.forEach((r, k) => verdicts.push([batch[k], r.status, JSON.parse(r.stdout).ok]));
    }
    expect(verdicts.filter(([, status, ok]) => status !== EXIT.problem || ok !== false)).toEqual([]);
    // the text form names each problem's code
    for (const f of files.slice(0, 3)) expect(runCli(['verify', path.join(dir, f)]).stdout).toMatch(/problem HYPERION_MODEL_(INVALID|UNSUPPORTED)/);
  }, 120_000);
});
