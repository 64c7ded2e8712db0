// soak-plan.mjs — the random requests of `npm run soak` (scripts/soak.mjs):
// what each request asks for and which failures it may end in. A plan is a
// function of the seed only; what happens to it (which abort wins the race
// with the last token) depends on timing and is what the soak checks.

/** mulberry32: a small seeded generator, [0, 1). */
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // [lo, hi]
  const pick = (list) => list[Math.floor(next() * list.length)];
  const chance = (p) => next() < p;
  return { next, int, pick, chance };
}

const WORDS = ['once', 'upon', 'a', 'time', 'there', 'was', 'little', 'cat', 'who', 'liked', 'to', 'play', 'in', 'the', 'sun', 'and', 'sky'];
const STOPS = ['e', 'th', ' the', 'a', 'xyz', '.', 'in', 'o '];
export const CONTEXT_SIZES = [32, 64, 128, 256];

/**
 * Invalid options: each must be refused synchronously with HYPERION_INVALID_ARGUMENT.
 * (The prompt and the rest of the request are valid.)
 */
const INVALID = [
  { topP: 0 },
  { temperature: -1 },
  { stop: [''] },
  { maxTokens: 1.5 },
  { logitBias: { 99999: 1 } },
  { debug: { topN: 0 } },
  { timeoutMs: -5 },
  { unknownOption: true },
];

function randomOptions(rng) {
  const o = { maxTokens: rng.pick([0, 1, 2, 4, 8, 8, 12, 16, 24, 32]) };
  if (rng.chance(0.3)) o.temperature = 0;
  else if (rng.chance(0.8)) o.temperature = Math.round(rng.next() * 150) / 100;
  if (rng.chance(0.5)) o.topK = rng.pick([0, 1, 5, 40, 100]);
  if (rng.chance(0.5)) o.topP = rng.pick([0.3, 0.8, 0.95, 1]);
  if (rng.chance(0.4)) o.minP = rng.pick([0, 0.02, 0.1, 0.3]);
  if (rng.chance(0.4)) o.repeatPenalty = rng.pick([1, 1.1, 1.5]);
  if (rng.chance(0.3)) o.frequencyPenalty = rng.pick([-0.5, 0, 0.3, 1]);
  if (rng.chance(0.3)) o.presencePenalty = rng.pick([-0.5, 0, 0.3, 1]);
  if (rng.chance(0.3)) o.repeatLastN = rng.pick([-1, 0, 8, 64]);
  if (rng.chance(0.8)) o.seed = rng.int(0, 2 ** 31);
  if (rng.chance(0.3)) o.stop = Array.from({ length: rng.int(1, 3) }, () => rng.pick(STOPS));
  if (rng.chance(0.2)) o.stopAtEos = rng.chance(0.5);
  if (rng.chance(0.25)) o.logprobs = true;
  if (rng.chance(0.15)) o.debug = rng.chance(0.5) ? true : { topN: rng.int(1, 8) };
  if (rng.chance(0.1)) o.logitBias = { [rng.int(3, 200)]: rng.chance(0.5) ? -Infinity : 2 };
  return o;
}

/**
 * The request number `index` of a lane. `vocab` bounds token ids; `history`
 * is the lane's last prompt and output (reused as a prefix to exercise the
 * session's cache).
 */
export function planRequest(rng, index, vocab, history) {
  const p = { index, options: randomOptions(rng), expect: new Set() };
  // the prompt: token ids (most), text, a long one (to be stopped while it is processed)
  const kind = rng.next();
  if (kind < 0.15) {
    p.prompt = Array.from({ length: rng.int(1, 12) }, () => rng.pick(WORDS)).join(' ');
    p.textPrompt = true;
  } else if (kind < 0.3) {
    p.prompt = [1, ...Array.from({ length: rng.int(60, 220) }, () => rng.int(3, vocab - 1))];
    p.long = true;
  } else if (kind < 0.6 && history && history.length < 200) {
    p.prompt = [...history, ...Array.from({ length: rng.int(1, 6) }, () => rng.int(3, vocab - 1))];
  } else {
    p.prompt = [1, ...Array.from({ length: rng.int(1, 24) }, () => rng.int(3, vocab - 1))];
  }
  p.temporary = rng.chance(0.06); // model.generate: a session of its own, freed at the end
  p.recreate = !p.temporary && rng.chance(0.03) ? rng.pick(CONTEXT_SIZES) : 0;

  // ways to stop it, and failures it may meet
  if (rng.chance(0.03)) p.preAborted = true;
  if (rng.chance(p.long ? 0.4 : 0.08)) p.abortAfterMs = rng.pick([0, 0, 1, 2, 5, 10, 20]);
  if (rng.chance(0.05)) p.abortAfterPieces = rng.int(0, 6);
  if (rng.chance(0.04)) p.breakAfterPieces = rng.int(0, 6);
  if (rng.chance(0.08)) p.options.timeoutMs = rng.pick([1, 2, 5, 10, 20]);
  if (rng.chance(0.04)) p.limit = { headroom: rng.chance(0.3) ? 0 : rng.int(0, 384 * 1024), recreate: rng.chance(0.35) };
  if (!p.temporary && rng.chance(0.02)) p.disposeAfterMs = rng.pick([0, 1, 3, 10]);
  if (rng.chance(0.01)) {
    Object.assign(p.options, rng.pick(INVALID));
    p.invalid = true;
  }

  if (p.invalid) p.only = 'HYPERION_INVALID_ARGUMENT';
  else if (p.preAborted) p.only = 'HYPERION_ABORTED';
  if (p.abortAfterMs !== undefined || p.abortAfterPieces !== undefined || p.breakAfterPieces !== undefined) p.expect.add('HYPERION_ABORTED');
  if (p.options.timeoutMs) p.expect.add('HYPERION_TIMEOUT');
  if (p.disposeAfterMs !== undefined) p.expect.add('HYPERION_DISPOSED');
  return p;
}

/** What a plan asked for, for the report of an unexpected outcome. */
export function describePlan(p) {
  const { signal, ...options } = p.options;
  void signal;
  const prompt = typeof p.prompt === 'string' ? JSON.stringify(p.prompt) : `${p.prompt.length} ids`;
  const flags = ['temporary', 'recreate', 'preAborted', 'abortAfterMs', 'abortAfterPieces', 'breakAfterPieces', 'disposeAfterMs', 'invalid']
    .filter((k) => p[k] !== undefined && p[k] !== false && p[k] !== 0)
    .map((k) => `${k}=${p[k]}`);
  if (p.limit) flags.push(`limit=+${p.limit.headroom}${p.limit.recreate ? ' (new session)' : ''}`);
  return `request ${p.index}: prompt ${prompt}, ${JSON.stringify(options)} ${flags.join(' ')}`;
}
