import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

// Tests import the package by its public names, resolved to the sources.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^oncekey$/, replacement: src('index.ts') },
      { find: /^oncekey\/memory$/, replacement: src('store/memory.ts') },
      { find: /^oncekey\/sqlite$/, replacement: src('store/sqlite.ts') },
      { find: /^oncekey\/postgres$/, replacement: src('store/postgres/index.ts') },
      { find: /^oncekey\/redis$/, replacement: src('store/redis/index.ts') },
      { find: /^oncekey\/testing$/, replacement: src('testing/conformance.ts') },
      { find: /^oncekey\/resilience$/, replacement: src('resilience/index.ts') },
      { find: /^oncekey\/http$/, replacement: src('http/index.ts') },
      { find: /^oncekey\/hono$/, replacement: src('http/hono.ts') },
      { find: /^oncekey\/express$/, replacement: src('http/express.ts') },
      { find: /^oncekey\/fastify$/, replacement: src('http/fastify.ts') },
      { find: /^oncekey\/node$/, replacement: src('http/node.ts') },
      { find: /^oncekey\/client$/, replacement: src('client/index.ts') },
      { find: /^oncekey\/gateway$/, replacement: src('gateway/index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
