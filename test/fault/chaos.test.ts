// Fault test: while change events for 300 deals flow in (several changes each, shuffled so
// many arrive out of order), Redis is killed and restarted (the test's own server, AOF on),
// the worker process is SIGKILLed mid-batch and replaced, and the Salesforce emulator fails
// 5% of API calls. Afterwards every deal's final state - the latest score in Postgres and the
// fields on the Opportunity in the emulator - must equal that of a clean run of the same
// events, nothing may be lost, and Salesforce writes may exceed the changed scores only by
// idempotent retries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Config } from '../../backend/src/config.ts';
import { SalesforceEmulator } from '../sf-emulator/emulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { uniquePrefix } from '../support/redis.ts';
import {
  opportunityChanged,
  orgJwt,
  testConfig,
  waitFor,
  webhookBody,
  type OpportunityState
} from '../e2e/harness.ts';
import { seedScoringOrg, startStack, type ScoringOrg, type Stack } from '../e2e/stack.ts';
import { startOwnRedis, type OwnRedis } from './redisServer.ts';

const DEALS = Number(process.env.CHAOS_DEALS ?? 300);
const CHANGES = 3;
const BATCH = 15;
const STAGES = ['Qualification', 'Proposal', 'Negotiation'];
const SF_FIELDS = [
  'Win_Probability__c',
  'Risk_Band__c',
  'Risk_Factors__c',
  'Score_Confidence__c',
  'RSFS__c',
  'RSFS_Band__c',
  'RSFS_Sample_Size__c',
  'Win_Probability_Change_7d__c',
  'Model_Version__c'
];

let db: TestDatabase;
let emulator: SalesforceEmulator;
let redis: OwnRedis;
let config: Config;
let clean: ScoringOrg;
let chaos: ScoringOrg;
const children = new Set<ChildProcess>();

before(async () => {
  db = await createTestDatabase();
  emulator = await SalesforceEmulator.start({ seed: 7 });
  redis = await startOwnRedis();
  config = { ...testConfig(db.url), REDIS_URL: redis.url, DI_QUEUE_PREFIX: uniquePrefix('chaos') };
  // Two orgs with identical history and model: one for the clean run, one for the chaos run.
  clean = await seedScoringOrg(db, config, emulator, { closed: 1500, open: DEALS, seed: 5 });
  chaos = await seedScoringOrg(db, config, emulator, { closed: 1500, open: DEALS, seed: 5 });
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await emulator.stop();
  await redis.destroy();
  await db.drop();
});

/** Each deal's changes: amount and stage move; the last one (newest modstamp) is final. */
function changesFor(org: ScoringOrg): {
  events: ReturnType<typeof opportunityChanged>[];
  finals: Map<string, number>;
} {
  const events: ReturnType<typeof opportunityChanged>[] = [];
  const finals = new Map<string, number>();
  org.open.forEach((deal: OpportunityState, i) => {
    for (let c = 0; c < CHANGES; c++) {
      const amount = Math.round(deal.amount * (0.6 + 0.4 * c) + i);
      events.push(
        opportunityChanged({
          ...deal,
          amount,
          stage: STAGES[c % STAGES.length] as string,
          modstamp: new Date(Date.UTC(2026, 10, 22, 9, 0, 0) + c * 60_000 + i * 1000)
        })
      );
      finals.set(deal.recordId, amount);
    }
  });
  return { events, finals };
}

/** A seeded shuffle, so the order (and so the reordering) is the same every run. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s ^ (s >>> 15), 1 | s) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function post(stack: Stack, org: ScoringOrg, events: unknown[]) {
  const res = await fetch(`${stack.url}/webhooks/salesforce`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await orgJwt(org, config.DI_JWT_AUDIENCE)}`
    },
    body: webhookBody(org.orgId, events)
  });
  return {
    status: res.status,
    body: (await res.json()) as { accepted: number; duplicates: number }
  };
}

function startWorkerProcess(): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./workerProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      DI_QUEUE_PREFIX: config.DI_QUEUE_PREFIX,
      DI_JWT_SECRET: config.DI_JWT_SECRET,
      DI_ENCRYPTION_KEY: config.DI_ENCRYPTION_KEY,
      LOG_LEVEL: 'silent',
      WORKER_LOG_LEVEL: process.env.CHAOS_LOG ?? 'silent',
      WORKER_OPTIONS: JSON.stringify({ writebackDelayMs: 300, sweepEveryMs: 2_000 })
    },
    stdio: ['ignore', 'pipe', 'inherit']
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
}

async function activeJobs(stack: Stack): Promise<number> {
  return (
    (await stack.queues.score.getActiveCount()) + (await stack.queues.writeback.getActiveCount())
  );
}

/** Scores and fields of every deal of an org, by deal index. */
async function finalState(org: ScoringOrg) {
  const rows = await db.sql`
    SELECT d.external_id, d.amount, s.probability, s.risk_band, s.confidence, s.rsfs, s.rsfs_band
    FROM deals d JOIN score_versions s ON s.id = d.latest_score_id
    WHERE d.org_id = ${org.orgId} AND d.external_id LIKE '006%'`;
  const byId = new Map(rows.map((r) => [r.external_id as string, r]));
  return org.open.map((deal) => {
    const r = byId.get(deal.recordId);
    const sf = org.sf!.get('Opportunity', deal.recordId) ?? {};
    // Factor labels name reps by their (org-specific) User Ids: compare them by rep number.
    const neutral = (v: unknown) =>
      typeof v === 'string'
        ? org.repIds.reduce((s, id, k) => s.split(id).join(`rep#${k}`), v)
        : (v ?? null);
    return {
      postgres: r
        ? {
            amount: r.amount,
            probability: r.probability,
            risk: r.risk_band,
            confidence: r.confidence,
            rsfs: r.rsfs,
            rsfsBand: r.rsfs_band
          }
        : null,
      salesforce: Object.fromEntries(SF_FIELDS.map((f) => [f, neutral(sf[f])]))
    };
  });
}

