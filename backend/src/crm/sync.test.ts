import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  seedSalesData,
  startEmulatedOrg,
  type EmulatedOrgSetup,
  type SampleData
} from '../../../test/sf-emulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { markDealDeleted, upsertDealSnapshot } from '../db/repositories/deals.ts';
import { getOrg, getSyncWatermark, registerOrg } from '../db/repositories/orgs.ts';
import { SalesforceClient } from './connection.ts';
import { incrementalSync, syncOrg, syncQuery, type SyncPage } from './sync.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
let clock = T0;
const now = () => clock;

let setup: EmulatedOrgSetup;
let data: SampleData;
let client: SalesforceClient;
/** Opportunities without an Amount: Salesforce allows them, the backend rejects them. */
let noAmount: string[] = [];

const TOTAL = 5000;
const PAGE = 500;

async function collect(watermark: Date | null, onPage?: (p: SyncPage, i: number) => void) {
  const pages: SyncPage[] = [];
  for await (const page of incrementalSync(client, { watermark, settleMs: 1000, now })) {
    onPage?.(page, pages.length);
    pages.push(page);
  }
  return pages;
}

const idsOf = (pages: SyncPage[]) => pages.flatMap((p) => p.deals.map((d) => d.externalId));

before(async () => {
  setup = await startEmulatedOrg({ pageSize: PAGE, now });
  data = seedSalesData(setup.org, { opportunities: 0 });
  // 5,000 deals created over 50 seconds, 100 per second: many share a SystemModstamp.
  const ids: string[] = [];
  for (let second = 0; second < TOTAL / 100; second++) {
    clock = T0 + second * 1000;
    ids.push(
      ...setup.org.insertMany(
        'Opportunity',
        Array.from({ length: 100 }, (_, i) => {
          const n = second * 100 + i;
          return {
            Name: `Deal ${n}`,
            OwnerId: data.repIds[n % data.repIds.length],
            AccountId: data.accountIds[n % data.accountIds.length],
            Amount: n % 500 === 7 ? null : 1000 + n,
            StageName: n % 4 === 0 ? 'Closed Won' : n % 4 === 1 ? 'Closed Lost' : 'Prospecting',
            CloseDate: '2026-02-15'
          };
        })
      )
    );
  }
  data.opportunityIds = ids;
  noAmount = ids.filter((_, n) => n % 500 === 7);
  clock = T0 + 60_000;
  client = new SalesforceClient(setup.connection);
});
after(async () => {
  await setup.emulator.stop();
});

