/**
 * Runs every ```ts block of README.md that is preceded by `<!-- test -->`. Each block is written
 * under test/.readme/ (gitignored) so vitest resolves its `oncekey…` imports to the sources, then
 * imported. A `console.log(…); // expected` line states what it must print.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/<!--\s*test\s*-->\s*\n```ts\n([\s\S]*?)\n```/g)].map((m) => m[1]!);

function expectedOutput(code: string): string[] {
  return code.split('\n').flatMap((line) => {
    const m = /^\s*console\.log\(.*\);\s*\/\/\s?(.*)$/.exec(line);
    return m ? [m[1]!.trim()] : [];
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('README', () => {
  it('has examples marked to run', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((code, i) => [i + 1, code] as const))('example %i prints what its comments say', async (n, code) => {
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(0);
    const dir = `${root}test/.readme`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/example-${n}.ts`;
    writeFileSync(file, `${code}\nexport {};\n`);
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(format(...args)));
    await import(`${pathToFileURL(file).href}?t=${Date.now()}`);
    expect(printed).toEqual(expected);
  });
});
