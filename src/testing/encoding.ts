/**
 * What goes in comes out: outcomes byte-exact, keys and scopes with any characters, and scopes
 * that isolate records even when a naive `scope:key` join would make them collide.
 */
import { describe, expect, it } from 'vitest';
import type { KeyRef } from '../store/contract.js';
import { acquire, beginFields, expectKind, expectLeaseLost, expectSameString, lease, listAll, recordFields, storeCase } from './harness.js';
import type { ResolvedOptions } from './harness.js';

const TIMEOUT = 60_000;

/** About 1 MiB of text with multi-byte characters throughout. */
function megabyte(): string {
  const chunk = 'oncekey ☃ 𝄞 é \u0000 {"k":[1,2]}\n';
  return chunk.repeat(Math.ceil((1 << 20) / chunk.length));
}

const OUTCOMES: ReadonlyArray<readonly [string, string]> = [
  ['empty', ''],
  ['NUL alone', '\u0000'],
  ['NUL inside', 'a\u0000b\u0000'],
  ['unicode', 'héllo wörld — 日本語 𝄞 🎉 👩‍👩‍👧 \u200d \u202e'],
  ['whitespace', ' \r\n\t \r '],
  ['JSON', '{"status":201,"headers":{"content-type":"application/json"},"body":"{\\"id\\":1}"}'],
  ['backslashes and quotes', `\\ \\\\ " ' \` \\u0000 %s $1`],
  ['1 MB', megabyte()],
];

const ODD_REFS: ReadonlyArray<KeyRef> = [
  { scope: 'tenant:1:POST /orders', key: 'a:b:c' },
  { scope: '{hash-tag}', key: '{x}{y}' },
  { scope: 'a/b/../c', key: '/leading/slash/' },
  { scope: 'with  spaces ', key: ' key with spaces ' },
  { scope: 'ünïcødé 日本', key: '🔑𝄞é' },
  { scope: 'glob*?[ab]', key: '*' },
  { scope: "sql'%_\\", key: "'; DROP TABLE x; --" },
  { scope: 'line\nbreak\ttab', key: 'line\r\nbreak' },
  { scope: 'json"{}"', key: '["array"]' },
  { scope: 'long', key: 'k'.repeat(255) },
  { scope: 's'.repeat(500), key: 'long scope' },
];

