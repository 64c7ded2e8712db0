import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeModel, modelMakerCatalog, loadModel, verifyModel } from '../src/index';
import { tempDir } from './helpers';

describe('makeModel', () => {
  it('knows the three shapes and seven types', () => {
    const c = modelMakerCatalog();
    expect(c.shapes.map((s) => s.name)).toEqual(['tiny', 'stories110m', 'tinyllama-1.1b']);
    expect(c.types).toEqual(expect.arrayContaining(['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k_m', 'q5_k_m']));
  });

  it('writes loadable, deterministic models of every type', async () => {
    const dir = tempDir();
    for (const type of modelMakerCatalog().types) {
      const file = path.join(dir, `tiny-${type}.gguf`);
      const progress: number[] = [];
      const made = await makeModel(file, { type, seed: 5, onProgress: (d, t) => progress.push(d / t) });
      expect(made.bytes).toBeGreaterThan(0);
      expect((await verifyModel(file)).ok).toBe(true);
      const model = await loadModel(file, { threads: 1 });
      const logits = await model.evaluate([1, 2, 3]);
      expect(logits.length).toBe(model.info.vocabSize);
      expect(logits.every(Number.isFinite)).toBe(true);
      await model.dispose();
      await new Promise((r) => setTimeout(r, 10)); // let the last progress calls arrive
      expect(progress.at(-1)).toBe(1);
    }
    const again = path.join(dir, 'again.gguf');
    await makeModel(again, { type: 'q4_k_m', seed: 5 });
    expect(fs.readFileSync(again).equals(fs.readFileSync(path.join(dir, 'tiny-q4_k_m.gguf')))).toBe(true);
    await makeModel(again, { type: 'q4_k_m', seed: 6 });
    expect(fs.readFileSync(again).equals(fs.readFileSync(path.join(dir, 'tiny-q4_k_m.gguf')))).toBe(false);
  });

  it('validates options naming the field, and honours an abort', async () => {
    const dir = tempDir();
    await expect(makeModel(path.join(dir, 'x.gguf'), { shape: 'huge' })).rejects.toMatchObject({ field: 'shape' });
    await expect(makeModel(path.join(dir, 'x.gguf'), { type: 'q3_k' })).rejects.toMatchObject({ field: 'type' });
    await expect(makeModel(path.join(dir, 'no-such-dir', 'x.gguf'))).rejects.toMatchObject({ code: 'HYPERION_IO' });
    const controller = new AbortController();
    const pending = makeModel(path.join(dir, 'big.gguf'), { shape: 'stories110m', type: 'q8_0', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'HYPERION_ABORTED' });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('big'))).toEqual([]);
  });
});

describe('KV cache type', () => {
  it("is f16 by default; 'f32' doubles the kv-cache bytes and the two give close logits", async () => {
    const { getMemoryDebugInfo } = await import('../src/index');
    const dir = tempDir('hyperion-kv-');
    const file = path.join(dir, 'tiny.gguf');
    await makeModel(file, { type: 'f32', seed: 9 });
    const kvBytes = () => getMemoryDebugInfo().byTag['kv-cache']?.bytes ?? 0;
    const m16 = await loadModel(file, { threads: 1 });
    const m32 = await loadModel(file, { threads: 1, kvCacheType: 'f32' });
    expect(m16.info.kvCacheType).toBe('f16');
    expect(m32.info.kvCacheType).toBe('f32');
    const base = kvBytes();
    const s16 = m16.createSession({ contextSize: 64 });
    const with16 = kvBytes() - base;
    const s32 = m32.createSession({ contextSize: 64 });
    const with32 = kvBytes() - base - with16;
    expect(with16).toBeGreaterThan(0);
    expect(with32).toBe(2 * with16);
    await s16.dispose();
    await s32.dispose();
    const prompt = [1, 5, 99, 300, 7];
    const a = await m16.evaluate(prompt);
    const b = await m32.evaluate(prompt);
    let num = 0, den = 0;
    for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
    // F16 keeps 11 significant bits of K and V: ~5e-4 relative per value, less after attention averages them
    expect(Math.sqrt(num / den)).toBeLessThan(2e-3);
    await expect(loadModel(file, { kvCacheType: 'q8_0' as never })).rejects.toMatchObject({ code: 'HYPERION_INVALID_ARGUMENT', field: 'kvCacheType' });
    await m16.dispose();
    await m32.dispose();
  });
});

