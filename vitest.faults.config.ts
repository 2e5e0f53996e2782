import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The fault-injection suite (`npm run test:faults`, see faults/README.md): real processes, real
// servers, one scenario file at a time so crashes and load in one never starve another. Not part
// of `npm test`. Run it through faults/run.ts, which sets the seed (or directly: a seed is drawn).
const scale = Math.max(1, Number(process.env.ONCEKEY_FAULT_SCALE ?? 1));

export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['faults/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 240_000 * scale,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
