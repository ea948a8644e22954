// The writeback worker against the Salesforce emulator through the real jsforce client:
// batching into sObject Collections calls, nothing-changed-no-call, REQUEST_LIMIT_EXCEEDED
// pausing the org, INVALID_SESSION_ID re-authenticating once, per-record failures backing
// off and then parking with the reason. Only the writeback worker runs here; the outbox rows
// are put in place directly.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../backend/src/config.ts';
import { upsertOutbox, type OutboxWrite } from '../../backend/src/db/repositories/outbox.ts';
import { SalesforceEmulator } from '../sf-emulator/emulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix } from '../support/redis.ts';
import { registerTestOrg, testConfig, waitFor, type TestOrg } from './harness.ts';
import { startStack, TEST_WRITEBACK, type Stack } from './stack.ts';

let db: TestDatabase;
let emulator: SalesforceEmulator;
let config: Config;
let stack: Stack;
let org: TestOrg;
let opps: string[];

before(async () => {
  db = await createTestDatabase();
  emulator = await SalesforceEmulator.start();
  config = testConfig(db.url);
  org = await registerTestOrg(db, config, emulator);
  const owner = org.sf!.insert('User', {
    Username: `owner@${org.orgId}.example`,
    LastName: 'Owner'
  });
  opps = org.sf!.insertMany(
    'Opportunity',
    Array.from({ length: 450 }, (_, i) => ({
      Name: `Deal ${i}`,
      OwnerId: owner,
      StageName: 'Prospecting',
      CloseDate: '2026-12-31',
      Amount: 1000 + i
    }))
  );
  stack = await startStack({
    config,
    database: db,
    workers: ['writeback'],
    writebackDelayMs: 100,
    writeback: { ...TEST_WRITEBACK, maxAttempts: 3, backoffBaseMs: 300, backoffMaxMs: 300 }
  });
});

after(async () => {
  await stack.close();
  await emulator.stop();
  await deletePrefix(config.DI_QUEUE_PREFIX);
  await db.drop();
});

beforeEach(() => {
  emulator.clearFaults();
  emulator.resetStats();
});

let seq = 1;
function scores(ids: string[], probability: number): OutboxWrite[] {
  seq++;
  return ids.map((id) => ({
    objectType: 'Opportunity',
    recordKey: id,
    payload: { Win_Probability__c: probability, Risk_Band__c: probability < 30 ? 'High' : 'Low' },
    sourceSeq: seq
  }));
}

async function outbox(status?: string) {
  return status
    ? db.sql`SELECT * FROM writeback_outbox WHERE org_id = ${org.orgId} AND status = ${status}`
    : db.sql`SELECT * FROM writeback_outbox WHERE org_id = ${org.orgId}`;
}

const allDone = async () => ((await outbox('pending')).length === 0 ? true : undefined);
const updates = () => emulator.calls.filter((c) => c.endpoint === 'collections:update');

