// The vitest configuration of `npm run test:asan-addon`: the normal suite
// (vitest.config.mts) plus the leak canary, minus the files that cannot run
// under a preloaded ASan runtime for a real reason:
//  - test/prebuild.test.ts compiles the addon again with prebuildify (gcc and
//    the compiler processes would run under the preloaded runtime, and
//    LeakSanitizer reports the compiler's own deliberate leaks), and its point
//    is loading the plain prebuild, which this run replaces with the
//    sanitized build on purpose.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/**/*.test.ts', 'scripts/asan/canary.test.mjs'],
    exclude: ['test/prebuild.test.ts', '**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,   // ASan makes native code 2-3x slower
    hookTimeout: 480_000,
    teardownTimeout: 60_000,
  },
});
