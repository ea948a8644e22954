// Maintenance jobs, run through the queue by the real workers: the incremental sync from
// Salesforce (first full load), the weekly retrain with its rescore, and the sweeper putting
// back outbox rows a crash lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Job } from 'bullmq';
import { pino } from 'pino';
import type { Config } from '../../backend/src/config.ts';
import { SalesforceEmulator } from '../sf-emulator/emulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { deletePrefix } from '../support/redis.ts';
import { testConfig, waitFor } from './harness.ts';
import { seedScoringOrg, startStack, type ScoringOrg, type Stack } from './stack.ts';

let db: TestDatabase;
let emulator: SalesforceEmulator;
let config: Config;
let stack: Stack;
let org: ScoringOrg;

before(async () => {
  db = await createTestDatabase();
  emulator = await SalesforceEmulator.start();
  config = testConfig(db.url);
  org = await seedScoringOrg(db, config, emulator, { closed: 1200, open: 25, seed: 9 });
  stack = await startStack({
    config,
    database: db,
    workers: true,
    writebackDelayMs: 100,
    syncSettleMs: 1_000,
    log: pino({ level: process.env.E2E_LOG ?? 'silent' })
  });
});

after(async () => {
  await stack.close();
  await emulator.stop();
  await deletePrefix(config.DI_QUEUE_PREFIX);
  await db.drop();
});

/** Adds a maintenance job and waits for it to finish; returns its result. */
async function runJob(name: string, data: Record<string, unknown>): Promise<unknown> {
  const job = await stack.queues.maintenance.add(name, data, { attempts: 1 });
  return waitFor(
    `${name} to finish`,
    async () => {
      // The state first, then the job: a job read before it completed has no return value yet.
      const state = await stack.queues.maintenance.getJobState(job.id!);
      if (state !== 'completed' && state !== 'failed') return undefined;
      const done = await Job.fromId(stack.queues.maintenance, job.id!);
      if (state === 'failed') throw new Error(`${name} failed: ${done?.failedReason}`);
      return { value: done?.returnvalue };
    },
    { timeoutMs: 60_000, intervalMs: 100 }
  ).then((r) => r.value);
}

const written = () =>
  org.open.filter((d) => {
    const v = org.sf!.get('Opportunity', d.recordId)?.Win_Probability__c;
    return v !== null && v !== undefined;
  }).length;

describe('maintenance jobs', () => {
  test('the first incremental sync loads every Opportunity, scores it and writes the fields', async () => {
    await new Promise((r) => setTimeout(r, 1_500)); // past the sync window's settle time
    const result = (await runJob('sync', { orgId: org.orgId })) as {
      deals: number;
      watermark: string;
    };
    assert.equal(result.deals, org.open.length);
    const deals = await db.sql`
      SELECT count(*)::int AS n, count(latest_score_id)::int AS scored FROM deals
      WHERE org_id = ${org.orgId} AND external_id LIKE '006%'`;
    assert.deepEqual({ ...deals[0] }, { n: org.open.length, scored: org.open.length });
    await waitFor('fields written', () => (written() === org.open.length ? true : undefined));
    const orgRow =
      await db.sql`SELECT sync_watermark, last_sync_at FROM orgs WHERE id = ${org.orgId}`;
    assert.ok(orgRow[0]!.sync_watermark && orgRow[0]!.last_sync_at);
    // Nothing changed since: a second run stores nothing new.
    const again = (await runJob('sync', { orgId: org.orgId })) as { deals: number };
    const versions =
      await db.sql`SELECT count(*)::int AS n FROM score_versions WHERE org_id = ${org.orgId}`;
    assert.ok(again.deals <= org.open.length);
    assert.equal(versions[0]!.n, org.open.length);
  });

  test('a retrain makes a new model version and rescores: the fields name it', async () => {
    const result = (await runJob('retrain-org', { orgId: org.orgId })) as { version: number };
    assert.equal(result.version, 2);
    await waitFor(
      'every Opportunity showing model v2',
      () =>
        org.open.every((d) =>
          String(org.sf!.get('Opportunity', d.recordId)?.Model_Version__c).endsWith('-v2')
        )
          ? true
          : undefined,
      { timeoutMs: 60_000 }
    );
  });

  test('the sweeper puts back outbox rows that a crash lost, and they are written again', async () => {
    const victim = org.open[0]!.recordId;
    await db.sql`DELETE FROM writeback_outbox WHERE org_id = ${org.orgId} AND record_key = ${victim}`;
    org.sf!.update('Opportunity', victim, { Win_Probability__c: null });
    await db.sql`UPDATE score_versions SET scored_at = scored_at - interval '1 minute' WHERE org_id = ${org.orgId}`;
    const swept = (await runJob('sweep', {})) as { outboxRepaired: number };
    assert.ok(swept.outboxRepaired >= 1);
    await waitFor('the lost row written again', () =>
      org.sf!.get('Opportunity', victim)?.Win_Probability__c !== null ? true : undefined
    );
  });
});
