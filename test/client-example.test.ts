/**
 * The client example of docs/client.md is examples/client.ts word for word, and it runs: one
 * lost answer, one retry with the same key, one order created, the first result replayed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const example = readFileSync(new URL('examples/client.ts', root), 'utf8');
const doc = readFileSync(new URL('docs/client.md', root), 'utf8');

describe('the client example in docs/client.md', () => {
  it('is the code of examples/client.ts, word for word', () => {
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('flakyFetch'));
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toBe(example);
  });

  it('prints what the docs say it prints', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/client.ts'], {
      cwd: fileURLToPath(root),
      timeout: 30_000,
    });
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(stdout).toBe(printed);
    expect(stdout).toContain('orders created: 1');
  });
});
