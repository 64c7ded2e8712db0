import { describe, expect, it } from 'vitest';
import { packGenerationOptions } from '../src/generation-options';

describe('generation options', () => {
  it('fill defaults and keep what is given', () => {
    const { packed } = packGenerationOptions({ temperature: 0, maxTokens: 5, stop: '\n', seed: 7 });
    expect(packed).toMatchObject({ temperature: 0, maxTokens: 5, stop: ['\n'], seed: 7, topK: 40, stopAtEos: true, debugTopN: 0 });
  });

  it('pack logit bias from an object or pairs, and bound ids by the vocabulary', () => {
    expect(packGenerationOptions({ logitBias: { 5: -Infinity, 7: 2 } }, 10).packed.logitBias).toEqual([[5, -Infinity], [7, 2]]);
    expect(packGenerationOptions({ logitBias: [[3, 1.5]] }, 10).packed.logitBias).toEqual([[3, 1.5]]);
    expect(() => packGenerationOptions({ logitBias: { 10: 1 } }, 10)).toThrow(expect.objectContaining({ field: 'logitBias[10].tokenId' }));
    expect(() => packGenerationOptions({ logitBias: { 1: NaN } }, 10)).toThrow(expect.objectContaining({ field: 'logitBias[1]' }));
  });

  it('name the field of every bad value', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ temperature: -1 }, 'temperature'],
      [{ topP: 0 }, 'topP'],
      [{ topK: 1.5 }, 'topK'],
      [{ maxTokens: -1 }, 'maxTokens'],
      [{ repeatLastN: -2 }, 'repeatLastN'],
      [{ seed: -1 }, 'seed'],
      [{ stop: [''] }, 'stop[0]'],
      [{ stop: 5 }, 'stop'],
      [{ signal: {} }, 'signal'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ debug: { topN: 0 } }, 'debug.topN'],
      [{ temprature: 1 }, 'temprature'],
    ];
    for (const [opts, field] of cases) {
      expect(() => packGenerationOptions(opts), field).toThrow(expect.objectContaining({ code: 'HYPERION_INVALID_ARGUMENT', field }));
    }
  });

  it('pass an AbortSignal through', () => {
    const c = new AbortController();
    expect(packGenerationOptions({ signal: c.signal }).signal).toBe(c.signal);
  });
});
