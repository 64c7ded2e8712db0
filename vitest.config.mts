import { defineConfig } from 'vitest/config';

// pool 'forks': each test file runs in its own child process, so a native crash
// fails that file, not the whole run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