describe('incrementalSync', () => {
  let fullLoad: SyncPage[];

  test('first run: a full load in pages, every Opportunity exactly once', async () => {
    setup.emulator.resetStats();
    fullLoad = await collect(null);
    assert.equal(fullLoad.length, TOTAL / PAGE);
    assert.equal(setup.emulator.count('queryAll'), 1);
    assert.equal(setup.emulator.count('queryMore'), TOTAL / PAGE - 1);
    const ids = idsOf(fullLoad);
    const rejected = fullLoad.flatMap((p) => p.rejected);
    assert.equal(ids.length, TOTAL - noAmount.length);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(
      new Set([...ids, ...rejected.map((r) => r.externalId)]),
      new Set(data.opportunityIds)
    );
    assert.deepEqual(
      rejected.map((r) => [r.externalId, r.field]),
      noAmount.map((id) => [id, 'Amount'])
    );
    const sample = fullLoad[0]?.deals[0];
    assert.equal(sample?.industry, 'FinTech');
    assert.equal(sample?.region, 'India');
    assert.equal(sample?.outcome, 'Won');
  });

  test('the watermark only moves forward, never past a record not yet yielded, and ends at the window', () => {
    const marks = fullLoad.map((p) => p.watermark.getTime());
    assert.deepEqual(
      [...marks].sort((a, b) => a - b),
      marks
    );
    for (let i = 0; i < fullLoad.length - 1; i++) {
      const next = fullLoad[i + 1] as SyncPage;
      const firstNext = Math.min(...next.deals.map((d) => d.sourceModstamp.getTime()));
      assert.ok(
        (marks[i] as number) < firstNext,
        `page ${i} watermark passes a record of page ${i + 1}`
      );
    }
    assert.equal(marks.at(-1), clock - 1000);
    assert.equal(fullLoad.at(-1)?.done, true);
  });

  test('second run: only the records changed or deleted since', async () => {
    const watermark = fullLoad.at(-1)?.watermark as Date;
    clock += 10_000;
    const changed = [
      data.opportunityIds[3],
      data.opportunityIds[2500],
      data.opportunityIds[4999]
    ] as string[];
    for (const id of changed)
      setup.org.update('Opportunity', id, { StageName: 'Closed Won', Amount: 99 });
    const gone = data.opportunityIds[1234] as string;
    setup.org.delete('Opportunity', gone);
    clock += 5_000;
    const pages = await collect(watermark);
    assert.equal(pages.length, 1);
    assert.deepEqual(new Set(idsOf(pages)), new Set(changed));
    assert.ok(pages[0]?.deals.every((d) => d.amount === 99 && d.outcome === 'Won'));
    assert.deepEqual(
      pages[0]?.deleted.map((d) => d.externalId),
      [gone]
    );
    assert.deepEqual(pages[0]?.rejected, []);
    // Nothing new: one empty page that still moves the watermark to the window's end.
    clock += 5_000;
    const quiet = await collect(pages[0]?.watermark as Date);
    assert.equal(quiet.length, 1);
    assert.deepEqual([quiet[0]?.deals.length, quiet[0]?.deleted.length], [0, 0]);
    assert.equal(quiet[0]?.watermark.getTime(), clock - 1000);
  });

  test('records changed or deleted while a run reads its pages are caught by the next run', async () => {
    // What a store would hold: newest SystemModstamp wins, deletions remove.
    const store = new Map<string, { modstamp: number; amount: number; deleted: boolean }>();
    const apply = (p: SyncPage) => {
      for (const d of p.deals) {
        const prev = store.get(d.externalId);
        if (!prev || prev.modstamp < d.sourceModstamp.getTime()) {
          store.set(d.externalId, {
            modstamp: d.sourceModstamp.getTime(),
            amount: d.amount,
            deleted: false
          });
        }
      }
      for (const d of p.deleted) {
        const prev = store.get(d.externalId);
        if (!prev || prev.modstamp < d.sourceModstamp.getTime()) {
          store.set(d.externalId, {
            modstamp: d.sourceModstamp.getTime(),
            amount: prev?.amount ?? 0,
            deleted: true
          });
        }
      }
    };
    const early = data.opportunityIds[10] as string; // yielded on the first page
    const late = data.opportunityIds[4900] as string; // not yet yielded when it changes
    const lateGone = data.opportunityIds[4950] as string;
    clock += 5_000;
    const first = await collect(null, (page, i) => {
      apply(page);
      if (i === 1) {
        setup.org.update('Opportunity', early, { Amount: 111 });
        setup.org.update('Opportunity', late, { Amount: 222 });
        setup.org.delete('Opportunity', lateGone);
      }
    });
    clock += 5_000;
    const second = await collect(first.at(-1)?.watermark as Date, apply);
    assert.deepEqual(new Set(idsOf(second)), new Set([early, late]));
    // Every live Opportunity with an Amount is stored with its current amount; deleted ones are gone.
    const live = setup.org.all('Opportunity').filter((o) => o.Amount !== null);
    for (const o of live) {
      assert.equal(store.get(String(o.Id))?.amount, o.Amount, `Opportunity ${String(o.Id)}`);
      assert.equal(store.get(String(o.Id))?.deleted, false);
    }
    assert.equal(store.get(lateGone)?.deleted, true);
    assert.equal(store.get(data.opportunityIds[1234] as string)?.deleted, true);
  });

  test('the SOQL of a window is exact: whole seconds, queryAll, ordered by modstamp and Id', () => {
    assert.equal(
      syncQuery(new Date('2026-03-02T09:00:00.400Z'), new Date('2026-03-02T10:00:00Z')),
      'SELECT Id, Name, OwnerId, Owner.ManagerId, AccountId, Account.Industry, ' +
        'Account.BillingCountry, Amount, StageName, CloseDate, CreatedDate, IsClosed, IsWon, ' +
        'LeadSource, Type, SystemModstamp, IsDeleted FROM Opportunity ' +
        'WHERE SystemModstamp > 2026-03-02T09:00:00Z AND SystemModstamp <= 2026-03-02T10:00:00Z ' +
        'ORDER BY SystemModstamp, Id'
    );
  });

  test('a window closing less than a second in the past is refused', async () => {
    await assert.rejects(
      incrementalSync(client, { watermark: null, settleMs: 0 }).next(),
      /settleMs/
    );
  });
});

