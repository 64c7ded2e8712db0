// generation-util.ts — shared by the tokenizer, session and generation tests:
// the shared test files, a GGUF rewriter (drops metadata keys, e.g. to make a
// weights-only model), and the native memory figures.
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../src/native';
import { sharedDir } from './helpers';

export const storiesPath = path.join(sharedDir, 'models', 'stories260K.gguf');
export const haveStories = fs.existsSync(storiesPath);
export const vocabDir = path.join(sharedDir, 'vocab');

/** Native bytes and blocks in use. */
export function nativeMemory(): { inUseBytes: number; activeAllocations: number } {
  const s = native().memoryStats() as { inUseBytes: number; activeAllocations: number };
  return { inUseBytes: s.inUseBytes, activeAllocations: s.activeAllocations };
}

/**
 * Copy a GGUF v2/v3 file, leaving out the metadata keys for which drop(key)
 * is true. Tensor infos and data are kept as they are (their offsets are
 * relative to the data section, which is re-aligned). addStrings: string
 * keys to append.
 */
export function rewriteGguf(src: string, dst: string, drop: (key: string) => boolean, addStrings: Record<string, string> = {}): void {
  const buf = fs.readFileSync(src);
  let at = 0;
  const u32 = () => { const v = buf.readUInt32LE(at); at += 4; return v; };
  const u64 = () => { const v = Number(buf.readBigUInt64LE(at)); at += 8; return v; };
  const str = () => { const n = u64(); const s = buf.toString('utf8', at, at + n); at += n; return s; };
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skipValue = (type: number): void => {
    if (type === 8) { str(); return; }
    if (type === 9) {
      const et = u32();
      const n = u64();
      if (et === 8) for (let i = 0; i < n; i++) str();
      else at += n * SIZES[et];
      return;
    }
    at += SIZES[type];
  };
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error(`${src} is not a GGUF file`);
  at = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kept: Buffer[] = [];
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const start = at;
    const key = str();
    const type = u32();
    if (key === 'general.alignment') alignment = buf.readUInt32LE(at);
    skipValue(type);
    if (!drop(key)) kept.push(buf.subarray(start, at));
  }
  for (const [key, value] of Object.entries(addStrings)) {
    const k = Buffer.from(key);
    const v = Buffer.from(value);
    const kv = Buffer.alloc(8 + k.length + 4 + 8 + v.length);
    kv.writeBigUInt64LE(BigInt(k.length), 0);
    k.copy(kv, 8);
    kv.writeUInt32LE(8, 8 + k.length);
    kv.writeBigUInt64LE(BigInt(v.length), 12 + k.length);
    v.copy(kv, 20 + k.length);
    kept.push(kv);
  }
  const infoStart = at;
  for (let i = 0; i < nTensors; i++) {
    str();
    const dims = u32();
    at += dims * 8 + 4 + 8;
  }
  const infos = buf.subarray(infoStart, at);
  const dataStart = Math.ceil(at / alignment) * alignment;
  const header = Buffer.alloc(24);
  header.write('GGUF', 0, 'latin1');
  header.writeUInt32LE(version, 4);
  header.writeBigUInt64LE(BigInt(nTensors), 8);
  header.writeBigUInt64LE(BigInt(kept.length), 16);
  const head = Buffer.concat([header, ...kept, infos]);
  const pad = Buffer.alloc((alignment - (head.length % alignment)) % alignment);
  fs.writeFileSync(dst, Buffer.concat([head, pad, buf.subarray(dataStart)]));
}

/** The test strings and expected ids of a shared reference vocabulary. */
export function vocabCases(name: string): Array<{ text: string | null; bytes: Buffer; ids: number[] }> {
  const inp = fs.readFileSync(path.join(vocabDir, `${name}.inp`));
  const out = fs.readFileSync(path.join(vocabDir, `${name}.out`), 'utf8').split('\n');
  const marker = Buffer.from('\n__ggml_vocab_test__\n');
  const cases: Array<{ text: string | null; bytes: Buffer; ids: number[] }> = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  while (at < inp.length) {
    const m = inp.indexOf(marker, at);
    const bytes = inp.subarray(at, m < 0 ? inp.length : m);
    let text: string | null;
    try {
      text = decoder.decode(bytes);
    } catch {
      text = null; // not valid UTF-8: a JS string cannot carry it
    }
    const line = out[cases.length] ?? '';
    cases.push({ text, bytes, ids: line.trim() ? line.trim().split(/\s+/).map(Number) : [] });
    at = m < 0 ? inp.length : m + marker.length;
  }
  return cases;
}
