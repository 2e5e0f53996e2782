import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The fault-injection suite (`npm run test:faults`, see faults/README.md): real processes, real
// servers, one scenario file at a time so crashes and load in one never starve another.
const soakMs = Number(process.env.ONCEKEY_FAULT_DURATION_MS ?? 0);

export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 240_000 + soakMs,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
