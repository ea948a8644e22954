import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import {
  contentHash,
  copyNewDeals,
  getDealByExternalId,
  loadClosedDeals,
  markDealDeleted,
  upsertDealSnapshot,
  type CanonicalDeal
} from './deals.ts';

const ORG = '00D000000000001';
const OTHER_ORG = '00D000000000002';

function deal(overrides: Partial<CanonicalDeal> = {}): CanonicalDeal {
  return {
    externalId: '006000000000001',
    ownerId: 'rep_1',
    managerId: 'mgr_1',
    accountId: '001000000000001',
    name: 'Acme renewal',
    industry: 'SaaS',
    region: 'Europe',
    productType: 'Pro',
    leadSource: 'Referral',
    stage: 'Proposal',
    amount: 12_000,
    createdDate: '2024-03-01',
    closedDate: null,
    salesCycleDays: null,
    outcome: null,
    attributes: { Type: 'Core' },
    ...overrides
  };
}

const t = (iso: string) => new Date(iso);

describe('deals repository', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await db.sql`INSERT INTO orgs (id, name) VALUES (${ORG}, 'Org one'), (${OTHER_ORG}, 'Org two')`;
  });
  after(() => db.drop());

  test('a new snapshot is inserted and reported as changed', async () => {
    const r = await upsertDealSnapshot(db, ORG, {
      ...deal(),
      sourceModstamp: t('2024-03-01T10:00:00Z')
    });
    assert.deepEqual({ changed: r.changed, stale: r.stale }, { changed: true, stale: false });
    const stored = await getDealByExternalId(db, ORG, '006000000000001');
    assert.equal(stored?.id, r.dealId);
    assert.equal(stored?.amount, 12_000);
    assert.equal(stored?.contentHash, contentHash(deal()));
    assert.deepEqual(stored?.sourceModstamp, t('2024-03-01T10:00:00Z'));
  });

  test('a newer snapshot is applied, an older one after it changes nothing', async () => {
    const newer = await upsertDealSnapshot(db, ORG, {
      ...deal({ amount: 15_000, stage: 'Negotiation' }),
      sourceModstamp: t('2024-03-03T10:00:00Z')
    });
    assert.deepEqual(
      { changed: newer.changed, stale: newer.stale },
      { changed: true, stale: false }
    );

    // Delivered late: modstamp between the first and the newest event.
    const older = await upsertDealSnapshot(db, ORG, {
      ...deal({ amount: 13_000 }),
      sourceModstamp: t('2024-03-02T10:00:00Z')
    });
    assert.deepEqual(older, { dealId: newer.dealId, changed: false, stale: true });
    // The same modstamp again is not newer either.
    const same = await upsertDealSnapshot(db, ORG, {
      ...deal({ amount: 99 }),
      sourceModstamp: t('2024-03-03T10:00:00Z')
    });
    assert.equal(same.stale, true);

    const stored = await getDealByExternalId(db, ORG, '006000000000001');
    assert.equal(stored?.amount, 15_000);
    assert.equal(stored?.stage, 'Negotiation');
    assert.deepEqual(stored?.sourceModstamp, t('2024-03-03T10:00:00Z'));
  });

  test('a newer snapshot with equal content advances the modstamp but is not a change', async () => {
    const r = await upsertDealSnapshot(db, ORG, {
      ...deal({ amount: 15_000, stage: 'Negotiation' }),
      sourceModstamp: t('2024-03-04T10:00:00Z')
    });
    assert.deepEqual({ changed: r.changed, stale: r.stale }, { changed: false, stale: false });
    const stored = await getDealByExternalId(db, ORG, '006000000000001');
    assert.deepEqual(stored?.sourceModstamp, t('2024-03-04T10:00:00Z'));
  });

  test('two edits in one second: a webhook cannot replace the first, the settled sync read can', async () => {
    const id = '006000000000009';
    const second = t('2024-03-07T09:30:15Z');
    const first = await upsertDealSnapshot(db, ORG, {
      ...deal({ externalId: id, amount: 10_000 }),
      sourceModstamp: second
    });
    assert.equal(first.changed, true);

    // The second edit of that second, delivered by webhook: it may as well be a delayed first
    // edit, so it changes nothing.
    const webhook = await upsertDealSnapshot(db, ORG, {
      ...deal({ externalId: id, amount: 11_000 }),
      sourceModstamp: second
    });
    assert.deepEqual(webhook, { dealId: first.dealId, changed: false, stale: true });
    assert.equal((await getDealByExternalId(db, ORG, id))?.amount, 10_000);

    // The sync reads the record after the second is over: its state is final for that stamp.
    const synced = await upsertDealSnapshot(
      db,
      ORG,
      { ...deal({ externalId: id, amount: 11_000 }), sourceModstamp: second },
      { settled: true }
    );
    assert.deepEqual(synced, { dealId: first.dealId, changed: true, stale: false });
    assert.equal((await getDealByExternalId(db, ORG, id))?.amount, 11_000);

    // Read again with the same content: nothing to do.
    const again = await upsertDealSnapshot(
      db,
      ORG,
      { ...deal({ externalId: id, amount: 11_000 }), sourceModstamp: second },
      { settled: true }
    );
    assert.equal(again.changed, false);
    assert.equal(again.stale, true);
  });

  test('the same external id in another org is another deal', async () => {
    const r = await upsertDealSnapshot(db, OTHER_ORG, {
      ...deal(),
      sourceModstamp: t('2024-01-01T00:00:00Z')
    });
    assert.equal(r.changed, true);
    const mine = await getDealByExternalId(db, ORG, '006000000000001');
    const theirs = await getDealByExternalId(db, OTHER_ORG, '006000000000001');
    assert.notEqual(mine?.id, theirs?.id);
    assert.equal(theirs?.amount, 12_000);
    assert.equal(mine?.amount, 15_000);
  });

  test('a delete older than the snapshot is ignored; a newer one marks the deal deleted', async () => {
    const stale = await markDealDeleted(db, ORG, '006000000000001', t('2024-03-02T00:00:00Z'));
    assert.equal(stale.stale, true);
    assert.equal((await getDealByExternalId(db, ORG, '006000000000001'))?.deletedAt, null);

    const del = await markDealDeleted(db, ORG, '006000000000001', t('2024-03-05T00:00:00Z'));
    assert.deepEqual({ changed: del.changed, stale: del.stale }, { changed: true, stale: false });
    const stored = await getDealByExternalId(db, ORG, '006000000000001');
    assert.ok(stored?.deletedAt instanceof Date);

    // An older change arriving after the delete does not bring it back.
    const late = await upsertDealSnapshot(db, ORG, {
      ...deal(),
      sourceModstamp: t('2024-03-04T12:00:00Z')
    });
    assert.equal(late.stale, true);
    assert.ok((await getDealByExternalId(db, ORG, '006000000000001'))?.deletedAt instanceof Date);

    // A newer change (undelete in Salesforce) does.
    const back = await upsertDealSnapshot(db, ORG, {
      ...deal(),
      sourceModstamp: t('2024-03-06T00:00:00Z')
    });
    assert.equal(back.changed, true);
    assert.equal((await getDealByExternalId(db, ORG, '006000000000001'))?.deletedAt, null);
  });

  test('deleting an unknown deal does nothing', async () => {
    const r = await markDealDeleted(db, ORG, 'nope', t('2024-03-05T00:00:00Z'));
    assert.deepEqual(r, { dealId: null, changed: false, stale: false });
  });

  test('a bad snapshot is rejected with the field named', async () => {
    await assert.rejects(
      upsertDealSnapshot(db, ORG, {
        ...deal({ createdDate: '03/01/2024' }),
        sourceModstamp: new Date()
      }),
      /createdDate must be YYYY-MM-DD/
    );
    await assert.rejects(
      upsertDealSnapshot(db, ORG, { ...deal({ ownerId: '' }), sourceModstamp: new Date() }),
      /ownerId is required/
    );
  });

  test('bulk COPY loads deals, and closed ones load for training', async () => {
    const rows: CanonicalDeal[] = [
      deal({
        externalId: 'B1',
        outcome: 'Won',
        closedDate: '2024-02-01',
        name: 'tab\there "q" \\ new\nline'
      }),
      deal({ externalId: 'B2', outcome: 'Lost', closedDate: '2024-02-03' }),
      deal({ externalId: 'B3' })
    ];
    assert.equal(await copyNewDeals(db, OTHER_ORG, rows), 3);
    const b1 = await getDealByExternalId(db, OTHER_ORG, 'B1');
    assert.equal(b1?.name, 'tab\there "q" \\ new\nline');
    assert.deepEqual(b1?.attributes, { Type: 'Core' });
    const closed = await loadClosedDeals(db, OTHER_ORG);
    assert.deepEqual(
      closed.map((d) => [d.id, d.outcome, d.closedDate]),
      [
        ['B1', 'Won', '2024-02-01'],
        ['B2', 'Lost', '2024-02-03']
      ]
    );
    const through = await loadClosedDeals(db, OTHER_ORG, { closedThrough: '2024-02-02' });
    assert.deepEqual(
      through.map((d) => d.id),
      ['B1']
    );
  });
});
