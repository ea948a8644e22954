import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import type { Explanation, ScoreResult } from '../../scoring/types.ts';
import { BinaryRowWriter } from '../copyBinary.ts';
import { copyNewDeals, getDealByExternalId, type CanonicalDeal } from './deals.ts';
import {
  drawScoreVersionIds,
  writeFactorsJson,
  explanationFromStored,
  topFactors,
  insertFewScoreVersions,
  insertScoreVersions,
  listScoreHistory,
  prepareScoreVersions,
  probabilitiesAsOf,
  type NewScoreVersion
} from './scores.ts';

const ORG = 'org_scores_test';

function deal(externalId: string): CanonicalDeal {
  return {
    externalId,
    ownerId: 'rep_1',
    managerId: null,
    accountId: null,
    name: null,
    industry: 'SaaS',
    region: null,
    productType: null,
    leadSource: null,
    stage: 'Proposal',
    amount: 1000,
    createdDate: '2024-01-01',
    closedDate: null,
    salesCycleDays: null,
    outcome: null,
    attributes: {}
  };
}

function result(dealId: string, probability: number, label = 'Rep "one" wins\tmost'): ScoreResult {
  const factor = { feature: 'rep_overall', label, contribution: 0.25 };
  return {
    dealId,
    probability,
    logit: Math.log(probability / (1 - probability)),
    riskBand: 'LOW',
    confidence: 'normal',
    method: 'model',
    explanation: { baseline: -0.1, contributions: [factor], raising: [factor], lowering: [] },
    rsfs: null,
    coLeads: [],
    modelVersion: null
  };
}

/** The factors field writeFactorsJson encodes, as text. */
function factorsJson(e: Explanation): string {
  const out = new BinaryRowWriter(16);
  writeFactorsJson(out, e);
  const bytes = out.take();
  assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'the field length covers the document');
  return bytes.subarray(4).toString('utf8');
}

test('the factors JSON is JSON.stringify of the stored document', () => {
  const a = {
    feature: 'rep_segment_fit',
    label: 'rep "7" \\ wins\t€ 60%',
    contribution: 0.123456789
  };
  const b = { feature: 'amount', label: 'Amount 8,375\nis low', contribution: -1e-7 };
  const c = { feature: 'region', label: 'Region \u0001 win rate \ud83d', contribution: 0 };
  const d = { feature: 'stage', label: 'Stage 😀 plain', contribution: Infinity };
  const e = {
    baseline: -0.4525248032885237,
    contributions: [a, b, c, d],
    raising: [a],
    lowering: [b]
  };
  const expected = JSON.stringify({ baseline: e.baseline, contributions: e.contributions });
  assert.equal(factorsJson(e), expected);
  assert.equal(factorsJson(e), expected, 'the same again, from cached fragments');
});

test('the factors JSON stays exact once a feature with a new label per deal is no longer cached', () => {
  // 20,000 distinct amount labels overflow the fragment cache; region labels repeat.
  for (let i = 0; i < 20_000; i++) {
    const e = {
      baseline: i / 7,
      contributions: [
        { feature: 'amount', label: `Amount ${i} is "low"`, contribution: -i / 3 },
        { feature: 'region', label: `Region ${i % 5}`, contribution: i / 11 }
      ],
      raising: [],
      lowering: []
    };
    const expected = JSON.stringify({ baseline: e.baseline, contributions: e.contributions });
    if (factorsJson(e) !== expected) assert.fail(`deal ${i}: ${factorsJson(e)} != ${expected}`);
  }
});

test('top factors: the three largest each way, largest first, ties to the earlier factor', () => {
  const f = (feature: string, contribution: number) => ({ feature, label: feature, contribution });
  const list = [
    f('a', 0.1),
    f('b', -0.5),
    f('c', 0.3),
    f('d', 0),
    f('e', 0.3),
    f('f', 0.05),
    f('g', -0.2),
    f('h', 0.7)
  ];
  assert.deepEqual(
    topFactors(list, 1).map((x) => x.feature),
    ['h', 'c', 'e']
  );
  assert.deepEqual(
    topFactors(list, -1).map((x) => x.feature),
    ['b', 'g']
  );
  assert.deepEqual(topFactors([f('z', 0)], 1), [], 'a zero contribution raises nothing');
  const old = explanationFromStored({
    baseline: 0,
    contributions: list,
    raising: [list[0]!],
    lowering: []
  });
  assert.deepEqual(
    old.raising.map((x) => x.feature),
    ['a'],
    'a document that carries its top factors is read as stored'
  );
  const derived = explanationFromStored({ baseline: 0, contributions: list });
  assert.equal(derived.raising[0], list[7], 'the same factor objects, not copies');
});

