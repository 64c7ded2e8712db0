// Tokenizers through the JS API: the shared reference vocabularies (expected
// ids from llama.cpp, skipped with a message where ../shared is absent), the
// model's own vocabulary (stories260K), edge cases, chat templates, errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { loadModel, loadTokenizer, HyperionError, type Model, type Tokenizer } from '../src/index';
import { tempDir } from './helpers';
import { haveStories, storiesPath, vocabDir, vocabCases, rewriteGguf } from './generation-util';

const haveVocab = fs.existsSync(vocabDir);
if (!haveVocab) console.warn(`tokenizer.test: ${vocabDir} is absent; the reference vocabulary tests are skipped`);
if (!haveStories) console.warn(`tokenizer.test: ${storiesPath} is absent; the model tokenizer tests are skipped`);

describe.skipIf(!haveVocab)('reference vocabularies (../shared/vocab)', () => {
  for (const name of ['ggml-vocab-llama-spm.gguf', 'ggml-vocab-gpt-2.gguf']) {
    it(`${name}: every case gives llama.cpp's ids and detokenizes back`, async () => {
      const tok = await loadTokenizer(path.join(vocabDir, name));
      expect(tok.info.kind).toBe(name.includes('gpt-2') ? 'gpt2' : 'llama');
      const cases = vocabCases(name);
      expect(cases.length).toBeGreaterThan(20);
      let compared = 0;
      for (const c of cases) {
        if (c.text === null) continue; // not valid UTF-8: covered by the native test
        expect(tok.tokenize(c.text, { addBos: false }), JSON.stringify(c.text)).toEqual(c.ids);
        expect(tok.detokenize(c.ids), JSON.stringify(c.text)).toBe(c.text);
        compared++;
      }
      expect(compared).toBeGreaterThan(cases.length - 3);
    });
  }

  it('loads the vocabulary of a file without weights, and says so for a file without a vocabulary', async () => {
    const tok = await loadTokenizer(path.join(vocabDir, 'ggml-vocab-llama-spm.gguf'));
    expect(tok.info).toMatchObject({ kind: 'llama', vocabSize: 32000, bos: 1, eos: 2, bosText: '<s>', eosText: '</s>', addBos: true });
    expect(tok.tokenize('Hello')).toEqual([1, 15043]);
    expect(tok.tokenize('Hello', { addBos: false })).toEqual([15043]);
    expect(tok.tokenText(15043)).toBe('▁Hello');
    await expect(loadTokenizer('/nonexistent/vocab.gguf')).rejects.toMatchObject({ code: 'HYPERION_IO' });
  });

  it('gpt2: byte-level, no BOS by default, lossless on any text', async () => {
    const tok = await loadTokenizer(path.join(vocabDir, 'ggml-vocab-gpt-2.gguf'));
    expect(tok.info.addBos).toBe(false);
    for (const text of ['', ' ', '\t\n\r', '  leading', 'naïve café', '東京タワー', '🦙🎉👍🏽', '12345 678', 'a\u0000b']) {
      expect(tok.detokenize(tok.tokenize(text))).toBe(text);
    }
  });
});

