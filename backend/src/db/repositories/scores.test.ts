import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import type { Explanation, ScoreResult } from '../../scoring/types.ts';
import { BinaryRowWriter } from '../copyBinary.ts';
import { copyNewDeals, getDealByExternalId, type CanonicalDeal } from './deals.ts';
import {
  drawScoreVersionIds,
  writeFactorsJson,
  writeContributions,
  factorLabels,
  storedDocument,
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

/** The contributions field writeContributions encodes, decoded as array_recv reads it. */
function contributionsField(e: Explanation): number[] {
  const out = new BinaryRowWriter(16);
  writeContributions(out, e);
  const b = out.take();
  assert.equal(b.readInt32BE(0), b.length - 4, 'the field length covers the array');
  assert.deepEqual(
    [b.readInt32BE(4), b.readInt32BE(8), b.readInt32BE(12), b.readInt32BE(20)],
    [1, 0, 701, 1],
    'one dimension, no NULLs, float8 elements, lower bound 1'
  );
  const n = b.readInt32BE(16);
  assert.equal(b.length, 24 + n * 12, 'each element is its length and 8 bytes');
  return Array.from({ length: n }, (_, i) => {
    assert.equal(b.readInt32BE(24 + i * 12), 8);
    return b.readDoubleBE(28 + i * 12);
  });
}

test("the factors JSON lists each factor's feature and label, as JSON.stringify would", () => {
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
  const expected = JSON.stringify(factorLabels(e));
  assert.equal(
    expected,
    JSON.stringify([a, b, c, d].map(({ feature, label }) => ({ feature, label })))
  );
  assert.equal(factorsJson(e), expected);
  assert.equal(factorsJson(e), expected, 'the same again, from cached fragments');
  assert.deepEqual(
    contributionsField(e),
    [-0.4525248032885237, 0.123456789, -1e-7, 0, Infinity],
    'the numbers: the baseline, then each factor in order, bit for bit'
  );
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
    const expected = JSON.stringify(factorLabels(e));
    if (factorsJson(e) !== expected) assert.fail(`deal ${i}: ${factorsJson(e)} != ${expected}`);
  }
});

test('a stored version reads back from its two columns, or from a document stored before them', () => {
  const labels = [
    { feature: 'amount', label: 'Amount 8,375 is low' },
    { feature: 'region', label: 'APAC' }
  ];
  const read = explanationFromStored(JSON.stringify(labels), [-0.5, -0.25, 0.75]);
  assert.equal(read.baseline, -0.5);
  assert.deepEqual(read.contributions, [
    { feature: 'amount', label: 'Amount 8,375 is low', contribution: -0.25 },
    { feature: 'region', label: 'APAC', contribution: 0.75 }
  ]);
  assert.deepEqual(
    read.raising.map((f) => f.feature),
    ['region'],
    'top factors derived'
  );
  const legacy = { baseline: -0.5, contributions: read.contributions };
  assert.deepEqual(
    explanationFromStored(JSON.stringify(legacy), null),
    read,
    'a whole document (contributions NULL) reads the same'
  );
  assert.throws(
    () => explanationFromStored(JSON.stringify(labels), [-0.5, -0.25]),
    /2 numbers stored for 2 factors/
  );
  assert.throws(
    () => storedDocument(JSON.stringify(legacy), [-0.5, -0.25, 0.75]),
    /factors is not a list/
  );
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

  test('the per-event path stores the explanation exactly too', async () => {
    await copyNewDeals(db, ORG, [deal('E')]);
    const e = (await getDealByExternalId(db, ORG, 'E'))!;
    const scored = result('E', 0.6, 'Amount 1,234 is "low", {odd}');
    scored.explanation.baseline = 0.1 + 0.2;
    scored.explanation.contributions.push({
      feature: 'amount',
      label: 'tiny',
      contribution: -1.2345678901234e-300
    });
    scored.explanation.lowering = [scored.explanation.contributions[1]!];
    const item = { ...version('E', 0.6, null, 1), dealId: e.id, result: scored };
    await insertFewScoreVersions(db.sql, ORG, [item], { modelVersionId: null, scoredAt: at });
    const [stored] = await listScoreHistory(db, ORG, e.id);
    assert.deepEqual(stored?.factors, scored.explanation, 'every number bit for bit');
  });

  test('a version stored before migration 0014 (whole document, no contributions) still reads', async () => {
    await copyNewDeals(db, ORG, [deal('F')]);
    const f = (await getDealByExternalId(db, ORG, 'F'))!;
    const explanation = result('F', 0.5).explanation;
    const document = { baseline: explanation.baseline, contributions: explanation.contributions };
    await db.sql`
      INSERT INTO score_versions (org_id, deal_id, version, probability, risk_band, confidence,
        method, factors, result_hash)
      VALUES (${ORG}, ${f.id}, 1, 0.5, 'LOW', 'normal', 'model', ${JSON.stringify(document)},
        'legacy')`;
    const [stored] = await listScoreHistory(db, ORG, f.id);
    assert.deepEqual(stored?.factors, explanation);
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
