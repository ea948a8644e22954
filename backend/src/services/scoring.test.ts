import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import {
  copyNewDeals,
  getDealByExternalId,
  upsertDealSnapshot,
  type CanonicalDeal
} from '../db/repositories/deals.ts';
import { listScoreHistory } from '../db/repositories/scores.ts';
import { listCoLeadsForDeals, decideCoLeadSuggestion } from '../db/repositories/coLeads.ts';
import { listRepSegmentStats } from '../db/repositories/repStats.ts';
import { listModelVersions } from '../db/repositories/models.ts';
import { generateDeals } from '../scoring/index.ts';
import { legacyResultHash } from '../scoring/hash.ts';
import { canonicalFromGenerated } from './sampleDeals.ts';
import {
  loadScoringContext,
  rescoreDeals,
  rescoreOrg,
  trainOrg,
  type ChangedScore
} from './scoring.ts';

const ORG = 'org_services_test';

async function countVersions(db: TestDatabase): Promise<number> {
  const rows = await db.sql<
    { n: string }[]
  >`SELECT count(*) AS n FROM score_versions WHERE org_id = ${ORG}`;
  return Number(rows[0]?.n);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

describe('scoring services', () => {
  let db: TestDatabase;
  let now: string;
  let openIds: number[];
  const byExternal = new Map<string, CanonicalDeal>();

  before(async () => {
    db = await createTestDatabase();
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Services test org')`;
    const data = generateDeals({ deals: 4_000, seed: 11, openFraction: 0.1 });
    now = data.endDate;
    const deals = data.deals.map(canonicalFromGenerated);
    for (const d of deals) byExternal.set(d.externalId, d);
    await copyNewDeals(db, ORG, deals);
    const rows = await db.sql<{ id: string }[]>`
      SELECT id FROM deals WHERE org_id = ${ORG} AND outcome IS NULL ORDER BY id`;
    openIds = rows.map((r) => Number(r.id));
  });
  after(() => db.drop());

  test('before any training, deals get the transparent rules score', async () => {
    const changed = await rescoreDeals(db, ORG, openIds.slice(-3), { now });
    assert.equal(changed.length, 3);
    for (const c of changed) {
      assert.equal(c.result.method, 'rules');
      assert.equal(c.result.confidence, 'low');
      assert.equal(c.modelVersionId, null);
    }
  });

  test('trainOrg stores an active model version and the RSFS statistics', async () => {
    const first = await trainOrg(db, ORG, { now });
    assert.equal(first.version, 1);
    assert.ok(first.trainedOn > 3_000, `trained on the closed deals (${first.trainedOn})`);
    assert.ok(['signal', 'no_reliable_signal'].includes(first.verdict));
    assert.ok(first.metrics, 'holdout metrics are reported');
    assert.ok(first.metrics.auc > 0.5 && first.metrics.auc < 1);

    const [stored] = await listModelVersions(db, ORG);
    assert.equal(stored?.id, first.modelVersionId);
    assert.equal(stored?.metrics.auc, first.metrics.auc, 'holdout metrics stored at the top level');
    assert.equal(stored?.metrics.trainedOn, first.trainedOn);
    assert.equal(stored?.metrics.candidates.length, first.candidates.length);

    const stats = await listRepSegmentStats(db, ORG);
    assert.equal(stats.length, first.rsfsRows);
    assert.ok(stats.length >= 25, 'one row per rep and industry they closed deals in');
    for (const s of stats) {
      assert.ok(s.rsfs > 0 && s.rsfs < 1, 'shrunk rate strictly inside (0, 1)');
      assert.ok(['RED', 'YELLOW', 'GREEN'].includes(s.band));
    }

    const second = await trainOrg(db, ORG, { now });
    assert.equal(second.version, 2);
    const versions = await db.sql<{ version: number; active: boolean }[]>`
      SELECT version, active FROM model_versions WHERE org_id = ${ORG} ORDER BY version`;
    assert.deepEqual(
      versions.map((v) => [v.version, v.active]),
      [
        [1, false],
        [2, true]
      ]
    );
    const loaded = await loadScoringContext(db, ORG, now);
    assert.equal(loaded.modelVersionId, second.modelVersionId);
    assert.equal(loaded.modelVersion, 2);
    assert.equal(loaded.model?.kind, second.kind);
  });

  test('rescoreDeals stores one version per deal, and nothing when run again', async () => {
    const ids = openIds.slice(0, 50);
    const changed = await rescoreDeals(db, ORG, ids, { now });
    assert.equal(changed.length, 50);
    for (const c of changed) {
      assert.equal(c.version, 1);
      assert.equal(c.change7d, null, 'no earlier version to compare with');
      assert.ok(c.result.probability > 0 && c.result.probability < 1);
      const deal = await getDealByExternalId(db, ORG, c.externalId);
      assert.equal(deal?.latestScoreId, c.scoreVersionId);
      const [stored] = await listScoreHistory(db, ORG, c.dealId);
      assert.deepEqual(stored?.factors, c.result.explanation, 'the explanation reads back whole');
    }
    const before = await countVersions(db);
    assert.deepEqual(await rescoreDeals(db, ORG, ids, { now }), []);
    assert.equal(await countVersions(db), before, 'the second run wrote nothing');
  });

  test('a changed deal gets exactly one new version; history is kept; change7d is computed', async () => {
    const dealId = openIds[0] as number;
    const stored = await getDealByExternalId(db, ORG, (await dealExternal(db, dealId)) as string);
    assert.ok(stored);
    const [v1] = await listScoreHistory(db, ORG, dealId);
    assert.ok(v1);

    const canonical = byExternal.get(stored.externalId) as CanonicalDeal;
    const later = addDays(now, 8);
    const up = await upsertDealSnapshot(db, ORG, {
      ...canonical,
      amount: canonical.amount * 20,
      stage: 'Negotiation',
      sourceModstamp: new Date(`${later}T00:00:00Z`)
    });
    assert.equal(up.changed, true);

    const before = await countVersions(db);
    const changed = await rescoreDeals(db, ORG, [dealId], { now: later });
    assert.equal(changed.length, 1);
    const c = changed[0] as ChangedScore;
    assert.equal(c.version, 2);
    assert.equal(await countVersions(db), before + 1);
    assert.ok(c.change7d !== null);
    assert.ok(Math.abs(c.change7d - (c.result.probability - v1.probability)) < 1e-12);

    const history = await listScoreHistory(db, ORG, dealId);
    assert.deepEqual(
      history.map((h) => h.version),
      [2, 1]
    );
    const old = history[1];
    assert.equal(old?.id, v1.id, 'version 1 is the same row');
    assert.equal(old?.probability, v1.probability, 'and was never overwritten');
    assert.equal(old?.resultHash, v1.resultHash);
    assert.equal(
      (await getDealByExternalId(db, ORG, stored.externalId))?.latestScoreId,
      c.scoreVersionId
    );

    // Same state again: nothing.
    assert.deepEqual(await rescoreDeals(db, ORG, [dealId], { now: later }), []);
  });

  test('concurrent rescores of one changed deal store exactly one new version', async () => {
    const dealId = openIds[1] as number;
    const external = (await dealExternal(db, dealId)) as string;
    const canonical = byExternal.get(external) as CanonicalDeal;
    await rescoreDeals(db, ORG, [dealId], { now });
    const before = await listScoreHistory(db, ORG, dealId);
    await upsertDealSnapshot(db, ORG, {
      ...canonical,
      amount: canonical.amount * 7,
      sourceModstamp: new Date(`${now}T09:00:00Z`)
    });
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => rescoreDeals(db, ORG, [dealId], { now }))
    );
    assert.equal(results.flat().length, 1, 'one of the four stored it, the others found it stored');
    const history = await listScoreHistory(db, ORG, dealId);
    assert.equal(history.length, before.length + 1);
    assert.deepEqual(
      history.map((h) => h.version),
      history.map((_, i) => history.length - i)
    );
  });

  test('rescoreOrg scores every open deal once, then finds nothing changed', async () => {
    const batches: ChangedScore[][] = [];
    const first = await rescoreOrg(db, ORG, {
      openOnly: true,
      now,
      batchSize: 97,
      onChanged: async (b) => {
        batches.push(b);
      }
    });
    assert.equal(first.scored, openIds.length);
    const received = batches.flat();
    assert.equal(received.length, first.changed);
    // The 50 deals scored with this model by the earlier tests are unchanged, except perhaps the
    // one last scored as of a later date (its age, hence maybe its risk band, differs).
    assert.ok(first.changed >= openIds.length - 50 && first.changed <= openIds.length - 49);
    assert.equal(new Set(received.map((c) => c.dealId)).size, received.length);
    // The batch path stores the explanation without its top factors; they read back the same.
    for (const c of received.filter((_, i) => i % 25 === 0)) {
      const [stored] = await listScoreHistory(db, ORG, c.dealId);
      assert.equal(stored?.id, c.scoreVersionId);
      assert.deepEqual(stored?.factors, c.result.explanation);
    }

    const again = await rescoreOrg(db, ORG, { openOnly: true, now });
    assert.deepEqual(
      { scored: again.scored, changed: again.changed },
      { scored: openIds.length, changed: 0 }
    );
    const latest = await db.sql<{ n: string }[]>`
      SELECT count(*) AS n FROM deals WHERE org_id = ${ORG} AND outcome IS NULL AND latest_score_id IS NOT NULL`;
    assert.equal(Number(latest[0]?.n), openIds.length);
  });

  test('a deal stored under the legacy digest keeps it, with no new version, until it changes', async () => {
    const ids = openIds.slice(0, 5);
    // Rescore five deals (a stale digest makes them "changed"), then store the legacy (v1)
    // digest of each one's result, as a release before the r2 scheme would have.
    await db.sql`UPDATE deals SET latest_score_hash = 'stale' WHERE id = ANY(${ids}::bigint[])`;
    const rescored = await rescoreDeals(db, ORG, ids, { now });
    assert.equal(rescored.length, 5);
    for (const c of rescored) {
      await db.sql`UPDATE deals SET latest_score_hash = ${legacyResultHash(c.result)} WHERE id = ${c.dealId}`;
    }
    const versions = await countVersions(db);
    const again = await rescoreOrg(db, ORG, { openOnly: true, now });
    assert.equal(again.changed, 0, 'a legacy digest of the same result means unchanged');
    assert.equal(await countVersions(db), versions);
    const kept = await db.sql<{ latest_score_hash: string }[]>`
      SELECT latest_score_hash FROM deals WHERE id = ANY(${ids}::bigint[]) ORDER BY id`;
    assert.deepEqual(
      kept.map((r) => r.latest_score_hash),
      rescored.map((c) => legacyResultHash(c.result))
    );
  });

  test('co-lead suggestions are upserted by external id and expire when no longer proposed', async () => {
    const rows = await db.sql<{ deal_id: string; n: string }[]>`
      SELECT deal_id, count(*) AS n FROM co_lead_suggestions
      WHERE org_id = ${ORG} AND status = 'proposed' GROUP BY deal_id ORDER BY deal_id LIMIT 1`;
    assert.ok(rows[0], 'some RED-RSFS open deal has co-lead suggestions');
    const dealId = Number(rows[0].deal_id);
    const external = (await dealExternal(db, dealId)) as string;
    const suggestions = (await listCoLeadsForDeals(db.sql, ORG, [dealId])).get(dealId) ?? [];
    assert.ok(suggestions.length >= 1 && suggestions.length <= 3);
    assert.equal(suggestions.filter((s) => s.isPrimary).length, 1, 'one primary');
    for (const s of suggestions) {
      assert.equal(s.externalId, `${ORG}:${external}:${s.suggestedRepId}`);
      assert.equal(s.status, 'proposed');
      assert.ok(s.reason.length > 0);
    }

    // A manager approves one; then the deal moves to the best rep of the segment, so the
    // owner no longer fits poorly and nothing is proposed any more.
    const approved = suggestions[suggestions.length - 1]!;
    await decideCoLeadSuggestion(db, ORG, approved.externalId, {
      status: 'approved',
      decidedBy: 'mgr_1',
      decidedAt: new Date(`${now}T12:00:00Z`)
    });
    const primary = suggestions.find((s) => s.isPrimary)!;
    const canonical = byExternal.get(external) as CanonicalDeal;
    await upsertDealSnapshot(db, ORG, {
      ...canonical,
      ownerId: primary.suggestedRepId,
      sourceModstamp: new Date(`${now}T13:00:00Z`)
    });
    const changed = await rescoreDeals(db, ORG, [dealId], { now });
    assert.equal(changed.length, 1);
    const c = changed[0] as ChangedScore;
    assert.notEqual(c.result.rsfs?.band, 'RED', 'the new owner fits the segment');
    assert.equal(c.result.coLeads.length, 0);
    const after = new Map(c.coLeads.map((s) => [s.externalId, s.status]));
    for (const s of suggestions) {
      assert.equal(
        after.get(s.externalId),
        s.externalId === approved.externalId ? 'approved' : 'expired'
      );
    }
    // Nothing is duplicated.
    assert.equal(c.coLeads.length, suggestions.length);
  });
});

async function dealExternal(db: TestDatabase, dealId: number): Promise<string | undefined> {
  const rows = await db.sql<
    { external_id: string }[]
  >`SELECT external_id FROM deals WHERE id = ${dealId}`;
  return rows[0]?.external_id;
}
