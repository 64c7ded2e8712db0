// chat-template.mjs — a seeded mutation fuzzer for the chat-template renderer
// (src/chat.ts over @huggingface/jinja). libFuzzer does not reach JavaScript,
// so this is a plain generate-run-check loop:
//
//   node fuzz/chat-template.mjs <seconds> [--seed N] [--timebox-ms 2000] [--out DIR] [--hostile-rate 0.01]
//   (--selftest: the 4th render of each worker asks the renderer's own sandbox for a
//    10-minute time box on an endless loop, so this harness's time box must catch it:
//    reported as a finding, exit 1)
//   (or `npm run fuzz -- chat-template <seconds>`)
//
// Inputs: a template (one of our own seed templates, a mutation of one, a
// splice of template fragments, or a built-in format by name), a message list
// (mostly well-formed, sometimes the odd shapes a JSON body can carry: missing
// or non-string fields, extra keys, "__proto__", lone surrogates, template
// syntax inside content), BOS/EOS texts and options.
// The invariant: renderChatTemplate returns a string or throws a HyperionError
// (HYPERION_MODEL_INVALID for the template, HYPERION_INVALID_ARGUMENT for the
// messages or options, HYPERION_TIMEOUT when the renderer's own sandbox stopped
// a render at its time box) — never another exception, never a hang (each render
// is time-boxed), never an out-of-memory of the thread.
//
// Renders run in a worker thread with a heap limit. Before each render the
// worker writes the input into shared memory and marks itself busy; the main
// thread watches, and a render that stays busy past the time box is a "hang":
// the worker is terminated, the input saved, and a fresh worker carries on.
// The corpus grows with every input whose outcome (rendered, or the error's
// normalized message) was not seen before; mutations start from it.
//
// Findings of a kind listed in fuzz/known-issues.json are reported as known
// and do not fail the run (each entry names the open problem); anything else
// fails it (exit 1) and is saved under --out as a JSON reproducer.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const SHARED_BYTES = 1 << 20;   // the current input, as JSON (longer ones are cut and marked)
let hostileRate = 0.01;         // chance that a number in a mutated template is a huge loop bound

// ------------------------------------------------------------------ random

function rng(seed) {   // splitmix32-style; deterministic per (seed, worker start)
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const below = (n) => (n <= 0 ? 0 : next() % n);
  return { next, below, pick: (a) => a[below(a.length)], chance: (p) => next() / 4294967296 < p };
}

// ------------------------------------------------------------ seed material

// Our own templates, written for this fuzzer to cover the Jinja features real
// chat templates use: loops with loop.*, conditionals, slicing, filters,
// namespaces, macros, string methods, raise_exception, tests.
const SEED_TEMPLATES = [
  "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
  "{{ bos_token }}{% for m in messages %}{% if loop.first and m.role == 'system' %}[SYS]{{ m.content | trim }}[/SYS]{% elif m.role == 'user' %}[U]{{ m.content }}{% else %}[A]{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}",
  "{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] %}{% set rest = messages[1:] %}{% else %}{% set sys = '' %}{% set rest = messages %}{% endif %}{{ sys }}{% for m in rest %}{{ loop.index0 }}:{{ m.content }}{% endfor %}",
  "{% set ns = namespace(n=0, last='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.last = m.role %}{% endfor %}{{ ns.n }} {{ ns.last }}",
  "{% macro turn(role, text) %}<{{ role | upper }}>{{ text }}</{{ role | upper }}>{% endmacro %}{% for m in messages %}{{ turn(m.role, m.content) }}{% endfor %}",
  "{% for m in messages %}{% if m.role not in ['user', 'assistant', 'system'] %}{{ raise_exception('unknown role ' + m.role) }}{% endif %}{{ m.content | length }},{% endfor %}",
  "{% for m in messages | reverse %}{{ m.content | replace('\\n', ' ') | title }}{% if not loop.last %} / {% endif %}{% endfor %}",
  "{% for m in messages %}{{ m.content.split(' ') | join('_') }}{{ m.content.startswith('x') }}{{ m.content.strip() }}{% endfor %}",
  "{{ messages | length }}{% for m in messages if m.role == 'user' %}{{ m.content[:5] }}{{ m.content[-3:] }}{% endfor %}",
  "{% for m in messages %}{{ m | tojson }}{% endfor %}{{ add_generation_prompt is defined }}{{ tools is undefined }}",
  "{%- for m in messages -%}\n  {{- m.role ~ ': ' ~ m.content -}}\n  {%- if loop.index is divisibleby 2 %}\n{% endif -%}\n{%- endfor -%}",
  "{% for m in messages %}{{ (m.content * 1) if m.content is number else m.content }}{{ m.get('name', 'anon') }}{% endfor %}",
  "{% set roles = {'user': 'U', 'assistant': 'A'} %}{% for m in messages %}{{ roles[m.role] | default('?') }}{% endfor %}",
  "{% for i in range(messages | length) %}{{ messages[i].content }}{% endfor %}{{ range(3) | list }}",
];