describe('repacked weights', () => {
  it('copies the per-token weights into the pool (Q4_0 and Q8_0 in the x8 layout on AVX-512), with the same logits as the mapping, and can be turned off', async () => {
    const { getMemoryDebugInfo, getModelInfo } = await import('../src/index');
    const file = path.join(tempDir('hyperion-repack-'), 'tiny.gguf');
    await makeModel(file, { type: 'q4_0', seed: 12 });
    const repackedBytes = () => getMemoryDebugInfo().byTag['repacked-weights']?.bytes ?? 0;
    const before = repackedBytes();
    const packed = await loadModel(file, { threads: 2 });
    const mapped = await loadModel(file, { threads: 2, repackWeights: false });
    expect(mapped.info.repackedTensors).toBe(0);
    expect(mapped.info.repackedBytes).toBe(0);
    // getModelInfo says beforehand what the load will copy (each tensor 64-byte aligned in the block)
    const planned = (await getModelInfo(file)).memory!.repackedWeightsBytes;
    expect(planned).toBeGreaterThanOrEqual(packed.info.repackedBytes);
    expect(planned).toBeLessThan(packed.info.repackedBytes + 64 * packed.info.repackedTensors + 1);
    // 2 layers x (7 matrices + 2 norms) + the output norm and matrix, on every CPU (x8 or as they are)
    expect(packed.info.repackedTensors).toBe(20);
    expect(packed.info.repackedBytes).toBeGreaterThan(0);
    expect(repackedBytes() - before).toBeGreaterThanOrEqual(packed.info.repackedBytes);
    // the x8 kernels make the same sums in the same order: equal logits, prompt (tiles) and decode (matvec)
    const prompt = [1, 5, 99, 300, 7, 42, 17, 8];
    expect(Array.from(await packed.evaluate(prompt, { allLogits: true }))).toEqual(Array.from(await mapped.evaluate(prompt, { allLogits: true })));
    const a = await packed.complete(prompt, { maxTokens: 8, temperature: 0 });
    const b = await mapped.complete(prompt, { maxTokens: 8, temperature: 0 });
    expect(a.tokens).toEqual(b.tokens);
    await packed.dispose();
    await mapped.dispose();
    expect(repackedBytes()).toBe(before);
    // Q8_0 too; its x8 decode kernel adds the same block sums in another float order, the prompt tiles are exact
    const file8 = path.join(tempDir('hyperion-repack-'), 'tiny-q8.gguf');
    await makeModel(file8, { type: 'q8_0', seed: 12 });
    const packed8 = await loadModel(file8, { threads: 2 });
    const mapped8 = await loadModel(file8, { threads: 2, repackWeights: false });
    expect(packed8.info.repackedTensors).toBe(20);
    expect(Array.from(await packed8.evaluate(prompt, { allLogits: true }))).toEqual(Array.from(await mapped8.evaluate(prompt, { allLogits: true })));
    await packed8.dispose();
    await mapped8.dispose();
    // K-quants have no other layout: copied as they are and read by the same kernels, so the same bits
    const fileK = path.join(tempDir('hyperion-repack-'), 'tiny-qk.gguf');
    await makeModel(fileK, { type: 'q4_k_m', seed: 12 });
    const packedK = await loadModel(fileK, { threads: 2 });
    const mappedK = await loadModel(fileK, { threads: 2, repackWeights: false });
    expect(packedK.info.repackedTensors).toBe(20);
    expect((await getModelInfo(fileK)).memory!.repackedWeightsBytes).toBeLessThan(packedK.info.repackedBytes + 64 * 20 + 1);
    const c = await packedK.complete(prompt, { maxTokens: 8, temperature: 0 });
    const d = await mappedK.complete(prompt, { maxTokens: 8, temperature: 0 });
    expect(c.tokens).toEqual(d.tokens);
    expect(Array.from(await packedK.evaluate(prompt, { allLogits: true }))).toEqual(Array.from(await mappedK.evaluate(prompt, { allLogits: true })));
    await packedK.dispose();
    await mappedK.dispose();
    await expect(loadModel(file, { repackWeights: 'yes' as never })).rejects.toMatchObject({
      code: 'HYPERION_INVALID_ARGUMENT',
      field: 'repackWeights',
    });
  });
});
