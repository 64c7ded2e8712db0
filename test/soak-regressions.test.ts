// Bugs found by the soak (scripts/soak.mjs), each kept as a regression test.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel, loadModel } from '../src/index';
import { tempDir } from './helpers';

let file = '';
beforeAll(async () => {
  file = path.join(tempDir('hyperion-soakreg-'), 'tiny.gguf');
  await makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 2 });
});

describe('soak regressions', () => {
  // The signal was applied after the request had been queued, so a short
  // request (its prompt already cached, one token) often ran to completion
  // first: seed 1, request 84 of `npm run soak -- --requests 600`.
  it('an already aborted signal stops even a request its thread could finish at once', async () => {
    const model = await loadModel(file, { threads: 1 });
    const session = model.createSession({ contextSize: 32 });
    await session.complete([1, 2, 3], { maxTokens: 1, temperature: 0 });
    const cached = session.cachedTokens;
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      try {
        await session.complete([1, 2, 3], { maxTokens: 1, temperature: 0, signal: AbortSignal.abort() });
        codes.add('succeeded');
      } catch (e) {
        codes.add((e as { code: string }).code);
      }
    }
    expect([...codes]).toEqual(['HYPERION_ABORTED']);
    expect(session.cachedTokens).toBe(cached);
    await model.dispose();
  });
});
