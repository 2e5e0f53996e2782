/**
 * Every ```ts block of README.md and docs/*.md runs in the tests. A block is preceded by one of:
 * - `<!-- test -->`: written under test/.readme/ (gitignored, so vitest resolves its `oncekey…`
 *   imports to the sources) and imported in a fresh working directory; each
 *   `console.log(…); // expected` line states what it must print;
 * - `<!-- test: postgres -->`, `<!-- test: redis -->`: the same, with `DATABASE_URL` set to a
 *   throwaway database, or `REDIS_URL` to a private redis-server (skipped loudly without services);
 * - `<!-- same as: path -->`: the block is that file word for word (a test runs the file).
 * A block with none of them fails the first test, so no example goes untested.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { POSTGRES_URL, describePostgres, describeRedis } from './helpers/services.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(`${root}docs`).map((name) => `docs/${name}`)].filter((page) => page.endsWith('.md'));

interface Block {
  readonly page: string;
  readonly n: number;
  readonly marker: string | undefined;
  readonly code: string;
}

const blocks: Block[] = pages.flatMap((page) => {
  const text = readFileSync(`${root}${page}`, 'utf8');
  return [...text.matchAll(/(?:<!--\s*(.*?)\s*-->\s*\n)?```ts\n([\s\S]*?)\n```/g)].map((m, i) => ({
    page,
    n: i + 1,
    marker: m[1],
    code: m[2]!,
  }));
});
const marked = (marker: string): Block[] => blocks.filter((block) => block.marker === marker);
const name = (block: Block): string => `${block.page} example ${block.n}`;

function expectedOutput(code: string): string[] {
  return code.split('\n').flatMap((line) => {
    const m = /^\s*console\.log\(.*\);\s*\/\/\s?(.*)$/.exec(line);
    return m ? [m[1]!.trim()] : [];
  });
}

/** Runs `block` in a directory of its own (files it creates land there) and checks what it printed. */
async function runExample(block: Block): Promise<void> {
  const expected = expectedOutput(block.code);
  expect(expected.length).toBeGreaterThan(0);
  const dir = `${root}test/.readme`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/${block.page.replace(/[/.]/g, '-')}-${block.n}.ts`;
  writeFileSync(file, `${block.code}\nexport {};\n`);
  const cwd = process.cwd();
  const work = mkdtempSync(join(tmpdir(), 'oncekey-docs-'));
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(format(...args)));
  try {
    process.chdir(work);
    await import(`${pathToFileURL(file).href}?t=${Date.now()}`);
  } finally {
    process.chdir(cwd);
    rmSync(work, { recursive: true, force: true });
  }
  expect(printed).toEqual(expected);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('README and docs', () => {
  it('every ts block is run, or is a file that runs', () => {
    const unmarked = blocks.filter((block) => !/^(test(: (postgres|redis))?|same as: \S+)$/.test(block.marker ?? ''));
    expect(unmarked.map(name)).toEqual([]);
    expect(marked('test').length).toBeGreaterThan(5);
  });

  it.each(marked('test').map((block) => [name(block), block] as const))('%s prints what its comments say', async (_, block) => {
    await runExample(block);
  });

  it.each(blocks.filter((block) => block.marker?.startsWith('same as: ')).map((block) => [name(block), block] as const))(
    '%s is its file word for word',
    (_, block) => {
      const path = block.marker!.slice('same as: '.length);
      expect(`${block.code}\n`).toBe(readFileSync(`${root}${path}`, 'utf8'));
    },
  );
});

describePostgres()('docs examples on PostgreSQL', () => {
  const database = `oncekey_docs_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });

  beforeAll(async () => {
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${database}`;
    process.env.DATABASE_URL = url.href;
  });
  afterAll(async () => {
    delete process.env.DATABASE_URL;
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it.each(marked('test: postgres').map((block) => [name(block), block] as const))('%s prints what its comments say', async (_, block) => {
    await runExample(block);
  });
});

describeRedis()('docs examples on Redis', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
    process.env.REDIS_URL = server.url;
  });
  afterAll(async () => {
    delete process.env.REDIS_URL;
    await server.destroy();
  });

  it.each(marked('test: redis').map((block) => [name(block), block] as const))('%s prints what its comments say', async (_, block) => {
    await runExample(block);
  });
});
