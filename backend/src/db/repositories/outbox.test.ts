import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import {
  claimPending,
  markFailed,
  markUnchanged,
  markWritten,
  msUntilNextFlush,
  orgsWithDuePending,
  outboxCounts,
  payloadHash,
  releaseClaims,
  upsertOutbox,
  type OutboxWrite
} from './outbox.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

const opp = (key: string, p: number, seq: number | null): OutboxWrite => ({
  objectType: 'Opportunity',
  recordKey: key,
  payload: { Win_Probability__c: p },
  sourceSeq: seq
});
const row = async (org: string, key: string) =>
  (await db.sql`SELECT * FROM writeback_outbox WHERE org_id = ${org} AND record_key = ${key}`)[0]!;

describe('outbox repository', () => {
  test('payloadHash ignores key order', () => {
    assert.equal(
      payloadHash({ a: 1, b: { c: 2, d: 3 } }),
      payloadHash({ b: { d: 3, c: 2 }, a: 1 })
    );
    assert.notEqual(payloadHash({ a: 1 }), payloadHash({ a: 2 }));
  });

  test('a newer result replaces the pending payload; an older or equal one does not', async () => {
    const org = 'org-seq';
    assert.equal(await upsertOutbox(db, org, [opp('006A', 40, 10)]), 1);
    assert.equal(await upsertOutbox(db, org, [opp('006A', 40, 11)]), 0, 'same payload: no change');
    assert.equal(await upsertOutbox(db, org, [opp('006A', 55, 12)]), 1);
    assert.equal(await upsertOutbox(db, org, [opp('006A', 30, 9)]), 0, 'older source: ignored');
    const r = await row(org, '006A');
    assert.deepEqual(r.payload, { Win_Probability__c: 55 });
    assert.equal(Number(r.source_seq), 12);
    assert.equal(r.status, 'pending');
  });

  test('claiming leases rows: a second claimer gets none until release', async () => {
    const org = 'org-claim';
    await upsertOutbox(db, org, [opp('006A', 1, 1), opp('006B', 2, 1), opp('006C', 3, 1)]);
    const [a, b] = await Promise.all([
      claimPending(db, org, 'Opportunity', { limit: 2, leaseMs: 60_000 }),
      claimPending(db, org, 'Opportunity', { limit: 2, leaseMs: 60_000 })
    ]);
    const keys = [...a, ...b].map((r) => r.recordKey).sort();
    assert.deepEqual(keys, ['006A', '006B', '006C']);
    assert.equal(
      (await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 })).length,
      0
    );
    await releaseClaims(
      db,
      a.map((r) => r.id)
    );
    assert.equal(
      (await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 })).length,
      a.length
    );
  });

  test('written rows are done; a payload that changed during the write stays pending', async () => {
    const org = 'org-written';
    await upsertOutbox(db, org, [opp('006A', 1, 1), opp('006B', 2, 1)]);
    const claimed = await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 });
    await upsertOutbox(db, org, [opp('006B', 3, 2)]); // arrives while the call is in flight
    await markWritten(
      db,
      claimed.map((r) => ({ id: r.id, payloadHash: r.payloadHash }))
    );
    assert.equal((await row(org, '006A')).status, 'done');
    const b = await row(org, '006B');
    assert.equal(b.status, 'pending');
    assert.equal(b.written_hash, payloadHash({ Win_Probability__c: 2 }));
    // Back to what was written: nothing to send, markUnchanged settles it without a call.
    await upsertOutbox(db, org, [opp('006B', 2, 3)]);
    const again = await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 });
    assert.equal(again.length, 1);
    assert.equal(again[0]!.payloadHash, again[0]!.writtenHash);
    await markUnchanged(db, [again[0]!.id]);
    assert.deepEqual(await outboxCounts(db, org), { done: 2 });
  });

  test('failures back off, then park with the reason; a new payload revives a parked row', async () => {
    const org = 'org-fail';
    await upsertOutbox(db, org, [opp('006A', 1, 1)]);
    const opts = { maxAttempts: 2, baseMs: 60_000, maxMs: 60_000 };
    let [r] = await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 });
    await markFailed(
      db,
      [{ id: r!.id, payloadHash: r!.payloadHash, error: 'UNABLE_TO_LOCK_ROW', retryable: true }],
      opts
    );
    assert.equal((await row(org, '006A')).status, 'pending');
    assert.equal(
      (await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 })).length,
      0,
      'backing off'
    );
    const wait = await msUntilNextFlush(db, org, 600);
    assert.ok(wait !== null && wait > 50_000 && wait <= 60_000, `waits out the backoff: ${wait}`);
    await db.sql`UPDATE writeback_outbox SET retry_at = now() WHERE org_id = ${org}`;
    [r] = await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 });
    const out = await markFailed(
      db,
      [
        {
          id: r!.id,
          payloadHash: r!.payloadHash,
          error: 'UNABLE_TO_LOCK_ROW again',
          retryable: true
        }
      ],
      opts
    );
    assert.equal(out.parked, 1);
    const parked = await row(org, '006A');
    assert.equal(parked.status, 'parked');
    assert.equal(parked.last_error, 'UNABLE_TO_LOCK_ROW again');
    assert.equal(parked.attempts, 2);
    await upsertOutbox(db, org, [opp('006A', 2, 2)]);
    const revived = await row(org, '006A');
    assert.equal(revived.status, 'pending');
    assert.equal(revived.attempts, 0);
  });

  test('a failure that is not retryable parks at once', async () => {
    const org = 'org-fatal';
    await upsertOutbox(db, org, [opp('006A', 1, 1)]);
    const [r] = await claimPending(db, org, 'Opportunity', { limit: 10, leaseMs: 60_000 });
    await markFailed(
      db,
      [{ id: r!.id, payloadHash: r!.payloadHash, error: 'INVALID_FIELD', retryable: false }],
      { maxAttempts: 5, baseMs: 1000, maxMs: 1000 }
    );
    assert.equal((await row(org, '006A')).status, 'parked');
  });

  test('the next flush is due one batching window after the oldest pending row began to wait', async () => {
    const org = 'org-window';
    assert.equal(await msUntilNextFlush(db, org, 600), null, 'nothing pending');
    await upsertOutbox(db, org, [opp('006A', 1, 1)]);
    const fresh = await msUntilNextFlush(db, org, 600);
    assert.ok(fresh !== null && fresh > 400 && fresh <= 600, `a whole window: ${fresh}`);
    await db.sql`UPDATE writeback_outbox SET updated_at = now() - interval '2 seconds' WHERE org_id = ${org}`;
    // A newer payload for the waiting record does not restart its wait.
    await upsertOutbox(db, org, [opp('006A', 2, 2)]);
    await upsertOutbox(db, org, [opp('006B', 1, 3)]);
    assert.equal(await msUntilNextFlush(db, org, 600), 0, 'the oldest is overdue');
    // A claimed row is not due until its lease ends; the other one decides.
    await claimPending(db, org, 'Opportunity', { limit: 1, leaseMs: 60_000 });
    const next = await msUntilNextFlush(db, org, 600);
    assert.ok(next !== null && next > 400 && next <= 600, `the unclaimed row's window: ${next}`);
    // A row written and changed again starts a new wait.
    const [a] =
      await db.sql`SELECT id, payload_hash FROM writeback_outbox WHERE org_id = ${org} AND record_key = '006A'`;
    await markWritten(db, [{ id: Number(a!.id), payloadHash: a!.payload_hash as string }]);
    await db.sql`UPDATE writeback_outbox SET updated_at = now() - interval '2 seconds' WHERE org_id = ${org} AND record_key = '006A'`;
    await upsertOutbox(db, org, [opp('006A', 3, 4)]);
    assert.ok(
      Date.now() - new Date((await row(org, '006A')).updated_at as string).getTime() < 1_000,
      'waits from now'
    );
  });

  test('the sweeper sees orgs with due, unclaimed pending rows older than the threshold', async () => {
    await upsertOutbox(db, 'org-sweep', [opp('006A', 1, 1)]);
    assert.ok(!(await orgsWithDuePending(db, 60_000)).includes('org-sweep'));
    await db.sql`UPDATE writeback_outbox SET updated_at = now() - interval '2 minutes' WHERE org_id = 'org-sweep'`;
    assert.ok((await orgsWithDuePending(db, 60_000)).includes('org-sweep'));
  });
});