const FRAGMENTS = [
  '{{ ', ' }}', '{% ', ' %}', '{%- ', ' -%}', '{# c #}', '{% for m in messages %}', '{% endfor %}', '{% if x %}', '{% else %}',
  '{% elif y %}', '{% endif %}', '{% set x = 1 %}', "{{ m.content }}", "{{ m['role'] }}", '{{ loop.index }}', '{{ loop.last }}',
  '| trim', '| upper', '| length', '| tojson', '| join(",")', '| default("d")', '| first', '| last', '| list', '| reverse',
  '[0]', '[1:]', '[:-1]', '[::-1]', '.content', '.role', '.missing', '(', ')', '[', ']', '{', '}', ',', '~', '+', '-', '*',
  '/', '//', '%', '**', '==', '!=', ' and ', ' or ', ' not ', ' in ', ' is ', 'none', 'None', 'true', 'false', "'str'",
  '"dq"', '0', '1', '-1', '2', '10', '3.5', 'messages', 'bos_token', 'eos_token', 'add_generation_prompt', 'raise_exception',
  'range(', 'namespace(', 'dict(', '{% macro f(a) %}{{ a }}{% endmacro %}', '{{ f(1) }}', '{% raw %}', '{% endraw %}',
  '{% call f(1) %}x{% endcall %}', '{% filter upper %}', '{% endfilter %}', '{% break %}', '{% continue %}', '\n', '\t',
  '{{', '}}', '{%', '%}', '{#', '#}', "\\'", '\u0000', '\ud800', '\u{1f600}', ' if ', ' else ', ' recursive ',
];

const BIG_NUMBERS = ['1000', '100000', '1000000', '1000000000', '9007199254740993', '1e308', '-1e308'];

const STRINGS = [
  '', ' ', 'hello', 'Hi there', '  padded  ', 'line1\nline2', 'tab\there', '{{ messages }}', '{% for %}', '<s>', '</s>',
  '<|im_start|>', '[INST]', 'caf\u00e9', '\u4e2d\u6587', '\u{1f600}\u{1f44d}', '\ud800', '\udfff', '\u0000', 'a'.repeat(300),
  '__proto__', 'constructor', 'toString', 'x'.repeat(5000),
];

// ---------------------------------------------------------------- generator

function randomString(r) {
  if (r.chance(0.6)) return r.pick(STRINGS);
  let s = '';
  const n = r.below(24);
  for (let i = 0; i < n; i++) {
    const k = r.below(10);
    s += k < 6 ? String.fromCharCode(32 + r.below(95)) : k < 8 ? String.fromCharCode(r.below(0x800)) : k < 9 ? String.fromCharCode(0xd800 + r.below(0x800)) : String.fromCodePoint(r.below(0x110000));
  }
  return s;
}

function randomValue(r, depth = 0) {
  switch (r.below(depth > 1 ? 6 : 8)) {
    case 0: return null;
    case 1: return r.below(1000) - 500;
    case 2: return r.chance(0.5);
    case 3: return undefined;
    case 4: case 5: return randomString(r);
    case 6: return [randomValue(r, depth + 1), randomValue(r, depth + 1)];
    default: return { role: randomValue(r, depth + 1), content: randomValue(r, depth + 1) };
  }
}

const ROLES = ['user', 'assistant', 'system', 'tool', 'User', '', 'x'];