export function describeEncoding(options: ResolvedOptions): void {
  const test = (name: string, body: Parameters<typeof storeCase>[1]) => it(name, storeCase(options, body), TIMEOUT);

  describe('outcomes', () => {
    test('round-trip exactly through begin (replay), get and list', async (store) => {
      for (const [i, [name, outcome]] of OUTCOMES.entries()) {
        const ref = { scope: 'outcomes', key: `k${i}` };
        const { token } = await acquire(store, ref);
        await store.commit(ref, token, outcome, 60_000);
        const replay = expectKind(await store.begin(ref, 'fp', lease(1000, 60_000)), 'replay', name);
        expectSameString(replay.outcome, outcome, `${name} via begin`);
        expectSameString((await store.get(ref))?.outcome, outcome, `${name} via get`);
      }
      const listed = await listAll(store, 'outcomes', 'completed', 1);
      expect(listed.length).toBe(OUTCOMES.length);
      for (const record of listed) {
        const [name, outcome] = OUTCOMES[Number(record.key.slice(1))]!;
        expectSameString(record.outcome, outcome, `${name} via list`);
      }
    });

    test('fingerprints compare exactly (case, trailing space, unicode)', async (store) => {
      const ref = { scope: 's', key: 'k' };
      await acquire(store, ref, 'Fp-é');
      for (const other of ['fp-é', 'Fp-é ', 'Fp-e\u0301', 'Fp-', 'Fp-é\u0000']) {
        expect(beginFields(await store.begin(ref, other, lease(1000, 60_000))), JSON.stringify(other)).toEqual({
          kind: 'mismatch',
          state: 'in_progress',
        });
      }
      expectKind(await store.begin(ref, 'Fp-é', lease(1000, 60_000)), 'in_progress');
    });
  });

  describe('keys and scopes', () => {
    test("may contain ':', '{', '}', '/', spaces, quotes, newlines, glob and SQL wildcards, unicode", async (store) => {
      for (const [i, ref] of ODD_REFS.entries()) {
        const { token } = await acquire(store, ref, `fp${i}`);
        expect(recordFields(await store.get(ref))).toMatchObject({ scope: ref.scope, key: ref.key, fingerprint: `fp${i}` });
        await store.commit(ref, token, `outcome ${i}`, 60_000);
      }
      for (const [i, ref] of ODD_REFS.entries()) {
        const what = JSON.stringify(ref);
        expect(beginFields(await store.begin(ref, `fp${i}`, lease(1000, 60_000))), what).toMatchObject({
          kind: 'replay',
          outcome: `outcome ${i}`,
        });
        const listed = await listAll(store, ref.scope);
        expect(
          listed.map((r) => [r.scope, r.key]),
          what,
        ).toEqual([[ref.scope, ref.key]]);
      }
      for (const ref of ODD_REFS) {
        expect(await store.delete(ref), JSON.stringify(ref)).toBe(true);
        expect(await store.get(ref)).toBeUndefined();
      }
    });

    test('keys are case-sensitive and whitespace-exact', async (store) => {
      const variants = ['key', 'KEY', 'Key', 'key ', ' key', 'ke y', 'clé', 'cle\u0301'];
      for (const key of variants) await acquire(store, { scope: 's', key });
      expect((await listAll(store, 's')).length).toBe(variants.length);
    });

    test('the same key in two scopes is two records', async (store) => {
      const a = { scope: 'tenant-a', key: 'same' };
      const b = { scope: 'tenant-b', key: 'same' };
      const ta = await acquire(store, a, 'fp-a');
      const tb = await acquire(store, b, 'fp-b');
      await expectLeaseLost(store.commit(a, tb.token, 'wrong scope', 60_000), "commit with another scope's token");
      await store.commit(a, ta.token, 'for a', 60_000);
      expect(recordFields(await store.get(b))).toMatchObject({ state: 'in_progress', token: tb.token, fingerprint: 'fp-b' });
      expect(beginFields(await store.begin(a, 'fp-a', lease(1000, 60_000)))).toMatchObject({ kind: 'replay', outcome: 'for a' });
      expectKind(await store.begin(b, 'fp-b', lease(1000, 60_000)), 'in_progress');
      expect((await listAll(store, 'tenant-a')).map((r) => r.outcome)).toEqual(['for a']);
      expect((await listAll(store, 'tenant-b')).map((r) => r.state)).toEqual(['in_progress']);
      await store.release(b, tb.token);
      expect(await store.get(a)).toBeDefined();
    });

    test("a scope and key that join to the same 'scope:key' string stay apart", async (store) => {
      const pairs: KeyRef[] = [
        { scope: 'a:b', key: 'c' },
        { scope: 'a', key: 'b:c' },
        { scope: 'a:', key: 'b:c' },
        { scope: 'a', key: ':b:c' },
        { scope: 'a/b', key: 'c' },
        { scope: 'a', key: 'b/c' },
      ];
      for (const [i, ref] of pairs.entries()) {
        expect(beginFields(await store.begin(ref, `fp${i}`, lease(1000, 60_000))), JSON.stringify(ref)).toMatchObject({
          kind: 'acquired',
          attempt: 1,
        });
      }
      for (const [i, ref] of pairs.entries()) {
        expect(recordFields(await store.get(ref))).toMatchObject({ ...ref, fingerprint: `fp${i}` });
      }
      expect((await listAll(store, 'a')).map((r) => r.key)).toEqual([':b:c', 'b/c', 'b:c']);
      expect((await listAll(store, 'a:b')).map((r) => r.key)).toEqual(['c']);
    });
  });
}
