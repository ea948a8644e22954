import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import {
  claimInboxBatch,
  getInboxRow,
  inboxCounts,
  insertInboxEvents,
  markInboxBatchDone,
  orgsWithStaleInbox,
  releaseInboxRows
} from './inbox.ts';

const ORG = '00D000000000001EAA';
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

const ev = (id: string) => ({
  eventId: id,
  type: 'opportunity.changed',
  occurredAt: '2026-11-22T10:00:00.000Z',
  payload: { id, fields: { Amount: 1 } }
});

describe('inbox repository', () => {
  test('a batch is stored once: repeats and in-batch duplicates count as duplicates', async () => {
    const first = await insertInboxEvents(db, ORG, 'apex', [ev('a'), ev('b'), ev('a')]);
    assert.equal(first.inserted.length, 2);
    assert.equal(first.duplicates, 1);
    const again = await insertInboxEvents(db, ORG, 'apex', [ev('a'), ev('c')]);
    assert.deepEqual(
      again.inserted.map((r) => r.eventId),
      ['c']
    );
    assert.equal(again.duplicates, 1);
    // Same event id in another org is another event.
    const other = await insertInboxEvents(db, '00D000000000002EAA', 'apex', [ev('a')]);
    assert.equal(other.inserted.length, 1);
    const row = await getInboxRow(db, first.inserted[0]!.id);
    assert.equal(row?.status, 'received');
    assert.deepEqual(row?.payload, { id: 'a', fields: { Amount: 1 } });
    assert.equal(row?.occurredAt?.toISOString(), '2026-11-22T10:00:00.000Z');
  });

  test('ten concurrent deliveries of one event store one row', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => insertInboxEvents(db, ORG, 'apex', [ev('same')]))
    );
    assert.equal(
      results.reduce((n, r) => n + r.inserted.length, 0),
      1
    );
    assert.equal(
      results.reduce((n, r) => n + r.duplicates, 0),
      9
    );
  });

  test('jobs claim batches: the own row first, never a row another job holds', async () => {
    const org = '00D000000000004EAA';
    const { inserted } = await insertInboxEvents(
      db,
      org,
      'apex',
      ['b1', 'b2', 'b3', 'b4', 'b5'].map(ev)
    );
    const ids = inserted.map((r) => r.id);
    const a = await claimInboxBatch(db, org, { first: ids[3]!, limit: 2, leaseMs: 60_000 });
    assert.deepEqual(
      a.map((r) => r.id),
      [ids[0]!, ids[3]!].sort((x, y) => x - y)
    );
    assert.ok(a.every((r) => r.attempts === 1 && r.claimedUntil !== null));
    const b = await claimInboxBatch(db, org, { first: ids[0]!, limit: 10, leaseMs: 60_000 });
    assert.deepEqual(
      b.map((r) => r.id),
      [ids[1]!, ids[2]!, ids[4]!],
      'held rows are skipped, even the own one'
    );
    // Done rows are never claimed again; released rows are, with their reason kept.
    await markInboxBatchDone(db, [ids[0]!]);
    await releaseInboxRows(db, [{ id: ids[3]!, error: 'deadlock detected', final: false }], 8);
    const c = await claimInboxBatch(db, org, { first: ids[0]!, limit: 10, leaseMs: 60_000 });
    assert.deepEqual(
      c.map((r) => r.id),
      [ids[3]!]
    );
    assert.equal(c[0]!.attempts, 2);
    assert.equal(c[0]!.lastError, 'deadlock detected');
    // A row that cannot succeed is failed for good; so is one out of attempts.
    await releaseInboxRows(db, [{ id: ids[3]!, error: 'Amount must be positive', final: true }], 8);
    await releaseInboxRows(db, [{ id: ids[1]!, error: 'boom', final: false }], 1);
    assert.equal((await getInboxRow(db, ids[3]!))?.status, 'failed');
    assert.equal((await getInboxRow(db, ids[1]!))?.status, 'failed');
    assert.equal((await getInboxRow(db, ids[0]!))?.status, 'done');
  });

  test('a lease that ran out (a dead job) lets another job claim the row', async () => {
    const org = '00D000000000005EAA';
    const { inserted } = await insertInboxEvents(db, org, 'apex', [ev('l1')]);
    const id = inserted[0]!.id;
    assert.equal(
      (await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length,
      1
    );
    assert.equal(
      (await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length,
      0
    );
    await db.sql`UPDATE webhook_inbox SET claimed_until = now() - interval '1 s' WHERE id = ${id}`;
    assert.equal(
      (await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length,
      1
    );
  });

  test('the sweeper sees orgs whose open rows nobody holds and that waited too long', async () => {
    const org = '00D000000000003EAA';
    const { inserted } = await insertInboxEvents(db, org, 'apex', [ev('n1'), ev('n2')]);
    const [n1, n2] = inserted.map((r) => r.id) as [number, number];
    assert.ok(!(await orgsWithStaleInbox(db, 30_000)).includes(org), 'too young');
    await db.sql`UPDATE webhook_inbox SET received_at = now() - interval '60 s' WHERE org_id = ${org}`;
    assert.ok((await orgsWithStaleInbox(db, 30_000)).includes(org));
    // Held by a job (lease running) or done: not stale.
    await claimInboxBatch(db, org, { first: n1, limit: 1, leaseMs: 60_000 });
    await markInboxBatchDone(db, [n2]);
    assert.ok(!(await orgsWithStaleInbox(db, 30_000)).includes(org));
    assert.deepEqual(await inboxCounts(db, org), { received: 1, done: 1 });
  });
});
