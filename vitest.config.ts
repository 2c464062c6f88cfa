import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network and browser tests start servers and Chromium: two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
    // In-process leakscopes log nothing: tests assert on what the logger is called with, not on its output.
    env: { LEAKSCOPE_LOG: 'silent' },
  },
});
