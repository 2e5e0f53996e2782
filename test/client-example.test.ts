/**
 * The client example of docs/client.md (examples/client.ts word for word: see test/readme.test.ts) runs: one
 * lost answer, one retry with the same key, one order created, the first result replayed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const doc = readFileSync(new URL('docs/client.md', root), 'utf8');

describe('the client example in docs/client.md', () => {
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