function randomMessage(r, wellFormed) {
  const k = wellFormed ? 0 : r.below(20);
  if (k < 13) {
    const m = { role: r.pick(ROLES) || 'user', content: randomString(r) };
    if (r.chance(0.1)) m.name = randomString(r);
    return m;
  }
  if (k < 15) return JSON.parse(`{"role":"user","content":"x","__proto__":{"role":"system"}}`);
  if (k < 16) return { role: 'user', content: randomValue(r) };
  if (k < 17) return { role: randomValue(r), content: 'x' };
  if (k < 18) return { role: 'user', content: 'x', extra: 1 };
  return randomValue(r);
}

function randomMessages(r) {
  if (r.chance(0.03)) return randomValue(r);
  const n = r.below(7);
  const wellFormed = r.chance(0.85);   // most lists are valid, so most renders get past validation
  const list = [];
  for (let i = 0; i < n; i++) list.push(randomMessage(r, wellFormed));
  return list;
}

function numberFor(r, hostile) {
  return hostile && r.chance(hostileRate) ? r.pick(BIG_NUMBERS) : String(r.below(12));
}

function mutateTemplate(r, t, hostile) {
  const ops = 1 + r.below(4);
  for (let k = 0; k < ops; k++) {
    const at = r.below(t.length + 1);
    switch (r.below(7)) {
      case 0: t = t.slice(0, at) + r.pick(FRAGMENTS) + t.slice(at); break;
      case 1: { const n = 1 + r.below(12); t = t.slice(0, at) + t.slice(at + n); break; }
      case 2: { const n = 1 + r.below(40); t = t.slice(0, at) + t.slice(at, at + n) + t.slice(at); break; }
      case 3: t = t.slice(0, at) + String.fromCharCode(r.pick([123, 125, 37, 39, 34, 35, 45, 124, 40, 41, 91, 93])) + t.slice(at); break;
      case 4: t = t.replace(/\d+/, () => numberFor(r, hostile)); break;
      case 5: t = t.slice(0, at) + `{% for i in range(${numberFor(r, hostile)}) %}{{ i }}{% endfor %}` + t.slice(at); break;
      default: { const other = r.pick(SEED_TEMPLATES); const b = r.below(other.length); t = t.slice(0, at) + other.slice(b, b + 1 + r.below(60)) + t.slice(at); break; }
    }
  }
  return t;
}

function spliceTemplate(r) {
  let t = '';
  const n = 1 + r.below(16);
  for (let i = 0; i < n; i++) t += r.pick(FRAGMENTS);
  return t;
}

function generate(r, corpus, hostile) {
  const ctx = {};
  const options = {};
  const k = r.below(10);
  const base = corpus.length && r.chance(0.5) ? r.pick(corpus) : null;
  if (k === 0) options.template = r.pick(['llama2', 'llama3', 'chatml', 'zephyr', 'nope', 7]);
  else if (k === 1) ctx.template = spliceTemplate(r);
  else if (k === 2) ctx.template = r.pick(SEED_TEMPLATES);
  else ctx.template = mutateTemplate(r, base?.ctx?.template ?? r.pick(SEED_TEMPLATES), hostile);
  if (r.chance(0.5)) ctx.bosToken = r.pick(['<s>', '<|begin_of_text|>', '', randomString(r)]);
  if (r.chance(0.5)) ctx.eosToken = r.pick(['</s>', '<|eot_id|>', randomString(r)]);
  if (r.chance(0.2)) ctx.specialTokens = [r.pick(['<|eot_id|>', '<|im_start|>', '<|user|>', 'x'])];
  if (r.chance(0.3)) options.addGenerationPrompt = r.chance(0.9) ? r.chance(0.5) : randomValue(r);
  if (r.chance(0.02)) options.bogus = 1;
  const messages = base && r.chance(0.3) ? base.messages : randomMessages(r);
  return { ctx, messages, options: r.chance(0.05) ? randomValue(r) : options };
}

// ------------------------------------------------------------------ worker

function outcomeSignature(e) {
  if (e === undefined) return 'rendered';
  return `${e?.code}:${String(e?.message ?? e).replace(/\d+/g, 'N').replace(/"[^"]*"/g, 'S').replace(/'[^']*'/g, 'S').slice(0, 120)}`;
}

