import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../testing/conformance.js';
import { sqliteStore } from './sqlite.js';

// A fresh database file per test (the suite creates one store per test), all under one temp dir.
const dir = mkdtempSync(join(tmpdir(), 'oncekey-sqlite-conformance-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance('sqlite', { create: (clock) => sqliteStore({ path: join(dir, `${++files}.db`), clock }) });
runStoreConformance('sqlite :memory:', { create: (clock) => sqliteStore({ path: ':memory:', clock }), modelRuns: 50 });
