// Generation through the JS API, on a model made by the project's model
// maker (random weights: the text is noise, but deterministic) and on
// stories260K (real text; skipped with a message where ../shared is absent):
// determinism, streaming, stop strings across pieces, UTF-8 never split, EOS,
// logprobs, debug candidates and their log records, option errors.
import path from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { loadModel, makeModel, configureLogging, flushLogs, type Model, type GenerationPiece, type LogRecord } from '../src/index';
import { tempDir } from './helpers';
import { haveStories, storiesPath } from './generation-util';

if (!haveStories) console.warn(`generation.test: ${storiesPath} is absent; its stories260K half is skipped`);

const MODELS = [
  {
    name: 'a made model (tiny, q4_0)',
    available: true,
    story: false,
    async load(): Promise<Model> {
      const file = path.join(tempDir(), 'tiny-q4_0.gguf');
      await makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 3 });
      return loadModel(file, { threads: 1 });
    },
  },
  { name: 'stories260K', available: haveStories, story: true, load: () => loadModel(storiesPath, { threads: 1 }) },
];

const PROMPT = 'Once upon a time';

async function pieces(stream: AsyncIterable<GenerationPiece>): Promise<GenerationPiece[]> {
  const out: GenerationPiece[] = [];
  for await (const p of stream) out.push(p);
  return out;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

for (const M of MODELS) describe.skipIf(!M.available)(`generation (${M.name})`, () => {
  let model: Model;
  let nVocab = 0;
  beforeAll(async () => {
    model = await M.load();
    nVocab = model.info.vocabSize;
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('greedy is deterministic and is the argmax of the logits', async () => {
    const a = await model.complete(PROMPT, { temperature: 0, maxTokens: 12, stopAtEos: false });
    const b = await model.complete(PROMPT, { temperature: 0, maxTokens: 12, stopAtEos: false });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.text).toBe(b.text);
    if (M.story) expect(a.text.startsWith(', there was')).toBe(true);
    expect(a.stopReason).toBe('maxTokens');
    const seq = model.tokenize(PROMPT);
    for (let i = 0; i < 12; i++) seq.push(argmax(await model.evaluate(seq)));
    expect(a.tokens).toEqual(seq.slice(-12));
  });

  it('the same seed and options give the same text; other seeds other texts', async () => {
    const opts = { temperature: 1.0, topK: 0, topP: 1, minP: 0, maxTokens: 24, stopAtEos: false };
    const a = await model.complete(PROMPT, { ...opts, seed: 42 });
    const b = await model.complete(PROMPT, { ...opts, seed: 42 });
    expect(b.tokens).toEqual(a.tokens);
    const others = await Promise.all([1, 2, 3].map((seed) => model.complete(PROMPT, { ...opts, seed })));
    expect(others.some((o) => o.text !== a.text)).toBe(true);
  });

  it('streams pieces whose texts make the result text, with figures', async () => {
    const stream = model.generate(PROMPT, { temperature: 0, maxTokens: 20, stopAtEos: false });
    const list = await pieces(stream);
    const result = await stream.result;
    expect(list.length).toBe(20);
    expect(list.map((p) => p.text).join('')).toBe(result.text);
    expect(list.map((p) => p.token)).toEqual(result.tokens);
    expect(list[0].logprob).toBeUndefined();
    const s = result.stats;
    expect(s.promptTokens).toBe(model.tokenize(PROMPT).length);
    expect(s).toMatchObject({ cachedTokens: 0, processedTokens: s.promptTokens, generatedTokens: 20 });
    expect(s.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(s.totalMs).toBeGreaterThanOrEqual(s.timeToFirstTokenMs!);
    expect(s.promptTokensPerSecond).toBeGreaterThan(0);
    expect(s.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it('a stop string that straddles two pieces is found and never emitted, not even in part', async () => {
    const full = await pieces(model.generate(PROMPT, { temperature: 0, maxTokens: 30, stopAtEos: false }));
    const i = full.findIndex((p, k) => k > 2 && p.text.length >= 2 && (full[k + 1]?.text.length ?? 0) >= 2);
    expect(i).toBeGreaterThan(0);
    const stop = full[i].text.slice(-2) + full[i + 1].text.slice(0, 2);
    const fullText = full.map((p) => p.text).join('');
    const stream = model.generate(PROMPT, { temperature: 0, maxTokens: 30, stopAtEos: false, stop: ['never-there', stop] });
    const got = await pieces(stream);
    const result = await stream.result;
    expect(result.stopReason).toBe('stop');
    expect(result.text).toBe(fullText.slice(0, fullText.indexOf(stop)));
    expect(got.map((p) => p.text).join('')).toBe(result.text);
    // the piece before the stop held back the start of the stop string
    expect(got[i].text).toBe(full[i].text.slice(0, -2));
    expect(got.length).toBe(i + 2);
  });

  it('never splits a UTF-8 character across pieces (byte tokens only)', async () => {
    const tok = model.tokenizer!;
    const idOf = (t: string) => [...Array(nVocab).keys()].find((id) => tok.tokenText(id) === t)!;
    const c3 = idOf('<0xC3>'), a9 = idOf('<0xA9>');
    const bias: Array<[number, number]> = [];
    for (let id = 0; id < nVocab; id++) if (id !== c3 && id !== a9) bias.push([id, -Infinity]);
    const stream = model.generate(PROMPT, { temperature: 5, topK: 0, topP: 1, minP: 0, seed: 7, maxTokens: 40, logitBias: bias, stopAtEos: false });
    const got = await pieces(stream);
    const bytes = Buffer.from(got.map((p) => (p.token === c3 ? 0xc3 : 0xa9)));
    const text = got.map((p) => p.text).join('');
    expect(text).toBe(new TextDecoder().decode(bytes));
    expect(text).toContain('é');
    // a C3 waits for the next byte: the A9 after it releases the whole "é"
    for (let k = 0; k + 1 < got.length; k++) {
      if (got[k].token === c3 && got[k + 1].token === a9) expect(got[k + 1].text).toBe('é');
      if (got[k].token === c3) expect(got[k].text).not.toContain('é');
    }
  });

  it('ends at EOS unless told not to', async () => {
    const eos = model.tokenizer!.info.eos;
    const r = await model.complete(PROMPT, { temperature: 0, logitBias: { [eos]: 100 } });
    expect(r).toMatchObject({ text: '', tokens: [eos], stopReason: 'eos' });
    const r2 = await model.complete(PROMPT, { temperature: 0, maxTokens: 3, logitBias: { [eos]: 100 }, stopAtEos: false });
    expect(r2).toMatchObject({ tokens: [eos, eos, eos], stopReason: 'maxTokens' });
    const r3 = await model.complete(PROMPT, { maxTokens: 0 });
    expect(r3).toMatchObject({ text: '', tokens: [], stopReason: 'maxTokens' });
    expect(r3.stats.processedTokens).toBe(model.tokenize(PROMPT).length);
  });

  it('reports logprobs, and with debug the top candidates of every step, also in the generation log', async () => {
    const r = await model.complete(PROMPT, { temperature: 0, maxTokens: 5, logprobs: true, stopAtEos: false });
    expect(r.logprobs!.length).toBe(5);
    for (const lp of r.logprobs!) expect(lp).toBeLessThanOrEqual(0);

    const records: LogRecord[] = [];
    configureLogging({ console: false, categories: { generation: 'info' }, handler: (rec) => records.push(rec) });
    try {
      const d = await model.complete(PROMPT, { temperature: 0, maxTokens: 4, debug: { topN: 3 }, stopAtEos: false });
      const steps = d.debug!.steps;
      expect(steps.length).toBe(4);
      for (const [k, step] of steps.entries()) {
        expect(step.token).toBe(d.tokens[k]);
        expect(step.candidates.length).toBe(3);
        expect(step.candidates[0].token).toBe(step.token); // greedy takes the best
        const probs = step.candidates.map((c) => c.probability);
        expect([...probs].sort((x, y) => y - x)).toEqual(probs);
        expect(probs[0]).toBeGreaterThan(0);
        expect(probs[0]).toBeLessThanOrEqual(1);
        expect(step.candidates[0].samplingProbability).toBe(1);
        expect(typeof step.candidates[1].text).toBe('string');
      }
      await flushLogs();
      const gen = records.filter((rec) => rec.category === 'generation');
      expect(gen.some((rec) => /^step 0: token \d+ \(p=/.test(rec.message))).toBe(true);
      // candidate texts go through the content channel: redacted by default
      const content = gen.filter((rec) => rec.message.startsWith('step 0 candidates'));
      expect(content.length).toBe(1);
      expect(content[0].message).toContain('redacted');
    } finally {
      configureLogging({ console: true, level: 'warn', categories: { generation: 'warn' }, handler: null });
    }
  });

  it('a text prompt, tokenized on the generating thread, equals the same prompt as ids', async () => {
    // special tokens are parsed and BOS put first as Tokenizer.promptTokens does
    const text = model.info.hasVocabulary ? `${PROMPT} and then` : PROMPT;
    const ids = model.tokenizer!.promptTokens(text);
    const a = await model.complete(text, { temperature: 0, maxTokens: 6, stopAtEos: false });
    const b = await model.complete(ids, { temperature: 0, maxTokens: 6, stopAtEos: false });
    expect(a.stats.promptTokens).toBe(ids.length);
    expect(a.tokens).toEqual(b.tokens);
    const session = model.createSession({ contextSize: 64 });
    const c = await session.complete(text, { temperature: 0, maxTokens: 6, stopAtEos: false });
    expect(c.tokens).toEqual(b.tokens);
    // an empty text (no BOS added by this vocabulary, or only BOS) is refused or generates, never crashes
    await session.complete('', { maxTokens: 1 }).catch((e) => expect(e).toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field: 'prompt' }));
    await session.dispose();
  });

  it('validates options and prompts, naming the field', async () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { field?: string }).field;
      }
      return undefined;
    };
    expect(field(() => model.generate(PROMPT, { temperature: -1 }))).toBe('temperature');
    expect(field(() => model.generate(PROMPT, { topP: 0 }))).toBe('topP');
    expect(field(() => model.generate(PROMPT, { maxTokens: 1.5 }))).toBe('maxTokens');
    expect(field(() => model.generate(PROMPT, { stop: [''] }))).toBe('stop[0]');
    expect(field(() => model.generate(PROMPT, { logitBias: { [nVocab + 88]: 1 } }))).toBe(`logitBias[${nVocab + 88}].tokenId`);
    expect(field(() => model.generate(PROMPT, { signal: {} as never }))).toBe('signal');
    expect(field(() => model.generate(PROMPT, { nonsense: 1 } as never))).toBe('nonsense');
    expect(field(() => model.generate([]))).toBe('prompt');
    expect(field(() => model.generate([1, nVocab]))).toBe('prompt[1]');
    expect(field(() => model.generate(42 as never))).toBe('prompt');
    await expect(model.complete([1, 403], { maxTokens: 2, temperature: 0 })).resolves.toMatchObject({ tokens: expect.any(Array) });
  });
});