describe.skipIf(!haveStories)('a model\'s tokenizer (stories260K)', () => {
  let model: Model;
  let tok: Tokenizer;
  beforeAll(async () => {
    model = await loadModel(storiesPath, { threads: 1 });
    tok = model.tokenizer!;
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('comes from the GGUF metadata with the special tokens', () => {
    expect(model.info.hasVocabulary).toBe(true);
    expect(tok.info).toMatchObject({ kind: 'llama', vocabSize: 512, bos: 1, eos: 2, unk: 0, bosText: '<s>', eosText: '</s>', addBos: true, addSpacePrefix: true });
    expect(model.tokenize('Once upon a time')).toEqual(tok.tokenize('Once upon a time'));
    expect(model.tokenize('Once upon a time')[0]).toBe(1);
  });

  it('round-trips edge cases (byte fallback for what the 512-token vocabulary cannot spell)', () => {
    const texts = ['', ' ', '   ', '\t', '\n', ' \t\n ', '0123456789', 'héllo wörld', 'Ça va?', '日本語', '🦙 llama', 'a  b   c', 'end with space '];
    for (const text of texts) {
      const ids = model.tokenize(text, { addBos: false });
      expect(model.detokenize(ids), JSON.stringify(text)).toBe(text);
      for (const id of ids) expect(id).toBeLessThan(512);
    }
    expect(model.tokenize('', { addBos: false })).toEqual([]);
    expect(model.tokenize('')).toEqual([1]);
    // 日 is three bytes the vocabulary only has as <0xNN> tokens
    const cjk = model.tokenize('日', { addBos: false });
    expect(cjk.map((id) => tok.tokenText(id)).filter((t) => /^<0x[0-9A-F]{2}>$/.test(t)).length).toBe(3);
  });

  it('parses special tokens only when asked, and renders them only when asked', () => {
    expect(model.tokenize('<s>hi', { addBos: false, parseSpecial: true })[0]).toBe(1);
    expect(model.tokenize('<s>hi', { addBos: false })).not.toContain(1);
    const ids = [1, ...model.tokenize('hi', { addBos: false }), 2];
    expect(model.detokenize(ids)).toBe('hi');
    expect(model.detokenize(ids, { special: true })).toBe('<s> hi</s>');
    // a continuation keeps its leading space when asked
    const cont = model.tokenize('there', { addBos: false }); // "▁there"
    expect(model.detokenize(cont)).toBe('there');
    expect(model.detokenize(cont, { stripLeadingSpace: false })).toBe(' there');
  });

  it('validates its arguments, naming the field', () => {
    const bad = (fn: () => unknown, field: string) => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(HyperionError);
        expect(e).toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field });
      }
    };
    bad(() => model.tokenize(42 as never), 'text');
    bad(() => model.tokenize('x', { addBos: 'yes' as never }), 'addBos');
    bad(() => model.tokenize('x', { bogus: true } as never), 'bogus');
    bad(() => model.detokenize([1, 512]), 'ids[1]');
    bad(() => model.detokenize([1, -1]), 'ids[1]');
    bad(() => model.detokenize([0.5]), 'ids[0]');
    bad(() => model.detokenize('abc' as never), 'ids');
    bad(() => tok.tokenText(9999), 'id');
    expect(model.detokenize([])).toBe('');
  });

  it('applies a chat template: a built-in one chosen from the special tokens, with the BOS text', () => {
    expect(tok.info.chatTemplate).toBeNull();
    const text = model.applyChatTemplate([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(text).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]');
    expect(model.applyChatTemplate([{ role: 'user', content: 'Hi' }], { template: 'chatml' })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(() => model.applyChatTemplate([{ role: 'user' }] as never)).toThrow(/messages\[0\]\.content/);
  });

  it('uses the file\'s own chat template when it has one', async () => {
    const withTemplate = path.join(tempDir(), 'templated.gguf');
    const template =
      '{% for m in messages %}{{ bos_token }}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}' +
      '{% if add_generation_prompt %}<assistant>{% endif %}';
    rewriteGguf(storiesPath, withTemplate, () => false, { 'tokenizer.chat_template': template });
    const m = await loadModel(withTemplate, { threads: 1 });
    try {
      expect(m.tokenizer!.info.chatTemplate).toBe(template);
      expect(m.applyChatTemplate([{ role: 'user', content: 'Hi' }])).toBe('<s><user>Hi</s><assistant>');
      expect(m.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: false })).toBe('<s><user>Hi</s>');
      // a vocabulary-only load sees the same template
      expect((await loadTokenizer(withTemplate)).applyChatTemplate([{ role: 'user', content: 'Hi' }])).toBe('<s><user>Hi</s><assistant>');
    } finally {
      await m.dispose();
    }
  });

  it('a model file without a vocabulary loads, and tokenizing says why it cannot', async () => {
    const dir = tempDir();
    const bare = path.join(dir, 'no-vocab.gguf');
    rewriteGguf(storiesPath, bare, (key) => key.startsWith('tokenizer.'));
    const m = await loadModel(bare, { threads: 1 });
    try {
      expect(m.info.hasVocabulary).toBe(false);
      expect(m.tokenizer).toBeNull();
      expect(() => m.tokenize('hi')).toThrow(expect.objectContaining({ code: 'HYPERION_MODEL_INVALID', field: 'tokenizer.ggml.tokens' }));
      expect(() => m.detokenize([1])).toThrow(expect.objectContaining({ code: 'HYPERION_MODEL_INVALID' }));
      // evaluation with ids still works
      expect((await m.evaluate([1, 403])).length).toBe(512);
      await expect(loadTokenizer(bare)).rejects.toMatchObject({ code: 'HYPERION_MODEL_INVALID', field: 'tokenizer.ggml.tokens' });
    } finally {
      await m.dispose();
    }
  });
});