describe('score versions repository', () => {
  let db: TestDatabase;
  const ids = new Map<string, number>();
  const at = new Date('2024-06-01T00:00:00Z');

  before(async () => {
    db = await createTestDatabase();
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Scores test')`;
    await copyNewDeals(db, ORG, ['A', 'B', 'C'].map(deal));
    for (const x of ['A', 'B', 'C']) ids.set(x, (await getDealByExternalId(db, ORG, x))!.id);
  });
  after(() => db.drop());

  const version = (x: string, p: number, prev: number | null, v: number): NewScoreVersion => ({
    dealId: ids.get(x)!,
    previousScoreId: prev,
    version: v,
    result: result(x, p),
    resultHash: `hash-${x}-${p}`,
    sourceModstamp: null
  });

  test('a batch skips a deal another writer moved first, and stores the others exactly', async () => {
    const items = [
      version('A', 0.2, null, 1),
      version('B', 0.3, null, 1),
      version('C', 0.4, null, 1)
    ];
    const drawn = await drawScoreVersionIds(db.sql, 3);
    const prepared = prepareScoreVersions(ORG, items, drawn, {
      modelVersionId: null,
      scoredAt: at
    });
    // Meanwhile a webhook scores B.
    const [other] = await insertFewScoreVersions(db.sql, ORG, [version('B', 0.9, null, 1)], {
      modelVersionId: null,
      scoredAt: at
    });
    assert.ok(other);

    const written = await db.sql.begin((tx) => insertScoreVersions(tx, ORG, [prepared]));
    assert.deepEqual(
      written.map((w) => w.dealId),
      [ids.get('A'), ids.get('C')]
    );
    const b = await listScoreHistory(db, ORG, ids.get('B')!);
    assert.deepEqual(
      b.map((h) => [h.version, h.probability]),
      [[1, 0.9]],
      "B keeps the other writer's version only"
    );
    const [a] = await listScoreHistory(db, ORG, ids.get('A')!);
    assert.equal(a?.probability, 0.2);
    assert.equal(
      a?.factors.raising[0]?.label,
      'Rep "one" wins\tmost',
      'text with quotes and tabs survives COPY'
    );
    assert.equal((await getDealByExternalId(db, ORG, 'A'))?.latestScoreId, a?.id);
    assert.equal((await getDealByExternalId(db, ORG, 'B'))?.latestScoreId, other.id);
  });

  test('a batch stores every field of a version exactly as scored', async () => {
    await copyNewDeals(db, ORG, [deal('D')]);
    const d = (await getDealByExternalId(db, ORG, 'D'))!;
    const scored = result('D', 0.1 + 0.2, 'rep_2 wins 53% of "SaaS" deals\\ (n=1,284) – €');
    scored.riskBand = 'HIGH';
    scored.confidence = 'low';
    scored.method = 'rules';
    scored.rsfs = {
      repId: 'rep_2',
      segmentField: 'industry',
      segment: 'SaaS',
      wins: 12,
      n: 31,
      rawRate: 12 / 31,
      rsfs: 0.41234567890123,
      low: 1e-9,
      high: 0.9999999999,
      band: 'RED',
      teamRate: 0.4,
      repOverallRate: 0.38
    };
    const item: NewScoreVersion = {
      dealId: d.id,
      previousScoreId: null,
      version: 1,
      result: scored,
      resultHash: 'hash-D',
      sourceModstamp: new Date('2024-05-31T23:59:58.123Z')
    };
    const [id] = await drawScoreVersionIds(db.sql, 1);
    const prepared = prepareScoreVersions(ORG, [item], [id!], {
      modelVersionId: 42,
      scoredAt: new Date('2024-06-01T01:02:03.456Z')
    });
    const written = await db.sql.begin((tx) => insertScoreVersions(tx, ORG, [prepared]));
    assert.deepEqual(written, [{ id: Number(id), dealId: d.id, version: 1 }]);
    const [stored] = await listScoreHistory(db, ORG, d.id);
    assert.deepEqual(stored, {
      id: Number(id),
      dealId: d.id,
      version: 1,
      probability: 0.1 + 0.2,
      riskBand: 'HIGH',
      confidence: 'low',
      method: 'rules',
      factors: scored.explanation,
      rsfs: 0.41234567890123,
      rsfsBand: 'RED',
      rsfsSampleSize: 31,
      rsfsLow: 1e-9,
      rsfsHigh: 0.9999999999,
      modelVersionId: 42,
      resultHash: 'hash-D',
      sourceModstamp: new Date('2024-05-31T23:59:58.123Z'),
      scoredAt: new Date('2024-06-01T01:02:03.456Z')
    });
    assert.equal((await getDealByExternalId(db, ORG, 'D'))?.latestScoreId, Number(id));
  });

  test('a COPY the server rejects fails the write (nothing half-stored), it does not hang', async () => {
    const [c] = await listScoreHistory(db, ORG, ids.get('C')!);
    assert.ok(c);
    // Reusing an existing version number: the COPY hits the primary key after the pointer moved.
    const [drawn] = await drawScoreVersionIds(db.sql, 1);
    const prepared = prepareScoreVersions(ORG, [version('C', 0.7, c.id, c.version)], [drawn!], {
      modelVersionId: null,
      scoredAt: at
    });
    await assert.rejects(
      db.sql.begin((tx) => insertScoreVersions(tx, ORG, [prepared])),
      /COPY into score_versions failed/
    );
    assert.equal((await getDealByExternalId(db, ORG, 'C'))?.latestScoreId, c.id, 'rolled back');
    assert.equal((await listScoreHistory(db, ORG, ids.get('C')!)).length, 1);
  });

  test('the 7-day baseline is the latest version scored at or before the cut-off', async () => {
    const a = ids.get('A')!;
    const [v1] = await listScoreHistory(db, ORG, a);
    const drawn = await drawScoreVersionIds(db.sql, 2);
    assert.equal(new Set(drawn).size, 2);
    assert.ok(Number(drawn[0]) > v1!.id, 'ids drawn later are larger');
    const later = new Date('2024-06-05T00:00:00Z');
    await insertFewScoreVersions(db.sql, ORG, [version('A', 0.5, v1!.id, 2)], {
      modelVersionId: null,
      scoredAt: later
    });
    const cut = new Date('2024-06-03T00:00:00Z');
    assert.deepEqual(await probabilitiesAsOf(db.sql, ORG, [a], cut), new Map([[a, 0.2]]));
    assert.deepEqual(await probabilitiesAsOf(db.sql, ORG, [a], later), new Map([[a, 0.5]]));
    assert.equal((await probabilitiesAsOf(db.sql, ORG, [a], new Date('2024-05-01'))).size, 0);
  });
});