describe('syncOrg (watermark in Postgres)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await registerOrg(db, Buffer.alloc(32, 1), {
      id: setup.org.orgId,
      name: 'Acme',
      loginUrl: setup.emulator.loginUrl,
      clientId: setup.org.clientId,
      username: setup.org.username,
      privateKeyPem: setup.keys.privateKeyPem
    });
  });
  after(async () => {
    await db.drop();
  });

  async function storePage(page: SyncPage): Promise<void> {
    for (let i = 0; i < page.deals.length; i += 25) {
      const chunk = page.deals.slice(i, i + 25);
      await Promise.all(chunk.map((deal) => upsertDealSnapshot(db, setup.org.orgId, deal)));
    }
    for (const d of page.deleted)
      await markDealDeleted(db, setup.org.orgId, d.externalId, d.sourceModstamp);
  }

  test('a crash mid-run keeps the watermark of the last stored page; the rerun completes the load', async () => {
    clock += 5_000;
    let stored = 0;
    let storedDeals = 0;
    await assert.rejects(
      syncOrg({
        database: db,
        client,
        settleMs: 1000,
        now,
        storePage: async (page) => {
          if (stored === 3) throw new Error('worker killed');
          await storePage(page);
          stored++;
          storedDeals += page.deals.length;
        }
      }),
      /worker killed/
    );
    const afterCrash = await getOrg(db, setup.org.orgId);
    assert.match(afterCrash?.lastError ?? '', /sync failed: worker killed/);
    const mark = afterCrash?.syncWatermark as Date;
    assert.ok(mark.getTime() > T0, 'watermark advanced past the stored pages');
    const [{ n: before }] = (await db.sql`SELECT count(*)::int AS n FROM deals`) as unknown as [
      { n: number }
    ];
    assert.equal(before, storedDeals);

    const rerun = await syncOrg({ database: db, client, settleMs: 1000, now, storePage });
    assert.ok(rerun.pages < TOTAL / PAGE, 'the rerun starts from the watermark, not from scratch');
    const [{ live, deleted }] = (await db.sql`
      SELECT count(*) FILTER (WHERE deleted_at IS NULL)::int AS live,
             count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted
      FROM deals WHERE org_id = ${setup.org.orgId}`) as unknown as [
      { live: number; deleted: number }
    ];
    const sfLive = setup.org.all('Opportunity').filter((o) => o.Amount !== null).length;
    assert.equal(live, sfLive);
    assert.equal(deleted, 0); // deleted before the first load: never stored
    const org = await getOrg(db, setup.org.orgId);
    assert.equal(org?.lastError, null);
    assert.ok(org?.lastSyncAt);
    assert.equal((await getSyncWatermark(db, setup.org.orgId))?.getTime(), clock - 1000);
  });

  test('a deletion in Salesforce reaches the stored deal on the next run', async () => {
    clock += 5_000;
    const victim = data.opportunityIds[42] as string;
    setup.org.delete('Opportunity', victim);
    clock += 5_000;
    const run = await syncOrg({ database: db, client, settleMs: 1000, now, storePage });
    assert.deepEqual([run.deals, run.deleted], [0, 1]);
    const [row] = (await db.sql`
      SELECT deleted_at FROM deals WHERE org_id = ${setup.org.orgId} AND external_id = ${victim}`) as unknown as [
      { deleted_at: Date | null }
    ];
    assert.ok(row?.deleted_at);
  });
});
