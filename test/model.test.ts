// The model API on the real stories260K model (skipped with a message when
// ../shared is absent; the project's own generated models cover the rest).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, verifyModel, getModelInfo, HyperionError } from '../src/index';
import { sharedDir, tempDir } from './helpers';

const stories = path.join(sharedDir, 'models', 'stories260K.gguf');
const haveStories = fs.existsSync(stories);
if (!haveStories) console.warn(`model.test: ${stories} is absent; the tests that need it are skipped`);

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

describe.skipIf(!haveStories)('a real model (stories260K)', () => {
  it('loads off the main thread and reports its shape', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const model = await loadModel(stories, { threads: 2 });
    clearInterval(timer);
    expect(model.info).toMatchObject({ architecture: 'llama', vocabSize: 512, layers: 5, embeddingLength: 64, heads: 8, kvHeads: 4, headDim: 8, feedForwardLength: 172, contextLength: 128, tiedOutput: false, threads: 2 });
    expect(model.info.tensorTypes.f32.tensors).toBe(48);
    await model.dispose();
  });

  it('evaluates: last-token and all-token logits agree, and greedy decoding is stable across threads', async () => {
    const m1 = await loadModel(stories, { threads: 1 });
    const m2 = await loadModel(stories, { threads: 2 });
    const prompt = [1, 403, 407, 261, 378];
    const all = await m2.evaluate(prompt, { allLogits: true });
    expect(all.length).toBe(prompt.length * 512);
    const last = await m2.evaluate(prompt);
    expect(last.length).toBe(512);
    const lastRow = all.subarray(4 * 512);
    let maxDiff = 0;
    for (let i = 0; i < 512; i++) maxDiff = Math.max(maxDiff, Math.abs(lastRow[i] - last[i]));
    expect(maxDiff).toBeLessThan(1e-3);
    // greedy continuation: same tokens with 1 and 2 threads
    const seq1 = [1], seq2 = [1];
    for (let i = 0; i < 20; i++) {
      seq1.push(argmax(await m1.evaluate(seq1)));
      seq2.push(argmax(await m2.evaluate(seq2)));
    }
    expect(seq2).toEqual(seq1);
    await m1.dispose();
    await m2.dispose();
  });

  it('rejects bad token ids naming the index, and works afterwards', async () => {
    const model = await loadModel(stories);
    await expect(model.evaluate([1, 512])).rejects.toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field: 'tokens[1]' });
    await expect(model.evaluate([1, 2.5])).rejects.toBeInstanceOf(HyperionError);
    await expect(model.evaluate([])).rejects.toMatchObject({ field: 'tokens' });
    expect((await model.evaluate([1, 2])).length).toBe(512);
    await model.dispose();
    await expect(model.evaluate([1])).rejects.toMatchObject({ code: 'HYPERION_DISPOSED' });
    await model.dispose(); // idempotent
  });

  it('verifyModel and getModelInfo describe the file', async () => {
    const report = await verifyModel(stories);
    expect(report).toMatchObject({ ok: true, validGguf: true, version: 3, tensorCount: 48, architecture: 'llama', problems: [] });
    const info = await getModelInfo(stories, { contextSize: 128 });
    expect(info).toMatchObject({ ok: true, architecture: 'llama', vocabSize: 512, layers: 5, contextLength: 128 });
    expect(info.tensorTypes.f32.count).toBe(48);
    expect(info.memory?.kvCacheF16Bytes).toBe(2 * 5 * 128 * 32 * 2);
  });
});

describe('bad files', () => {
  it('give typed errors on load and a report from verifyModel, and the runtime stays usable', async () => {
    const dir = tempDir();
    const junk = path.join(dir, 'junk.gguf');
    fs.writeFileSync(junk, 'GGUF\x03\x00\x00\x00garbage');
    await expect(loadModel(junk)).rejects.toMatchObject({ code: 'HYPERION_MODEL_INVALID' });
    await expect(loadModel(path.join(dir, 'missing.gguf'))).rejects.toMatchObject({ code: 'HYPERION_IO' });
    const report = await verifyModel(junk);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ code: 'HYPERION_MODEL_INVALID' });
    expect(typeof report.problems[0].field).toBe('string');
    await expect(loadModel(junk, { threads: 0 })).rejects.toMatchObject({ field: 'threads' });
    if (haveStories) {
      const model = await loadModel(stories);
      expect(model.info.vocabSize).toBe(512);
      await model.dispose();
    }
  });
});
