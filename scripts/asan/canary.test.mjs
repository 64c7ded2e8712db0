// canary.test.mjs — run only by `npm run test:asan-addon` (its own vitest
// config): leaks one block on purpose from inside a vitest worker, the same
// kind of process the addon's tests run in. scripts/asan-addon.mjs then
// requires LeakSanitizer's report of that block; if it is missing, the leak
// check never ran and the run fails.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

it('leaks one 4242-byte block for LeakSanitizer to find', () => {
  const require = createRequire(import.meta.url);
  const canary = require(process.env.HYPERION_ASAN_CANARY);
  expect(canary.leak()).toBe(true);
});
