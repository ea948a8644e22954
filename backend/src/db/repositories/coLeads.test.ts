import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import type { CoLeadCandidate } from '../../scoring/types.ts';
import {
  copyFirstCoLeadSuggestions,
  decideCoLeadSuggestion,
  listCoLeadsForDeals,
  loadCoLeadState,
  replaceCoLeadSuggestions,
  saveCoLeadCursor,
  type DealCoLeads
} from './coLeads.ts';
import { copyNewDeals, getDealByExternalId, type CanonicalDeal } from './deals.ts';

const ORG = 'org_coleads_test';

function deal(externalId: string): CanonicalDeal {
  return {
    externalId,
    ownerId: 'rep_low',
    managerId: null,
    accountId: null,
    name: null,
    industry: 'SaaS',
    region: null,
    productType: null,
    leadSource: null,
    stage: null,
    amount: 5000,
    createdDate: '2024-01-01',
    closedDate: null,
    salesCycleDays: null,
    outcome: null,
    attributes: {}
  };
}

function candidate(repId: string, rank: number, isPrimary = false): CoLeadCandidate {
  return {
    repId,
    segment: 'SaaS',
    winRate: 0.7 - rank / 100,
    sampleSize: 40,
    rank,
    isPrimary,
    reason: `${repId} wins\tmany "SaaS" deals`
  };
}

describe('co-lead suggestions repository', () => {
  let db: TestDatabase;
  const id = new Map<string, number>();
  const forDeal = (x: string, candidates: CoLeadCandidate[], version = 1): DealCoLeads => ({
    dealId: id.get(x)!,
    dealExternalId: x,
    scoreVersionId: version,
    ownerRsfs: 0.2,
    candidates
  });
  const statuses = async (x: string) =>
    Object.fromEntries(
      ((await listCoLeadsForDeals(db.sql, ORG, [id.get(x)!])).get(id.get(x)!) ?? []).map((c) => [
        c.suggestedRepId,
        c.status
      ])
    );

  before(async () => {
    db = await createTestDatabase();
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Co-leads test')`;
    await copyNewDeals(db, ORG, ['D1', 'D2', 'D3'].map(deal));
    for (const x of ['D1', 'D2', 'D3']) id.set(x, (await getDealByExternalId(db, ORG, x))!.id);
  });
  after(() => db.drop());

  test('new candidates are proposed; dropped ones expire; decisions stay; expired ones return', async () => {
    await replaceCoLeadSuggestions(db.sql, ORG, [
      forDeal('D1', [candidate('rep_a', 1, true), candidate('rep_b', 2), candidate('rep_c', 3)])
    ]);
    assert.deepEqual(await statuses('D1'), {
      rep_a: 'proposed',
      rep_b: 'proposed',
      rep_c: 'proposed'
    });
    const [first] = (await listCoLeadsForDeals(db.sql, ORG, [id.get('D1')!])).get(id.get('D1')!)!;
    assert.equal(first?.externalId, `${ORG}:D1:rep_a`);
    assert.equal(first?.reason, 'rep_a wins\tmany "SaaS" deals');

    await decideCoLeadSuggestion(db, ORG, `${ORG}:D1:rep_b`, {
      status: 'approved',
      decidedBy: 'mgr_1',
      decidedAt: new Date('2024-02-01T00:00:00Z')
    });
    // Next score: rep_b and rep_c are no longer candidates, rep_d is new.
    const touched = await replaceCoLeadSuggestions(db.sql, ORG, [
      forDeal('D1', [candidate('rep_a', 1, true), candidate('rep_d', 2)], 2)
    ]);
    assert.deepEqual([...touched], [id.get('D1')]);
    assert.deepEqual(await statuses('D1'), {
      rep_a: 'proposed',
      rep_b: 'approved',
      rep_c: 'expired',
      rep_d: 'proposed'
    });

    // The same candidates again: nothing is rewritten.
    const again = await replaceCoLeadSuggestions(db.sql, ORG, [
      forDeal('D1', [candidate('rep_a', 1, true), candidate('rep_d', 2)], 3)
    ]);
    assert.equal(again.size, 0);

    // rep_c comes back: proposed again, with no duplicate row.
    await replaceCoLeadSuggestions(db.sql, ORG, [
      forDeal('D1', [candidate('rep_c', 1, true), candidate('rep_a', 2)], 4)
    ]);
    assert.deepEqual(await statuses('D1'), {
      rep_a: 'proposed',
      rep_b: 'approved',
      rep_c: 'proposed',
      rep_d: 'expired'
    });
  });

  test('COPY of first suggestions writes them, or nothing when one already exists', async () => {
    assert.equal(
      await copyFirstCoLeadSuggestions_(db, [forDeal('D2', [candidate('rep_a', 1, true)])]),
      true
    );
    assert.deepEqual(await statuses('D2'), { rep_a: 'proposed' });

    // D1 has suggestions: the whole COPY is rolled back to its savepoint, D3 included.
    const ok = await copyFirstCoLeadSuggestions_(db, [
      forDeal('D3', [candidate('rep_x', 1, true)]),
      forDeal('D1', [candidate('rep_a', 1, true)])
    ]);
    assert.equal(ok, false);
    assert.deepEqual(await statuses('D3'), {});
  });

  test('the co-lead state counts primary open suggestions and keeps the cursor', async () => {
    const state = await loadCoLeadState(db.sql, ORG, 'all', { load: 'all' });
    assert.deepEqual(state.load, { rep_a: 1, rep_c: 1 });
    assert.deepEqual(state.assigned, { D1: 'rep_c', D2: 'rep_a' });
    assert.equal(state.cursor, 0);
    await saveCoLeadCursor(db.sql, ORG, 7);
    const some = await loadCoLeadState(db.sql, ORG, [id.get('D2')!], { load: ['rep_c'] });
    assert.deepEqual(some, { load: { rep_c: 1 }, cursor: 7, assigned: { D2: 'rep_a' } });
  });

  test('COPY stores every field exactly as the upsert path does', async () => {
    await copyNewDeals(db, ORG, ['D4', 'D5'].map(deal));
    for (const x of ['D4', 'D5']) id.set(x, (await getDealByExternalId(db, ORG, x))!.id);
    const candidates = [
      candidate('rep_é', 1, true),
      { ...candidate('rep_b', 2), winRate: 1 / 3, reason: 'Rep b: 33% — ünïcode\\ "quoted"' }
    ];
    const noOwner = (x: string) => ({ ...forDeal(x, candidates, 9), ownerRsfs: null });
    assert.equal(await copyFirstCoLeadSuggestions_(db, [noOwner('D4')]), true);
    await replaceCoLeadSuggestions(db.sql, ORG, [noOwner('D5')]);
    const stored = await listCoLeadsForDeals(db.sql, ORG, [id.get('D4')!, id.get('D5')!]);
    const fields = (x: string) =>
      (stored.get(id.get(x)!) ?? []).map((c) => ({
        ...c,
        id: 0,
        dealId: 0,
        externalId: c.externalId.replace(`:${x}:`, ':D?:'),
        updatedAt: null
      }));
    assert.equal(fields('D4').length, 2);
    assert.deepEqual(fields('D4'), fields('D5'));
    assert.equal(stored.get(id.get('D4')!)?.[0]?.externalId, `${ORG}:D4:rep_é`);
  });
});

/** copyFirstCoLeadSuggestions runs inside a transaction (it uses a savepoint). */
function copyFirstCoLeadSuggestions_(db: TestDatabase, deals: DealCoLeads[]): Promise<boolean> {
  return db.sql.begin((tx) => copyFirstCoLeadSuggestions(tx, ORG, deals));
}