function workerMain() {
  const require = createRequire(import.meta.url);
  const { renderChatTemplate } = require(path.join(root, 'dist', 'cjs', 'chat.js'));
  const { HyperionError } = require(path.join(root, 'dist', 'cjs', 'errors.js'));
  const { seed, deadline, hostile, control, inputBytes } = workerData;
  hostileRate = workerData.hostileRate;
  const flags = new Int32Array(control);          // [0] busy, [1] input length, [2] cut, [3] render number
  const input = new Uint8Array(inputBytes);
  const encoder = new TextEncoder();
  const r = rng(seed);
  const corpus = [];
  const seen = new Set();
  const outcomes = {};
  let execs = 0;
  let lastReport = Date.now();
  const replacer = (_k, v) => (v === undefined ? { $undefined: true } : v);
  while (Date.now() < deadline) {
    const inp = workerData.selftest && execs === 3
      ? { ctx: { template: '{% for i in range(1 // 0) %}{{ i }}{% endfor %}' }, messages: [], options: { timeoutMs: 600000 } }   // a hang past our time box
      : generate(r, corpus, hostile);
    const json = JSON.stringify(inp, replacer) ?? 'null';
    const res = encoder.encodeInto(json, input);
    Atomics.store(flags, 1, res.written);
    Atomics.store(flags, 2, res.read < json.length ? 1 : 0);
    Atomics.store(flags, 3, execs);
    Atomics.store(flags, 0, 1);
    let err;
    let out;
    try {
      out = renderChatTemplate(inp.ctx, inp.messages, inp.options);
    } catch (e) {
      err = e;
    }
    Atomics.store(flags, 0, 0);
    execs++;
    if (err === undefined && typeof out !== 'string') {
      parentPort.postMessage({ type: 'finding', kind: 'not-a-string', input: inp, detail: typeof out });
    } else if (err !== undefined) {
      const okClass = err instanceof HyperionError;
      const okCode = err?.code === 'HYPERION_MODEL_INVALID' || err?.code === 'HYPERION_INVALID_ARGUMENT' || err?.code === 'HYPERION_TIMEOUT';
      if (!okClass || !okCode || typeof err.message !== 'string' || err.message.length === 0)
        parentPort.postMessage({ type: 'finding', kind: 'wrong-error', input: inp, detail: `${err?.constructor?.name} ${err?.code}: ${String(err?.message ?? err).slice(0, 300)}` });
    }
    const sig = outcomeSignature(err);
    outcomes[err === undefined ? 'rendered' : err.code ?? 'other'] = (outcomes[err === undefined ? 'rendered' : err.code ?? 'other'] ?? 0) + 1;
    if (!seen.has(sig)) {
      seen.add(sig);
      if (corpus.length < 5000) corpus.push(inp);
    }
    if (Date.now() - lastReport > 250) {
      parentPort.postMessage({ type: 'progress', execs, corpus: corpus.length, signatures: seen.size, outcomes });
      lastReport = Date.now();
    }
  }
  parentPort.postMessage({ type: 'progress', execs, corpus: corpus.length, signatures: seen.size, outcomes });
  parentPort.postMessage({ type: 'done' });
}

// -------------------------------------------------------------------- main

function loadKnown() {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, 'known-issues.json'), 'utf8')).filter((k) => k.target === 'chat-template');
  } catch {
    return [];
  }
}