describe('writeback worker', () => {
  test('450 changed records go out in three sObject Collections calls of <= 200', async () => {
    await upsertOutbox(db, org.orgId, scores(opps, 41.5));
    await stack.enqueuer.writeback(org.orgId);
    await waitFor('all written', allDone);
    const calls = updates();
    assert.deepEqual(
      calls.map((c) => c.records).sort((a, b) => b - a),
      [200, 200, 50]
    );
    assert.ok(opps.every((id) => org.sf!.get('Opportunity', id)?.Win_Probability__c === 41.5));
    const rows = await outbox();
    assert.ok(rows.every((r) => r.status === 'done' && r.written_hash === r.payload_hash));
  });

  test('an unchanged result costs no call; back to a value already written costs none either', async () => {
    await upsertOutbox(db, org.orgId, scores(opps.slice(0, 10), 41.5)); // same payload as stored
    await stack.enqueuer.writeback(org.orgId);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(emulator.stats().apiCalls, 0);
    // A newer value, then back to what Salesforce holds before any flush: still no call.
    await upsertOutbox(db, org.orgId, scores(opps.slice(0, 10), 70));
    await upsertOutbox(db, org.orgId, scores(opps.slice(0, 10), 41.5));
    await stack.enqueuer.writeback(org.orgId);
    await waitFor('settled', allDone);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(emulator.stats().apiCalls, 0);
  });

  test('REQUEST_LIMIT_EXCEEDED pauses the org: rows wait untouched, then go out', async () => {
    emulator.setRequestLimitExceeded(true);
    await upsertOutbox(db, org.orgId, scores(opps.slice(0, 5), 55));
    await stack.enqueuer.writeback(org.orgId);
    const paused = await waitFor('the org paused', async () => {
      const rows =
        await db.sql`SELECT writeback_paused_until::text AS until FROM orgs WHERE id = ${org.orgId}`;
      return rows[0]?.until ? new Date(rows[0].until as string) : undefined;
    });
    assert.ok(paused.getTime() > Date.now());
    const waiting = await outbox('pending');
    assert.equal(waiting.length, 5);
    assert.ok(
      waiting.every((r) => r.attempts === 0),
      'a rate limit is not the rows\u2019 fault'
    );
    const limitedCalls = emulator.stats().apiCalls;
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(emulator.stats().apiCalls, limitedCalls, 'no calls while paused');
    emulator.setRequestLimitExceeded(false);
    await waitFor('written after the pause', allDone, { timeoutMs: 15_000 });
    assert.ok(
      opps.slice(0, 5).every((id) => org.sf!.get('Opportunity', id)?.Win_Probability__c === 55)
    );
  });

  test('INVALID_SESSION_ID: one re-authentication, then the write succeeds', async () => {
    emulator.expireAllSessions();
    await upsertOutbox(db, org.orgId, scores(opps.slice(0, 3), 12));
    await stack.enqueuer.writeback(org.orgId);
    await waitFor('written', allDone);
    const stats = emulator.stats();
    assert.equal(stats.tokenRequests, 1);
    assert.equal(updates().filter((c) => c.status === 200).length, 1);
    assert.equal(org.sf!.get('Opportunity', opps[0]!)?.Win_Probability__c, 12);
  });

  test('a locked record retries with backoff while the others are written', async () => {
    const [locked, ...others] = opps.slice(10, 14) as [string, ...string[]];
    org.sf!.lock(locked);
    await upsertOutbox(db, org.orgId, scores([locked, ...others], 33));
    await stack.enqueuer.writeback(org.orgId);
    await waitFor('the others written', () =>
      others.every((id) => org.sf!.get('Opportunity', id)?.Win_Probability__c === 33)
        ? true
        : undefined
    );
    // The call's answer is recorded after Salesforce applied it: wait for the failure to land.
    const row = await waitFor('the failure recorded', async () => {
      const r = (
        await db.sql`SELECT * FROM writeback_outbox WHERE org_id = ${org.orgId} AND record_key = ${locked}`
      )[0];
      return r && (r.attempts as number) >= 1 ? r : undefined;
    });
    assert.equal(row.status, 'pending');
    assert.ok((row.attempts as number) >= 1);
    assert.match(row.last_error as string, /UNABLE_TO_LOCK_ROW/);
    org.sf!.unlock(locked);
    await waitFor('the locked one written after the backoff', allDone, { timeoutMs: 15_000 });
    assert.equal(org.sf!.get('Opportunity', locked)?.Win_Probability__c, 33);
  });

  test('a record Salesforce keeps refusing is parked with the reason; the rest are not held up', async () => {
    const bad = opps[20]!;
    org.sf!.addValidationRule('Opportunity', (record) =>
      record.Id === bad && record.Win_Probability__c === 99
        ? 'Win probability is frozen for this deal'
        : null
    );
    await upsertOutbox(db, org.orgId, scores([bad, opps[21]!], 99));
    await stack.enqueuer.writeback(org.orgId);
    const parked = await waitFor('parked', async () => (await outbox('parked'))[0]);
    assert.equal(parked.record_key, bad);
    assert.match(
      parked.last_error as string,
      /FIELD_CUSTOM_VALIDATION_EXCEPTION: Win probability is frozen/
    );
    assert.equal(org.sf!.get('Opportunity', opps[21]!)?.Win_Probability__c, 99);
  });
});
