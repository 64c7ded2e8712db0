// The package in worker_threads: several workers and the main thread load and
// generate at once (each environment has its own addon instance; the C core,
// its memory pool and its threads are shared by the process), and a worker
// terminated in the middle of a generation gives back everything it held
// (the addon's environment cleanup hook stops its sessions and frees its
// models), while the process goes on.
//
// The pool is process-wide: getMemoryDebugInfo() in the main thread counts
// every environment's blocks. A worker's share is what appears after it
// starts (the main thread holding still meanwhile) and must be gone once it
// has exited.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel, loadModel, getMemoryDebugInfo } from '../src/index';
import { root, tempDir, waitFor } from './helpers';

let file = '';
beforeAll(async () => {
  file = path.join(tempDir('hyperion-workers-'), 'tiny.gguf');
  await makeModel(file, { shape: 'tiny', type: 'q4_0', seed: 4 });
});

/** Pool bytes in use by everything but the logger (whose queue comes and goes on its own thread). */
function liveBytes(): number {
  const info = getMemoryDebugInfo();
  return info.inUseBytes - (info.byTag.logging?.bytes ?? 0);
}

const GREEDY = { maxTokens: 16, temperature: 0, stopAtEos: false };
const PROMPT = 'Once upon a time';

interface Message {
  kind: string;
  [key: string]: unknown;
}

interface Started {
  worker: Worker;
  messages: Message[];
  next: (kind: string) => Promise<Message>;
  /** Settles with the exit code (listened to from the start: a worker may end before it is awaited). */
  exit: Promise<number>;
}

function startWorker(body: string): Started {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const h = require(${JSON.stringify(root)});
    const post = (m) => parentPort.postMessage(m);
    (async () => { ${body} })().catch((e) => post({ kind: 'error', code: e.code, message: String(e && e.stack || e) }));`;
  const worker = new Worker(code, { eval: true, workerData: { file, greedy: GREEDY, prompt: PROMPT } });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  worker.on('message', (m: Message) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const next = (kind: string) =>
    new Promise<Message>((resolve, reject) => {
      const look = () => {
        const found = messages.find((m) => m.kind === kind || m.kind === 'error');
        if (!found) return void waiters.push(look);
        if (found.kind === 'error' && kind !== 'error') reject(new Error(`worker: ${found.message as string}`));
        else resolve(found);
      };
      worker.once('error', reject);
      look();
    });
  return { worker, messages, next, exit };
}

describe('worker threads', () => {
  it('three workers and the main thread load and generate at once, with equal greedy results', async () => {
    const body = `
      const m = await h.loadModel(workerData.file, { threads: 1 });
      const s = m.createSession({ contextSize: 64 });
      const r = await s.complete(workerData.prompt, workerData.greedy);
      post({ kind: 'result', text: r.text, tokens: r.tokens });
      await s.dispose();
      await m.dispose();
      post({ kind: 'done' });`;
    const workers = [startWorker(body), startWorker(body), startWorker(body)];
    const model = await loadModel(file, { threads: 1 });
    const session = model.createSession({ contextSize: 64 });
    const mine = await session.complete(PROMPT, GREEDY);
    const theirs = await Promise.all(workers.map((w) => w.next('result')));
    for (const r of theirs) expect({ text: r.text, tokens: r.tokens }).toEqual({ text: mine.text, tokens: mine.tokens });
    expect(mine.tokens.length).toBe(16);
    await Promise.all(workers.map((w) => w.next('done')));
    expect(await Promise.all(workers.map((w) => w.exit))).toEqual([0, 0, 0]);
    await session.dispose();
    await model.dispose();
  });

  it('terminating a worker in the middle of a generation frees its native memory; the process goes on', async () => {
    // the main thread holds a model of its own throughout: only the worker's share must go
    const model = await loadModel(file, { threads: 1 });
    const session = model.createSession({ contextSize: 64 });
    const before = await session.complete(PROMPT, GREEDY);
    const baseline = liveBytes();
    const w = startWorker(`
      const m = await h.loadModel(workerData.file, { threads: 2 });
      const s = m.createSession({ contextSize: 256 });
      post({ kind: 'loaded', live: h.getMemoryDebugInfo().inUseBytes });
      let n = 0;
      for await (const piece of s.generate(workerData.prompt, { maxTokens: 240, temperature: 0.8, stopAtEos: false })) {
        if (++n === 5) post({ kind: 'generating' });
      }
      post({ kind: 'finished' });`);
    const loaded = await w.next('loaded');
    expect(loaded.live as number).toBeGreaterThan(baseline); // the worker's model and session, seen process-wide
    await w.next('generating');
    await w.worker.terminate();
    await w.exit;
    expect(w.messages.map((m) => m.kind)).not.toContain('error');
    await waitFor(() => liveBytes() === baseline, 5000);
    // the process is healthy: the main thread's model and session go on as before
    const after = await session.complete(PROMPT, GREEDY);
    expect(after.tokens).toEqual(before.tokens);
    const fresh = await loadModel(file, { threads: 2 });
    expect((await fresh.complete(PROMPT, GREEDY)).tokens).toEqual(before.tokens);
    await fresh.dispose();
    await session.dispose();
    await model.dispose();
  });

  it('workers terminated while loading, while generating and while idle all give their memory back', async () => {
    const baseline = liveBytes();
    const body = `
      const m = await h.loadModel(workerData.file, { threads: 1 });
      const sessions = [m.createSession({ contextSize: 128 }), m.createSession({ contextSize: 32 })];
      post({ kind: 'loaded' });
      const gen = sessions[0].generate(workerData.prompt, { maxTokens: 120, stopAtEos: false });
      for await (const piece of gen) void piece;
      post({ kind: 'idle' });
      setInterval(() => {}, 1000);`;
    const loading = startWorker(body);
    const generating = startWorker(body);
    const idle = startWorker(body);
    await generating.next('loaded');
    await idle.next('idle');
    const all = [loading, generating, idle];
    await Promise.all(all.map((w) => w.worker.terminate()));
    await Promise.all(all.map((w) => w.exit));
    await waitFor(() => liveBytes() === baseline, 5000);
    const model = await loadModel(file, { threads: 1 });
    expect((await model.complete(PROMPT, GREEDY)).tokens.length).toBe(16);
    await model.dispose();
    await waitFor(() => liveBytes() === baseline, 5000); // model.complete's session is freed as it ends
  });

  // Found by this file: a load finishing while its worker was torn down
  // settled into an environment that could no longer run JS (a fatal
  // napi_throw), or called a thread-safe function Node had already freed.
  it('60 workers terminated at staggered moments (loading, generating, idle): the process survives', async () => {
    const baseline = liveBytes();
    const body = `
      const m = await h.loadModel(workerData.file, { threads: 1 });
      const s = m.createSession({ contextSize: 128 });
      for await (const piece of s.generate(workerData.prompt, { maxTokens: 100, stopAtEos: false })) void piece;
      setInterval(() => {}, 1000);`;
    for (let i = 0; i < 60; i++) {
      const w = startWorker(body);
      await new Promise((r) => setTimeout(r, (i * 7) % 50));
      await w.worker.terminate();
      await w.exit;
    }
    await waitFor(() => liveBytes() === baseline, 5000);
    const model = await loadModel(file, { threads: 1 });
    expect((await model.complete(PROMPT, GREEDY)).tokens.length).toBe(16);
    await model.dispose();
  }, 120_000);
});
