// Deals: filters, sorting, keyset pagination (no duplicates, no gaps), scope, detail, rescore.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApiTest, type ApiTest } from './harness.ts';
import { dealIdOf, seedOrg, type SeededOrg } from './seed.ts';

interface Item {
  dealId: string;
  ownerId: string;
  segment: string | null;
  industry: string;
  amount: number;
  outcome: string | null;
  score: null | {
    probability: number;
    riskBand: string;
    rsfsBand: string | null;
    scoredAt: string;
    version: number;
  };
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}

describe('GET /api/v1/deals and /deals/:dealId', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let admin: string;
  const TOTAL = 60;

  before(async () => {
    t = await startApiTest({
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha', { dealsPerOrg: TOTAL });
        await seedOrg(db, 'bravo', { dealsPerOrg: 30 });
      }
    });
    admin = await t.token(alpha.orgId, alpha.admin, 'admin');
  });
  after(() => t.close());

  async function list(query: string, token = admin): Promise<Page> {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deals?${query}`,
      headers: { authorization: `Bearer ${token}` }
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as Page;
  }

  async function all(query: string, limit: number, token = admin): Promise<Item[]> {
    const out: Item[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page: Page = await list(
        `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        token
      );
      out.push(...page.items);
      assert.ok(page.items.length <= limit);
      cursor = page.nextCursor;
      if (!cursor) return out;
    }
    throw new Error('pagination did not end');
  }

  for (const sort of ['probability', 'amount', 'scoredAt'] as const) {
    for (const order of ['asc', 'desc'] as const) {
      test(`sort=${sort}&order=${order}: pages of 7 concatenate to the single page, no duplicates or gaps`, async () => {
        const single = await list(`sort=${sort}&order=${order}&limit=200`);
        assert.equal(single.items.length, TOTAL);
        assert.equal(single.nextCursor, null);
        const paged = await all(`sort=${sort}&order=${order}`, 7);
        assert.deepEqual(
          paged.map((d) => d.dealId),
          single.items.map((d) => d.dealId)
        );
        assert.equal(new Set(paged.map((d) => d.dealId)).size, TOTAL);
        // and the order is the one asked for (unscored deals last in desc, first in asc)
        const key = (d: Item) =>
          sort === 'amount'
            ? d.amount
            : sort === 'probability'
              ? (d.score?.probability ?? -1)
              : Date.parse(d.score?.scoredAt ?? '1970-01-01T00:00:00Z');
        for (let i = 1; i < paged.length; i++) {
          const [a, b] = [key(paged[i - 1]!), key(paged[i]!)];
          assert.ok(
            order === 'desc' ? a >= b : a <= b,
            `${sort} ${order} out of order at ${i}: ${a} then ${b}`
          );
        }
      });
    }
  }

  test('filters: band, rsfsBand, owner, segment, minAmount, state; each result matches and none is missing', async () => {
    const everything = (await list('limit=200')).items;
    const cases: [string, (d: Item) => boolean][] = [
      ['band=HIGH', (d) => d.score?.riskBand === 'HIGH'],
      ['band=LOW', (d) => d.score?.riskBand === 'LOW'],
      ['rsfsBand=RED', (d) => d.score?.rsfsBand === 'RED'],
      [`owner=${alpha.reps[1]}`, (d) => d.ownerId === alpha.reps[1]],
      [
        `segment=${encodeURIComponent(alpha.industries[2]!)}`,
        (d) => d.industry === alpha.industries[2]
      ],
      ['minAmount=15000', (d) => d.amount >= 15000],
      ['state=open', (d) => d.outcome === null],
      ['state=closed', (d) => d.outcome !== null],
      [
        `band=MEDIUM&owner=${alpha.reps[0]}&minAmount=5000`,
        (d) => d.score?.riskBand === 'MEDIUM' && d.ownerId === alpha.reps[0] && d.amount >= 5000
      ]
    ];
    for (const [query, predicate] of cases) {
      const expected = everything
        .filter(predicate)
        .map((d) => d.dealId)
        .sort();
      assert.ok(expected.length > 0, `seed has deals for ${query}`);
      assert.ok(expected.length < everything.length, `${query} filters something out`);
      const got = (await all(query, 9)).map((d) => d.dealId).sort();
      assert.deepEqual(got, expected, query);
    }
    assert.equal(
      (await list(`segment=${encodeURIComponent(alpha.industries[0]!)}`)).items[0]!.segment,
      alpha.industries[0]
    );
  });

  test('scope: a rep sees own deals, a manager the team, the other manager only theirs', async () => {
    const everything = (await list('limit=200')).items;
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    const mgr1 = await t.token(alpha.orgId, alpha.managers[0], 'manager');
    const mgr2 = await t.token(alpha.orgId, alpha.managers[1], 'manager');
    const owners = async (token: string) =>
      new Set((await all('sort=amount', 50, token)).map((d) => d.ownerId));
    assert.deepEqual(await owners(rep), new Set([alpha.reps[0]]));
    assert.deepEqual(await owners(mgr1), new Set([alpha.reps[0], alpha.reps[1]]));
    assert.deepEqual(await owners(mgr2), new Set([alpha.reps[2]]));
    assert.equal(
      (await all('sort=amount', 50, mgr1)).length,
      everything.filter((d) => d.ownerId !== alpha.reps[2]).length
    );
    // A rep asking for someone else's deals by filter just gets none of them.
    assert.deepEqual((await list(`owner=${alpha.reps[1]}`, rep)).items, []);
  });

  test('a bad cursor, a cursor from another sort, and limit > 200 are 400s with the error shape', async () => {
    const first = await list('sort=amount&limit=5');
    assert.ok(first.nextCursor);
    for (const url of [
      `/api/v1/deals?cursor=not-a-cursor`,
      `/api/v1/deals?sort=probability&cursor=${first.nextCursor}`,
      `/api/v1/deals?sort=amount&order=asc&cursor=${first.nextCursor}`,
      `/api/v1/deals?cursor=${Buffer.from(JSON.stringify({ s: 'deals:amount:desc', k: "1'; DROP TABLE deals; --", i: 1 })).toString('base64url')}&sort=amount`
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${admin}` }
      });
      assert.equal(res.statusCode, 400, url);
      const body = res.json() as { code: string; details: { path: string }[] };
      assert.equal(body.code, 'bad_request');
      assert.equal(body.details[0]!.path, 'querystring/cursor');
    }
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deals?limit=201',
      headers: { authorization: `Bearer ${admin}` }
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'validation_failed',
      message: 'querystring/limit must be <= 200',
      details: [{ path: 'querystring/limit', message: 'must be <= 200' }]
    });
  });

  test('one deal: latest score with factors, the whole history newest first, its co-leads', async () => {
    // rep2's last deal is open, has two score versions and two co-lead proposals (see seed.ts).
    const dealId = alpha.dealsByOwner[alpha.reps[1]]!.at(-1)!;
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deals/${dealId}`,
      headers: { authorization: `Bearer ${admin}` }
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Item & {
      factors: {
        contributions: { label: string; contribution: number }[];
        raising: { contribution: number }[];
        lowering: { contribution: number }[];
        baseline: number;
      };
      history: { version: number }[];
      coLeads: { suggestedRepId: string; rank: number; status: string }[];
    };
    assert.equal(body.dealId, dealId);
    assert.ok(body.score, 'the deal has a latest score');
    assert.equal(body.score.version, 2);
    assert.deepEqual(
      body.history.map((h) => h.version),
      Array.from({ length: body.score.version }, (_, i) => body.score!.version - i)
    );
    assert.equal(body.factors.baseline, -0.2);
    assert.equal(body.factors.contributions.length, 3);
    assert.ok(body.factors.raising.every((f) => f.contribution > 0));
    assert.ok(body.factors.lowering.every((f) => f.contribution < 0));
    assert.deepEqual(
      body.coLeads.map((c) => [c.suggestedRepId, c.rank, c.status]),
      [
        [alpha.reps[2], 1, 'proposed'],
        [alpha.managers[1], 2, 'proposed']
      ]
    );
  });

  test('one deal shows every deal field and its score exactly as the list does (same values, same date format)', async () => {
    const items = await all('state=all', 200);
    // Scored and unscored, open and closed, from every owner.
    const sample = items.filter((_, i) => i % 7 === 0);
    assert.ok(sample.some((d) => d.score === null) && sample.some((d) => d.score !== null));
    for (const item of sample) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/deals/${item.dealId}`,
        headers: { authorization: `Bearer ${admin}` }
      });
      assert.equal(res.statusCode, 200, res.body);
      const { factors, history, coLeads, ...summary } = res.json() as Item & {
        factors: unknown;
        history: Item['score'][];
        coLeads: unknown[];
      };
      assert.deepEqual(summary, item, item.dealId);
      assert.ok(Array.isArray(coLeads));
      if (item.score === null) {
        assert.equal(factors, null);
      } else {
        assert.match(item.score.scoredAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.deepEqual(history[0], item.score, `${item.dealId}: newest history entry`);
      }
    }
  });

  test('an unscored deal shows score null and factors null; an unknown id is 404', async () => {
    const unscored = (await list('limit=200')).items.find((d) => d.score === null)!;
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deals/${unscored.dealId}`,
      headers: { authorization: `Bearer ${admin}` }
    });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { score: unknown; factors: unknown; history: unknown[] };
    assert.equal(body.score, null);
    assert.equal(body.factors, null);
    assert.deepEqual(body.history, []);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deals/NO-SUCH-DEAL',
      headers: { authorization: `Bearer ${admin}` }
    });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), {
      code: 'not_found',
      message: 'deal not found',
      details: null
    });
  });

  test('rescore queues one job per deal on the score queue (repeats collapse) and answers 202', async () => {
    const dealId = alpha.dealsByOwner[alpha.reps[1]]![0]!;
    const rep = await t.token(alpha.orgId, alpha.reps[1], 'rep');
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/deals/${dealId}/rescore`,
        headers: { authorization: `Bearer ${rep}` }
      });
      assert.equal(res.statusCode, 202);
      assert.deepEqual(res.json(), { dealId, queued: true });
    }
    const jobs = await t.queues.score.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    const internalId = await dealIdOf(t.database, dealId);
    const mine = jobs.filter((j) => j.name === 'rescore' && j.data.dealId === internalId);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.data, {
      orgId: alpha.orgId,
      dealId: internalId,
      reason: `api:${alpha.reps[1]}`
    });
  });

  test("a rep cannot rescore a teammate's deal (404)", async () => {
    const rep = await t.token(alpha.orgId, alpha.reps[1], 'rep');
    const dealId = alpha.dealsByOwner[alpha.reps[0]]![0]!;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deals/${dealId}/rescore`,
      headers: { authorization: `Bearer ${rep}` }
    });
    assert.equal(res.statusCode, 404);
  });
});
