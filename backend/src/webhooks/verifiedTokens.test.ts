import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifiedTokenCache } from './verifiedTokens.ts';
import type { Principal } from '../api/principal.ts';

type Entry = { principal: Principal; key: string | null };
const principal: Principal = { orgId: 'ORG-1', userId: 'u1', role: 'manager', via: 'operator' };
const T0 = 1_800_000_000_000; // epoch ms
const expIn = (seconds: number) => (T0 + seconds * 1000) / 1000;

describe('verifiedTokenCache: tokens that verified, kept until they expire', () => {
  test('keeps a verified token until its exp, then forgets it', () => {
    const cache = verifiedTokenCache<Entry>(60_000);
    cache.set('tok', { principal, key: null }, expIn(30), T0);
    assert.deepEqual(cache.get('tok', T0 + 29_999)?.value.principal, principal);
    assert.equal(cache.get('tok', T0 + 30_000), null);
    assert.equal(cache.size, 0);
  });

  test('never longer than its own lifetime, even for a long-lived token', () => {
    const cache = verifiedTokenCache<Entry>(5_000);
    cache.set('tok', { principal, key: null }, expIn(3600), T0);
    assert.ok(cache.get('tok', T0 + 4_999));
    assert.equal(cache.get('tok', T0 + 5_000), null);
  });

  test('a token without a numeric exp, or already expired, is not kept', () => {
    const cache = verifiedTokenCache<Entry>();
    cache.set('no-exp', { principal, key: null }, undefined, T0);
    cache.set('text-exp', { principal, key: null }, String(expIn(30)), T0);
    cache.set('expired', { principal, key: null }, expIn(-1), T0);
    assert.equal(cache.size, 0);
  });

  test('only the exact token text matches', () => {
    const cache = verifiedTokenCache<Entry>();
    cache.set('header.claims.sig', { principal, key: null }, expIn(30), T0);
    assert.equal(cache.get('header.claims.sig2', T0), null);
    assert.equal(cache.get('header.claims.si', T0), null);
    assert.ok(cache.get('header.claims.sig', T0));
  });

  test('the kept value is a frozen copy: no request can change what another one sees', () => {
    const cache = verifiedTokenCache<{ role: string; key: string }>();
    const mine = { role: 'manager', key: 'PEM' };
    cache.set('tok', mine, expIn(30), T0);
    mine.role = 'admin';
    const hit = cache.get('tok', T0)!;
    assert.deepEqual(hit.value, { role: 'manager', key: 'PEM' });
    assert.equal(hit.from, T0);
    assert.throws(() => {
      (hit.value as { role: string }).role = 'admin';
    }, TypeError);
  });

  test('bounded: when full it starts again rather than grow', () => {
    const cache = verifiedTokenCache<Entry>(60_000, 3);
    for (const t of ['a', 'b', 'c', 'd']) cache.set(t, { principal, key: null }, expIn(30), T0);
    assert.ok(cache.size <= 3);
    assert.ok(cache.get('d', T0));
  });
});
