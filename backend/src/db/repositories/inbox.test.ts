import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import {
  claimInboxBatch,
  claimStaleInbox,
  getInboxRow,
  inboxCounts,
  insertInboxEvents,
  markInboxBatchDone,
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
    assert.deepEqual(again.inserted.map((r) => r.eventId), ['c']);
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
    assert.equal(results.reduce((n, r) => n + r.inserted.length, 0), 1);
    assert.equal(results.reduce((n, r) => n + r.duplicates, 0), 9);
  });

  test('jobs claim batches: the own row first, never a row another job holds', async () => {
    const org = '00D000000000004EAA';
    const { inserted } = await insertInboxEvents(db, org, 'apex', ['b1', 'b2', 'b3', 'b4', 'b5'].map(ev));
    const ids = inserted.map((r) => r.id);
    const a = await claimInboxBatch(db, org, { first: ids[3]!, limit: 2, leaseMs: 60_000 });
    assert.deepEqual(a.map((r) => r.id), [ids[0]!, ids[3]!].sort((x, y) => x - y));
    assert.ok(a.every((r) => r.attempts === 1 && r.claimedUntil !== null));
    const b = await claimInboxBatch(db, org, { first: ids[0]!, limit: 10, leaseMs: 60_000 });
    assert.deepEqual(b.map((r) => r.id), [ids[1]!, ids[2]!, ids[4]!], 'held rows are skipped, even the own one');
    // Done rows are never claimed again; released rows are, with their reason kept.
    await markInboxBatchDone(db, [ids[0]!]);
    await releaseInboxRows(db, [{ id: ids[3]!, error: 'deadlock detected', final: false }], 8);
    const c = await claimInboxBatch(db, org, { first: ids[0]!, limit: 10, leaseMs: 60_000 });
    assert.deepEqual(c.map((r) => r.id), [ids[3]!]);
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
    assert.equal((await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length, 1);
    assert.equal((await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length, 0);
    await db.sql`UPDATE webhook_inbox SET claimed_until = now() - interval '1 s' WHERE id = ${id}`;
    assert.equal((await claimInboxBatch(db, org, { first: id, limit: 1, leaseMs: 60_000 })).length, 1);
  });

  test('the sweeper claims never-enqueued and long-enqueued rows, once', async () => {
    const org = '00D000000000003EAA';
    const { inserted } = await insertInboxEvents(db, org, 'apex', [ev('n1'), ev('n2'), ev('n3')]);
    const [n1, n2, n3] = inserted.map((r) => r.id) as [number, number, number];
    await db.sql`UPDATE webhook_inbox SET status = 'enqueued', enqueued_at = now() WHERE id = ${n2}`;
    await markInboxBatchDone(db, [n3]);
    // Age the rows: received a minute ago, n2 enqueued a minute ago.
    await db.sql`UPDATE webhook_inbox SET received_at = now() - interval '60 s',
      enqueued_at = CASE WHEN enqueued_at IS NULL THEN NULL ELSE now() - interval '60 s' END
      WHERE org_id = ${org}`;
    const young = await claimStaleInbox(db, { receivedBeforeMs: 120_000, enqueuedBeforeMs: 120_000, limit: 10 });
    assert.equal(young.filter((r) => r.orgId === org).length, 0);
    const [a, b] = await Promise.all([
      claimStaleInbox(db, { receivedBeforeMs: 5_000, enqueuedBeforeMs: 30_000, limit: 10 }),
      claimStaleInbox(db, { receivedBeforeMs: 5_000, enqueuedBeforeMs: 30_000, limit: 10 })
    ]);
    const claimed = [...a, ...b].filter((r) => r.orgId === org).map((r) => r.id).sort();
    assert.deepEqual(claimed, [n1, n2].sort());
    // Claiming stamps enqueued_at: not claimed again right away.
    const again = await claimStaleInbox(db, { receivedBeforeMs: 5_000, enqueuedBeforeMs: 30_000, limit: 10 });
    assert.equal(again.filter((r) => r.orgId === org).length, 0);
    assert.deepEqual(await inboxCounts(db, org), { enqueued: 2, done: 1 });
  });
});
