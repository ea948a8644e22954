import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateDeals } from '../sample/generate.ts';
import { legacyResultHash, matchesStoredHash, r4, resultHash } from './hash.ts';
import { computeRsfsTable } from './rsfs.ts';
import { scoreDeals } from './score.ts';
import { DEFAULT_SCORING_SETTINGS, type ScoreResult } from './types.ts';

const data = generateDeals({ deals: 1_500, seed: 4, openFraction: 0.2 });
const closed = data.deals.filter((d) => d.outcome !== null);
const open = data.deals.filter((d) => d.outcome === null);
const ctx = {
  rsfs: computeRsfsTable(closed, DEFAULT_SCORING_SETTINGS),
  settings: DEFAULT_SCORING_SETTINGS,
  now: data.endDate,
  coLeadState: { load: {}, cursor: 0 }
};
const results = scoreDeals(null, ctx, open);
const withCoLeads = results.find((r) => r.coLeads.length > 0) as ScoreResult;

test('the digest of a known result never changes (stored hashes stay comparable)', () => {
  // Pinned: a different digest for the same result would store a new version of every deal at
  // the next rescore and write them all back to Salesforce.
  assert.equal(resultHash(results[0] as ScoreResult), 'r2:097ba1f20d675d2e');
  // The first release's scheme, still compared with digests stored under it.
  assert.equal(legacyResultHash(results[0] as ScoreResult), 'ee7c69af1d52048347324f41b9d0f0ee');
});

test('the same result hashes the same, also after a JSON round trip', () => {
  const r = results[0] as ScoreResult;
  assert.match(resultHash(r), /^r2:[0-9a-f]{16}$/);
  assert.equal(resultHash(r), resultHash(JSON.parse(JSON.stringify(r)) as ScoreResult));
  assert.deepEqual(
    scoreDeals(null, ctx, open).map(resultHash),
    results.map(resultHash),
    'scoring again with the same state gives the same hashes'
  );
});

test('different results get different digests', () => {
  assert.equal(new Set(results.map(resultHash)).size, results.length);
  // Strings are length-delimited: moving text from one field to the next changes the digest.
  const r = withCoLeads;
  const [c] = r.coLeads;
  assert.ok(c);
  const split = (repId: string, reason: string) =>
    resultHash({ ...r, coLeads: [{ ...c, repId, reason }] });
  assert.notEqual(split('rep_1', '2 wins'), split('rep_12', ' wins'));
  // Every rounded number matters, in either sign, at any magnitude.
  const seen = new Set<string>();
  for (const p of [0, 1e-4, -1e-4, 2 ** 32 / 1e4, -(2 ** 32) / 1e4, 1e10, -1e10, 1e15, 1e20]) {
    seen.add(resultHash({ ...r, probability: p }));
  }
  assert.equal(seen.size, 9);
});

test('the digest does not depend on what the hash cache holds', () => {
  const r = withCoLeads;
  const before = resultHash(r);
  // Thousands of distinct amount labels: that label group stops being cached on the way.
  const [first] = r.explanation.contributions;
  assert.ok(first, 'the result has factors');
  for (let i = 0; i < 40_000; i++) {
    const label = { ...first, feature: 'amount', label: `Amount ${i} is below typical` };
    resultHash({ ...r, explanation: { ...r.explanation, raising: [label] } });
  }
  assert.equal(resultHash(r), before);
  const amount = { ...first, feature: 'amount', label: 'Amount 7 is below typical' };
  const withAmount = { ...r, explanation: { ...r.explanation, raising: [amount] } };
  assert.equal(resultHash(withAmount), resultHash(JSON.parse(JSON.stringify(withAmount))));
  assert.notEqual(
    resultHash(withAmount),
    resultHash({
      ...withAmount,
      explanation: {
        ...withAmount.explanation,
        raising: [{ ...amount, label: 'Amount 8 is below typical' }]
      }
    })
  );
});

test('a stored digest of either scheme is recognised, and only for the same result', () => {
  const r = results[0] as ScoreResult;
  const other = results[1] as ScoreResult;
  const current = resultHash(r);
  assert.equal(matchesStoredHash(r, current, current), true);
  assert.equal(matchesStoredHash(r, current, legacyResultHash(r)), true, 'legacy digest');
  assert.equal(matchesStoredHash(r, current, legacyResultHash(other)), false);
  assert.equal(matchesStoredHash(r, current, resultHash(other)), false);
  assert.equal(matchesStoredHash(r, current, null), false, 'never scored');
});

test('differences below the stored precision do not change the hash', () => {
  const r = results[0] as ScoreResult;
  assert.equal(resultHash({ ...r, probability: r.probability + 1e-9 }), resultHash(r));
});

test('what is stored or written back changes the hash', () => {
  const r = withCoLeads;
  assert.ok(r, 'some open deal has co-lead suggestions');
  const h = resultHash(r);
  assert.notEqual(resultHash({ ...r, probability: r.probability + 0.001 }), h);
  assert.notEqual(resultHash({ ...r, riskBand: r.riskBand === 'HIGH' ? 'LOW' : 'HIGH' }), h);
  assert.notEqual(resultHash({ ...r, confidence: 'normal' }), h);
  assert.notEqual(resultHash({ ...r, modelVersion: 99 }), h);
  const [first, ...rest] = r.coLeads;
  assert.ok(first);
  assert.notEqual(
    resultHash({ ...r, coLeads: [{ ...first, isPrimary: !first.isPrimary }, ...rest] }),
    h
  );
  assert.notEqual(resultHash({ ...r, rsfs: r.rsfs && { ...r.rsfs, band: 'GREEN' } }), h);
  const [top] = r.explanation.lowering;
  if (top) {
    const lowering = [{ ...top, label: `${top.label}!` }, ...r.explanation.lowering.slice(1)];
    assert.notEqual(resultHash({ ...r, explanation: { ...r.explanation, lowering } }), h);
  }
});

test('numbers are hashed as toFixed(4) of the value rounded to 4 places prints them', () => {
  const pinned = (x: number) => (Math.round(x * 1e4) / 1e4).toFixed(4);
  const edges = [0, -0, 5e-5, -5e-5, 4.9999e-5, -4.9999e-5, 1e-4, -1e-4, 0.00015, -0.00025];
  const large = [1.00005, -1.00005, 123.45675, 99999999999.99995, 1e11, -1e12, 1e20, -1e20];
  const special = [NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE];
  for (const x of [...edges, ...large, ...special]) assert.equal(r4(x), pinned(x), `${x}`);
  // A fixed pseudo-random spread over many magnitudes, both signs.
  let seed = 7;
  const next = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < 20_000; i++) {
    const x = (next() - 0.5) * 2 * 10 ** Math.floor(next() * 16 - 8);
    assert.equal(r4(x), pinned(x), `${x}`);
  }
});