function knownFor(known, kind, input) {
  const template = typeof input?.ctx?.template === 'string' ? input.ctx.template : '';
  return known.find((k) => k.kinds.includes(kind) && (!k.templateMatches || new RegExp(k.templateMatches).test(template)));
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
  const seconds = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 20);
  const seed = Number(opt('--seed', Date.now() % 1000000));
  const timebox = Number(opt('--timebox-ms', 2000));
  const outDir = path.resolve(opt('--out', path.join(root, 'build-fuzz', 'artifacts', 'chat-template')));
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'chat.js'))) {
    console.error('chat-template: dist/cjs/chat.js is missing: run `npm run build:ts` first');
    process.exit(2);
  }
  const known = loadKnown();
  const start = Date.now();
  const deadline = start + seconds * 1000;
  const totals = { execs: 0, corpus: 0, signatures: 0, outcomes: {} };
  const findings = [];
  let hostile = true;       // big loop bounds on, until a known hang has been seen once
  let workerSeed = seed;

  const record = (kind, input, detail) => {
    const k = knownFor(known, kind, input);
    const f = { kind, detail, known: k?.id ?? null, seed, input };
    findings.push(f);
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${k ? 'known' : 'finding'}-${kind}-${findings.length}-${seed}.json`);
    fs.writeFileSync(file, JSON.stringify(f, null, 1));
    f.file = file;
    console.log(`chat-template: ${k ? `known issue "${k.id}"` : 'FINDING'}: ${kind}${detail ? ` (${detail})` : ''} -> ${path.relative(process.cwd(), file)}`);
    if (k && (kind === 'hang' || kind === 'oom')) hostile = false;
  };

  while (Date.now() < deadline - 50) {
    const control = new SharedArrayBuffer(16);
    const inputBytes = new SharedArrayBuffer(SHARED_BYTES);
    const flags = new Int32Array(control);
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { seed: workerSeed, deadline, hostile, hostileRate: Number(opt('--hostile-rate', 0.01)), selftest: args.includes('--selftest'), control, inputBytes },
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
    });
    const base = { ...totals, outcomes: { ...totals.outcomes } };
    let last = { execs: 0, corpus: 0, signatures: 0, outcomes: {} };
    const currentInput = () => {
      const n = Atomics.load(flags, 1);
      const text = new TextDecoder().decode(new Uint8Array(inputBytes).slice(0, n));
      try {
        return JSON.parse(text);
      } catch {
        return { cut: true, json: text.slice(0, 2000) };
      }
    };
    const ended = await new Promise((resolve) => {
      let busySince = 0;
      let busyExec = -1;
      const timer = setInterval(() => {
        const busy = Atomics.load(flags, 0) === 1;
        const exec = Atomics.load(flags, 3);
        if (!busy) { busySince = 0; return; }
        if (busyExec !== exec || busySince === 0) { busyExec = exec; busySince = Date.now(); return; }
        if (Date.now() - busySince > timebox) {
          clearInterval(timer);
          resolve({ kind: 'hang', input: currentInput(), detail: `render still running after ${timebox} ms` });   // before 'exit' can
          worker.terminate();
        }
      }, 50);
      worker.on('message', (m) => {
        if (m.type === 'progress') last = m;
        else if (m.type === 'finding') record(m.kind, m.input, m.detail);
        else if (m.type === 'done') { clearInterval(timer); resolve(null); }
      });
      worker.on('error', (e) => {
        clearInterval(timer);
        const oom = e?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        resolve({ kind: oom ? 'oom' : 'worker-error', input: currentInput(), detail: String(e?.message ?? e).slice(0, 300) });
      });
      worker.on('exit', () => { clearInterval(timer); resolve(null); });
    });
    totals.execs = base.execs + Math.max(last.execs, Atomics.load(flags, 3));   // renders finished before any hang
    totals.corpus = Math.max(totals.corpus, last.corpus);
    totals.signatures = Math.max(totals.signatures, last.signatures);
    for (const [k, v] of Object.entries(last.outcomes)) totals.outcomes[k] = (base.outcomes[k] ?? 0) + v;
    if (ended) {
      totals.execs++;
      record(ended.kind, ended.input, ended.detail);
    }
    workerSeed = (workerSeed * 1103515245 + 12345) >>> 0;   // the next worker explores new inputs
  }
  const elapsed = (Date.now() - start) / 1000;
  const unknown = findings.filter((f) => !f.known);
  const outcomeText = Object.entries(totals.outcomes).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`chat-template: ${elapsed.toFixed(0)} s, seed ${seed}, ${totals.execs} renders (${(totals.execs / elapsed).toFixed(0)}/s), ` +
    `corpus ${totals.corpus + SEED_TEMPLATES.length} inputs (${SEED_TEMPLATES.length} seeds + ${totals.corpus} with new outcomes), ${outcomeText}`);
  console.log(`chat-template: ${unknown.length} finding(s), ${findings.length - unknown.length} known`);
  process.exit(unknown.length ? 1 : 0);
}

if (isMainThread) main();
else workerMain();
