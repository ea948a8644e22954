// RSFS per rep, segment performance (quarter against quarter, intervals, small samples marked),
// win-rate drivers, models, dashboard summary and org status, against the seeded database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { orgs } from '../../backend/src/db/schema.ts';
import { startApiTest, type ApiTest } from './harness.ts';
import { seedOrg, type SeededOrg } from './seed.ts';

describe('insight routes', () => {
  let t: ApiTest;
  let alpha: SeededOrg;
  let admin: string;

  before(async () => {
    t = await startApiTest({
      seed: async (db) => {
        alpha = await seedOrg(db, 'alpha');
        await seedOrg(db, 'bravo');
      }
    });
    admin = await t.token(alpha.orgId, alpha.admin, 'admin');
  });
  after(() => t.close());

  async function get<T>(url: string, token = admin, status = 200): Promise<T> {
    const res = await t.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}` }
    });
    assert.equal(res.statusCode, status, res.body);
    return res.json() as T;
  }

  test('RSFS: one row per segment from rep_segment_stats; out-of-scope reps are 404', async () => {
    type Rsfs = {
      repId: string;
      name: string;
      segments: { segment: string; n: number; wins: number; rsfs: number; band: string }[];
    };
    const rows = await t.database.sql<{ segment_value: string; n: number; wins: number }[]>`
      SELECT segment_value, n, wins FROM rep_segment_stats WHERE org_id = ${alpha.orgId} AND rep_id = ${alpha.reps[0]}
      ORDER BY segment_value`;
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    const own = await get<Rsfs>(`/api/v1/reps/${alpha.reps[0]}/rsfs`, rep);
    assert.equal(own.name, `${alpha.name} Rep One`);
    assert.deepEqual(
      own.segments.map((s) => [s.segment, s.n, s.wins]),
      rows.map((r) => [r.segment_value, r.n, r.wins])
    );
    assert.ok(own.segments.length >= 1);
    await get(`/api/v1/reps/${alpha.reps[1]}/rsfs`, rep, 404);
    const mgr1 = await t.token(alpha.orgId, alpha.managers[0], 'manager');
    const mgr2 = await t.token(alpha.orgId, alpha.managers[1], 'manager');
    await get(`/api/v1/reps/${alpha.reps[1]}/rsfs`, mgr1, 200);
    await get(`/api/v1/reps/${alpha.reps[0]}/rsfs`, mgr2, 404);
    await get(`/api/v1/reps/nobody/rsfs`, admin, 404);
  });

  test('segments: this quarter against the previous one, counts exact, interval around the change', async () => {
    type Period = {
      wins: number;
      n: number;
      winRate: number | null;
      low: number | null;
      high: number | null;
    };
    type Perf = {
      quarter: string;
      previousQuarter: string;
      minSample: number;
      overall: { current: Period; previous: Period };
      segments: {
        segment: string;
        current: Period;
        previous: Period;
        change: { difference: number; low: number; high: number; significant: boolean } | null;
        smallSample: boolean;
      }[];
    };
    const perf = await get<Perf>('/api/v1/segments/performance?minSample=5');
    // The latest closed deal in the seed is in May 2024.
    assert.equal(perf.quarter, '2024Q2');
    assert.equal(perf.previousQuarter, '2024Q1');
    const expected = await t.database.sql<
      { industry: string; q: string; wins: number; n: number }[]
    >`
      SELECT industry, CASE WHEN closed_date >= '2024-04-01' THEN 'cur' ELSE 'prev' END AS q,
             count(*) FILTER (WHERE outcome = 'Won')::int AS wins, count(*)::int AS n
      FROM deals WHERE org_id = ${alpha.orgId} AND outcome IS NOT NULL
        AND closed_date >= '2024-01-01' AND closed_date < '2024-07-01'
      GROUP BY 1, 2`;
    assert.equal(perf.segments.length, alpha.industries.length);
    for (const s of perf.segments) {
      const cur = expected.find((e) => e.industry === s.segment && e.q === 'cur')!;
      const prev = expected.find((e) => e.industry === s.segment && e.q === 'prev')!;
      assert.deepEqual(
        [s.current.wins, s.current.n, s.previous.wins, s.previous.n],
        [cur.wins, cur.n, prev.wins, prev.n]
      );
      assert.ok(s.change);
      assert.ok(Math.abs(s.change.difference - (cur.wins / cur.n - prev.wins / prev.n)) < 1e-12);
      assert.ok(s.change.low <= s.change.difference && s.change.difference <= s.change.high);
      assert.equal(s.change.significant, s.change.low > 0 || s.change.high < 0);
      assert.ok(s.current.low! <= s.current.winRate! && s.current.winRate! <= s.current.high!);
      assert.equal(s.smallSample, cur.n < 5 || prev.n < 5);
    }
    assert.equal(
      perf.overall.current.n,
      expected.filter((e) => e.q === 'cur').reduce((a, e) => a + e.n, 0)
    );
  });

  test('segments under the minimum sample are marked, not hidden', async () => {
    type Perf = {
      minSample: number;
      segments: {
        segment: string;
        current: { n: number };
        previous: { n: number };
        smallSample: boolean;
      }[];
    };
    const all = await get<Perf>('/api/v1/segments/performance?minSample=5');
    const sizes = all.segments
      .map((s) => Math.min(s.current.n, s.previous.n))
      .sort((a, b) => a - b);
    const threshold = sizes[sizes.length - 1]!; // marks every segment smaller than the largest
    const perf = await get<Perf>(`/api/v1/segments/performance?minSample=${threshold}`);
    assert.equal(perf.minSample, threshold);
    assert.equal(perf.segments.length, all.segments.length);
    for (const s of perf.segments)
      assert.equal(s.smallSample, Math.min(s.current.n, s.previous.n) < threshold);
    assert.ok(perf.segments.some((s) => s.smallSample));
    const huge = await get<Perf>('/api/v1/segments/performance?minSample=1000');
    assert.ok(huge.segments.length > 0 && huge.segments.every((s) => s.smallSample));
  });

  test('segments for a rep cover only their own deals; an explicit quarter works', async () => {
    type Perf = { quarter: string; overall: { current: { n: number }; previous: { n: number } } };
    const rep = await t.token(alpha.orgId, alpha.reps[0], 'rep');
    const perf = await get<Perf>('/api/v1/segments/performance', rep);
    const [row] = await t.database.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM deals WHERE org_id = ${alpha.orgId} AND owner_id = ${alpha.reps[0]}
        AND outcome IS NOT NULL AND closed_date >= '2024-04-01' AND closed_date < '2024-07-01'`;
    assert.equal(perf.overall.current.n, row!.n);
    const q1 = await get<Perf>('/api/v1/segments/performance?quarter=2024Q1');
    assert.equal(q1.quarter, '2024Q1');
    assert.equal(q1.overall.previous.n, 0); // nothing closed in 2023Q4
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v1/segments/performance?quarter=2024Q5',
      headers: { authorization: `Bearer ${admin}` }
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(
      (bad.json() as { details: { path: string }[] }).details[0]!.path,
      'querystring/quarter'
    );
  });

  test('win-rate drivers come from the active model, strongest first, in plain words', async () => {
    type Drivers = {
      modelVersion: number;
      verdict: string;
      reliable: boolean;
      headline: string;
      drivers: { feature: string; weight: number; direction: string; summary: string }[];
    };
    const d = await get<Drivers>('/api/v1/win-rate-drivers');
    assert.equal(d.modelVersion, 2);
    assert.equal(d.verdict, 'signal');
    assert.equal(d.reliable, true);
    assert.equal(d.drivers[0]!.weight, 1);
    assert.ok(d.drivers.every((x) => x.summary.length > 10));
    const amount = d.drivers.find((x) => x.feature === 'amount')!;
    assert.equal(amount.direction, 'lowers'); // the seeded coefficient is negative
  });

  test('models: versions newest first with metrics and verdict; reps may not list them', async () => {
    type Models = {
      items: {
        version: number;
        kind: string;
        verdict: string;
        active: boolean;
        metrics: { auc?: number } | null;
      }[];
    };
    const m = await get<Models>('/api/v1/models');
    assert.deepEqual(
      m.items.map((x) => [x.version, x.kind, x.verdict, x.active]),
      [
        [2, 'main_effects', 'signal', true],
        [1, 'rules', 'insufficient_data', false]
      ]
    );
    assert.equal(m.items[0]!.metrics!.auc, 0.71);
    await get('/api/v1/models', await t.token(alpha.orgId, alpha.reps[0], 'rep'), 403);
  });

  test('dashboard summary: open deals by risk band, amount at risk, average probability, pending co-leads', async () => {
    type Summary = {
      openDeals: number;
      byRiskBand: { HIGH: number; MEDIUM: number; LOW: number; unscored: number };
      pipelineAmount: number;
      amountAtRisk: number;
      averageProbability: number | null;
      coLeadsPending: number;
      model: { version: number; verdict: string; reliable: boolean } | null;
    };
    const s = await get<Summary>('/api/v1/dashboard-summary');
    const [e] = await t.database.sql<
      {
        open: number;
        high: number;
        unscored: number;
        pipeline: number;
        at_risk: number;
        avg: number;
      }[]
    >`
      SELECT count(*)::int AS open,
             count(*) FILTER (WHERE sv.risk_band = 'HIGH')::int AS high,
             count(*) FILTER (WHERE sv.id IS NULL)::int AS unscored,
             sum(d.amount)::float8 AS pipeline,
             COALESCE(sum(d.amount) FILTER (WHERE sv.risk_band = 'HIGH'), 0)::float8 AS at_risk,
             avg(sv.probability)::float8 AS avg
      FROM deals d LEFT JOIN score_versions sv ON sv.id = d.latest_score_id
      WHERE d.org_id = ${alpha.orgId} AND d.outcome IS NULL`;
    assert.equal(s.openDeals, e!.open);
    assert.equal(s.byRiskBand.HIGH, e!.high);
    assert.equal(s.byRiskBand.unscored, e!.unscored);
    assert.equal(
      s.byRiskBand.HIGH + s.byRiskBand.MEDIUM + s.byRiskBand.LOW + s.byRiskBand.unscored,
      s.openDeals
    );
    assert.equal(s.pipelineAmount, e!.pipeline);
    assert.equal(s.amountAtRisk, e!.at_risk);
    assert.ok(Math.abs(s.averageProbability! - e!.avg) < 1e-9);
    const [p] = await t.database.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM co_lead_suggestions WHERE org_id = ${alpha.orgId} AND status = 'proposed'`;
    assert.equal(s.coLeadsPending, p!.n);
    assert.deepEqual(s.model, { version: 2, verdict: 'signal', reliable: true });
    // A rep's summary covers only their deals.
    const rep = await get<Summary>(
      '/api/v1/dashboard-summary',
      await t.token(alpha.orgId, alpha.reps[2], 'rep')
    );
    assert.ok(rep.openDeals > 0 && rep.openDeals < s.openDeals);
    assert.equal(rep.coLeadsPending, 0);
  });

  test('org status for the setup page: connected, sync and scoring times, model; errors turn it to not connected', async () => {
    type Status = {
      orgId: string;
      connected: boolean;
      lastSyncAt: string | null;
      lastError: string | null;
      lastScoredAt: string | null;
      model: unknown;
    };
    const integration = await t.orgToken(alpha.orgId, alpha.privateKeyPem);
    const s = await get<Status>('/api/v1/orgs/self/status', integration);
    assert.equal(s.orgId, alpha.orgId);
    assert.equal(s.connected, true);
    assert.equal(s.lastSyncAt, '2024-06-30T12:00:00.000Z');
    assert.equal(s.lastError, null);
    const [m] = await t.database.sql<{ ms: number }[]>`
      SELECT floor(extract(epoch FROM max(scored_at)) * 1000)::float8 AS ms FROM score_versions WHERE org_id = ${alpha.orgId}`;
    assert.equal(Date.parse(s.lastScoredAt!), m!.ms);
    assert.deepEqual(s.model, { version: 2, verdict: 'signal' });

    await t.database.db
      .update(orgs)
      .set({
        lastError: 'INVALID_SESSION_ID: Session expired',
        lastErrorAt: new Date('2024-07-01T00:00:00Z')
      })
      .where(eq(orgs.id, alpha.orgId));
    const failing = await get<Status>('/api/v1/orgs/self/status', integration);
    assert.equal(failing.connected, false);
    assert.equal(failing.lastError, 'INVALID_SESSION_ID: Session expired');
  });
});
