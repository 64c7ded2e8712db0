// chat-sandbox.ts — renders an untrusted chat template (a model file's
// tokenizer.chat_template) in a worker thread with a time box and a heap cap.
//
// Why: a template's loops are bounded only by its own numbers. In
// @huggingface/jinja `{{ 4 // 0 }}` is Infinity and `range(Infinity)` never
// returns; a loop that builds a list can exhaust the heap. Rendered on the
// caller's thread, either would stall or kill the whole service. Here the
// render runs in a long-lived worker (own V8 heap, capped by resourceLimits):
// the caller posts the request and waits on shared memory (Atomics.wait) for
// at most `timeoutMs`; a render that does not finish in time, or whose worker
// dies of its heap cap, ends in a typed error and the worker is terminated and
// replaced on the next call. The API stays synchronous, as a template render
// normally takes well under a millisecond.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { HyperionError } from './errors';

/** The largest rendered prompt the sandbox hands back (characters). */
export const MAX_RENDERED_CHARS = 16 * 1024 * 1024;
/** The worker's V8 old-generation heap cap. */
const HEAP_LIMIT_MB = 256;
/** How long the first render may wait for the worker to start (not part of the time box). */
const STARTUP_TIMEOUT_MS = 15_000;

// flags[0]: sequence number of the last finished render; flags[1]: 1 once the worker is ready.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { Template } = require(workerData.jinjaPath);
const flags = new Int32Array(workerData.shared);
const port = workerData.port;
const compiled = new Map();
port.on('message', ({ seq, source, context, maxChars }) => {
  let reply;
  try {
    let t = compiled.get(source);
    if (!t) {
      t = new Template(source);
      if (compiled.size > 32) compiled.clear();
      compiled.set(source, t);
    }
    const text = t.render(context);
    reply = text.length > maxChars
      ? { seq, ok: false, tooLong: text.length }
      : { seq, ok: true, text };
  } catch (e) {
    reply = { seq, ok: false, message: String(e && e.message ? e.message : e) };
  }
  port.postMessage(reply);
  Atomics.store(flags, 0, seq);
  Atomics.notify(flags, 0);
});
Atomics.store(flags, 1, 1);
Atomics.notify(flags, 1);
`;

interface SandboxWorker {
  worker: Worker;
  port: MessagePort;
  flags: Int32Array;
  seq: number;
}

let current: SandboxWorker | null = null;

function startWorker(): SandboxWorker {
  const shared = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { jinjaPath: require.resolve('@huggingface/jinja'), shared, port: port2 },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
  // The worker must never keep the process alive, and its death (heap cap,
  // termination) is handled by the caller's time box, not by an event.
  worker.unref();
  worker.on('error', () => {});
  port1.unref();
  return { worker, port: port1, flags: new Int32Array(shared), seq: 0 };
}

function stopWorker(w: SandboxWorker): void {
  if (current === w) current = null;
  w.port.close();
  void w.worker.terminate();
}

/** Block until flags[index] !== notValue or the deadline passes; true when it changed. */
function waitForChange(flags: Int32Array, index: number, notValue: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Atomics.load(flags, index) !== notValue) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(flags, index, notValue, left);
  }
}

export interface SandboxRequest {
  source: string;
  context: Record<string, unknown>;
  /** Where the template came from, for messages ("the model's tokenizer.chat_template"). */
  origin: string;
  timeoutMs: number;
}

/** Render request.source with request.context; throws HyperionError (never hangs past the time box). */
export function renderInSandbox(request: SandboxRequest): string {
  const w = current ?? (current = startWorker());
  if (!waitForChange(w.flags, 1, 0, STARTUP_TIMEOUT_MS)) {
    stopWorker(w);
    throw new HyperionError(`the chat-template worker did not start within ${STARTUP_TIMEOUT_MS} ms`, {
      code: 'HYPERION_INTERNAL',
      fields: { field: 'tokenizer.chat_template' },
      file: 'src/chat-sandbox.ts',
    });
  }
  const seq = ++w.seq;
  w.port.postMessage({ seq, source: request.source, context: request.context, maxChars: MAX_RENDERED_CHARS });
  const finished = waitForChange(w.flags, 0, seq - 1, request.timeoutMs);
  let reply: { seq: number; ok: boolean; text?: string; message?: string; tooLong?: number } | undefined;
  for (let m = receiveMessageOnPort(w.port); m; m = receiveMessageOnPort(w.port)) {
    if (m.message.seq === seq) reply = m.message;
  }
  if (!finished || !reply) {
    // Still looping, or dead of its heap cap: either way this worker is done.
    stopWorker(w);
    throw new HyperionError(
      `chat template (${request.origin}) did not finish within ${request.timeoutMs} ms ` +
        `(or exhausted the renderer's ${HEAP_LIMIT_MB} MiB heap); the render was stopped`,
      {
        code: 'HYPERION_TIMEOUT',
        suggestion: 'the template is probably hostile or broken: pass { template: "chatml" } (or llama2, llama3, zephyr) to use a built-in format, or raise { timeoutMs }',
        fields: { field: 'tokenizer.chat_template', template: request.origin, timeoutMs: request.timeoutMs },
        file: 'src/chat-sandbox.ts',
      },
    );
  }
  if (reply.ok) return reply.text as string;
  if (reply.tooLong !== undefined) {
    throw new HyperionError(
      `chat template (${request.origin}) rendered ${reply.tooLong} characters, more than the ${MAX_RENDERED_CHARS} allowed`,
      {
        code: 'HYPERION_MODEL_INVALID',
        suggestion: 'pass { template: "chatml" } (or llama2, llama3, zephyr) to use a built-in format',
        fields: { field: 'tokenizer.chat_template', template: request.origin, length: reply.tooLong, limit: MAX_RENDERED_CHARS },
        file: 'src/chat-sandbox.ts',
      },
    );
  }
  throw new HyperionError(`chat template (${request.origin}) failed: ${reply.message}`, {
    code: 'HYPERION_MODEL_INVALID',
    suggestion: 'pass { template: "chatml" } (or llama2, llama3, zephyr) to use a built-in format',
    fields: { field: 'tokenizer.chat_template', template: request.origin },
    file: 'src/chat-sandbox.ts',
  });
}

/** Stop the sandbox worker now (tests; a process exits without it as the worker is unref'd). */
export function closeChatSandbox(): void {
  if (current) stopWorker(current);
}