const progress = (msg: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
let lastReport = 0;

async function settled(org: ScoringOrg, events: number): Promise<true | undefined> {
  const inbox = await db.sql`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'done')::int AS done
    FROM webhook_inbox WHERE org_id = ${org.orgId}`;
  const outbox = await db.sql`
    SELECT count(*) FILTER (WHERE status <> 'done')::int AS open FROM writeback_outbox WHERE org_id = ${org.orgId}`;
  if (Date.now() - lastReport > 5_000) {
    lastReport = Date.now();
    progress(
      `inbox ${inbox[0]!.done}/${inbox[0]!.n} done of ${events}; outbox rows not done: ${outbox[0]!.open}`
    );
  }
  if (inbox[0]!.n !== events || inbox[0]!.done !== events) return undefined;
  if (outbox[0]!.open !== 0) return undefined;
  const missing = await db.sql`
    SELECT count(*)::int AS n FROM deals d
    LEFT JOIN writeback_outbox o ON o.org_id = d.org_id AND o.object_type = 'Opportunity' AND o.record_key = d.external_id
    WHERE d.org_id = ${org.orgId} AND d.external_id LIKE '006%' AND (o.id IS NULL OR o.source_seq < d.latest_score_id)`;
  return missing[0]!.n === 0 ? true : undefined;
}

/** Opportunity records successfully written per org (faulted calls change nothing). */
function recordsWritten(orgId: string): number {
  return emulator.calls
    .filter(
      (c) =>
        c.endpoint === 'collections:update' && c.orgId === orgId && c.status === 200 && !c.fault
    )
    .reduce((n, c) => n + c.records, 0);
}

test(
  'Redis restart, a killed worker and 5% Salesforce failures lose nothing and change nothing',
  { timeout: 600_000 },
  async () => {
    // --- clean run: the same kind of events, in order, no faults ---
    const cleanEvents = changesFor(clean);
    progress(`clean run: ${cleanEvents.events.length} events`);
    {
      const stack = await startStack({
        config,
        database: db,
        workers: true,
        writebackDelayMs: 300,
        log: pino({ level: process.env.CHAOS_LOG ?? 'silent' })
      });
      try {
        for (let i = 0; i < cleanEvents.events.length; i += BATCH) {
          const res = await post(stack, clean, cleanEvents.events.slice(i, i + BATCH));
          assert.equal(res.status, 202);
        }
        await waitFor('the clean run to settle', () => settled(clean, cleanEvents.events.length), {
          timeoutMs: 240_000,
          intervalMs: 500
        });
      } finally {
        await stack.close();
      }
    }
    const expected = await finalState(clean);
    assert.ok(
      expected.every((e) => e.postgres && e.salesforce.Win_Probability__c !== null),
      'clean run scored and wrote every deal'
    );

    progress('clean run settled');
    // --- chaos run ---
    const chaosEvents = changesFor(chaos);
    const order = shuffled(chaosEvents.events, 42);
    const stack = await startStack({ config, database: db, workers: false, writebackDelayMs: 300 });
    emulator.setFailRate(0.05, 99);
    let worker = await startWorkerProcess();
    let sent = 0;
    let accepted = 0;
    let duplicates = 0;
    let killedWorkerWithActiveJobs = false;
    let acceptedWhileRedisDown = 0;
    try {
      const batches: unknown[][] = [];
      for (let i = 0; i < order.length; i += BATCH) batches.push(order.slice(i, i + BATCH));
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b]!;
        // Resend every 7th batch: at-least-once delivery from the sender.
        const times = b % 7 === 3 ? 2 : 1;
        for (let t = 0; t < times; t++) {
          const res = await post(stack, chaos, batch);
          assert.equal(res.status, 202, JSON.stringify(res.body));
          sent += batch.length;
          accepted += res.body.accepted;
          duplicates += res.body.duplicates;
        }
        if (b === Math.floor(batches.length / 4)) {
          // Kill the worker while it has jobs in hand.
          await waitFor(
            'the worker busy',
            async () => ((await activeJobs(stack)) > 0 ? true : undefined),
            { timeoutMs: 10_000, intervalMs: 5 }
          ).catch(() => undefined);
          killedWorkerWithActiveJobs = (await activeJobs(stack)) > 0;
          worker.kill('SIGKILL');
          progress(`worker killed (active jobs: ${killedWorkerWithActiveJobs})`);
          worker = await startWorkerProcess();
          progress('new worker ready');
        }
        if (b === Math.floor(batches.length / 2)) {
          await redis.kill();
          progress('redis killed');
          // Events keep coming while Redis is down: stored, acknowledged, enqueued later.
          for (let k = 0; k < 2 && b + 1 < batches.length; k++) {
            const next = batches[++b]!;
            const res = await post(stack, chaos, next);
            assert.equal(res.status, 202, 'accepted while Redis is down');
            sent += next.length;
            accepted += res.body.accepted;
            acceptedWhileRedisDown += res.body.accepted;
            duplicates += res.body.duplicates;
          }
          await new Promise((r) => setTimeout(r, 1_500));
          await redis.start();
          progress('redis restarted');
        }
        await new Promise((r) => setTimeout(r, 40));
      }
      assert.equal(accepted + duplicates, sent);
      assert.equal(accepted, chaosEvents.events.length, 'every distinct event stored once');
      assert.ok(acceptedWhileRedisDown > 0);

      progress(`all ${sent} events sent`);
      await waitFor('the chaos run to settle', () => settled(chaos, chaosEvents.events.length), {
        timeoutMs: 300_000,
        intervalMs: 500
      });
    } finally {
      emulator.setFailRate(0);
      worker.kill('SIGTERM');
      await stack.close();
    }

    const actual = await finalState(chaos);
    const rows =
      await db.sql`SELECT external_id, amount FROM deals WHERE org_id = ${chaos.orgId} AND external_id LIKE '006%'`;
    const amounts = new Map(rows.map((r) => [r.external_id as string, r.amount as number]));
    for (let i = 0; i < DEALS; i++) {
      const deal = chaos.open[i]!;
      assert.equal(
        amounts.get(deal.recordId),
        chaosEvents.finals.get(deal.recordId),
        `deal ${i}: the newest change wins`
      );
      assert.deepEqual(
        actual[i]!.postgres,
        expected[i]!.postgres,
        `deal ${i}: latest score equals the clean run's`
      );
      assert.deepEqual(
        actual[i]!.salesforce,
        expected[i]!.salesforce,
        `deal ${i}: Salesforce fields equal the clean run's`
      );
    }

    // Writes: at most one per changed score version, plus re-sent batches whose answer was lost
    // (the killed worker) - idempotent retries of the same values.
    const versions = await db.sql`
    SELECT count(*)::int AS n FROM score_versions s JOIN deals d ON d.id = s.deal_id
    WHERE d.org_id = ${chaos.orgId} AND d.external_id LIKE '006%'`;
    const written = recordsWritten(chaos.orgId);
    const cleanWritten = recordsWritten(clean.orgId);
    const cleanVersions = await db.sql`
    SELECT count(*)::int AS n FROM score_versions s JOIN deals d ON d.id = s.deal_id
    WHERE d.org_id = ${clean.orgId} AND d.external_id LIKE '006%'`;
    console.log(
      `chaos: ${chaosEvents.events.length} events (${sent} sent), ${versions[0]!.n} score versions, ` +
        `${written} Opportunity records written; clean: ${cleanVersions[0]!.n} versions, ${cleanWritten} written; ` +
        `worker killed with active jobs: ${killedWorkerWithActiveJobs}; accepted while Redis down: ${acceptedWhileRedisDown}`
    );
    assert.ok(written >= DEALS, 'every deal written at least once');
    assert.ok(
      written <= versions[0]!.n + 200,
      `writes (${written}) exceed score versions (${versions[0]!.n}) by more than one re-sent batch`
    );
    const parked =
      await db.sql`SELECT count(*)::int AS n FROM writeback_outbox WHERE org_id = ${chaos.orgId} AND status = 'parked'`;
    assert.equal(parked[0]!.n, 0);
  }
);
