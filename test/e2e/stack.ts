// The backend as tests and benchmarks run it: the HTTP app on a random loopback port and,
// when asked, the workers, all on a unique BullMQ prefix; plus an org seeded with closed
// deals, a trained model, reps in the emulator and open Opportunities to send events about.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../backend/src/app.ts';
import type { Config } from '../../backend/src/config.ts';
import type { Database } from '../../backend/src/db/client.ts';
import { copyNewDeals, type CanonicalDeal } from '../../backend/src/db/repositories/deals.ts';
import {
  SalesforceConnections,
  type SalesforceClientOptions
} from '../../backend/src/crm/connection.ts';
import type { Enqueuer } from '../../backend/src/queue/enqueuer.ts';
import {
  closeQueues,
  createEnqueuer,
  createQueues,
  type QueueName,
  type Queues
} from '../../backend/src/queue/queues.ts';
import { createRedis } from '../../backend/src/queue/redis.ts';
import type { SweepOptions } from '../../backend/src/queue/maintenance.ts';
import { startWorkers, type WorkerSet } from '../../backend/src/queue/workers.ts';
import type { WritebackOptions } from '../../backend/src/queue/writebackWorker.ts';
import type { ScoreOptions } from '../../backend/src/queue/scoreWorker.ts';
import { generateDeals } from '../../backend/src/scoring/index.ts';
import { trainOrg } from '../../backend/src/services/training.ts';
import { canonicalFromGenerated } from '../../backend/src/services/sampleDeals.ts';
import type { SalesforceEmulator } from '../sf-emulator/emulator.ts';
import { registerTestOrg, type OpportunityState, type TestOrg } from './harness.ts';

/** Fast failure handling against the local emulator (real Salesforce needs the defaults). */
export const TEST_SF_CLIENT: SalesforceClientOptions = {
  timeoutMs: 5_000,
  tokenTimeoutMs: 5_000,
  maxRetries: 3,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
  rateLimitPauseMs: 2_000
};

export const TEST_WRITEBACK: Partial<WritebackOptions> = {
  leaseMs: 15_000,
  maxAttempts: 8,
  backoffBaseMs: 200,
  backoffMaxMs: 2_000
};

export const TEST_SCORE: Partial<ScoreOptions> = { leaseMs: 15_000, orgLockMs: 5_000 };

export const TEST_SWEEP: Partial<SweepOptions> = {
  receivedBeforeMs: 2_000,
  outboxAfterMs: 3_000
};

export interface StackOptions {
  config: Config;
  database: Database;
  /** Run workers in this process: all, some queues, or none. */
  workers: boolean | QueueName[];
  writebackDelayMs?: number;
  writeback?: Partial<WritebackOptions>;
  sweep?: Partial<SweepOptions>;
  sfClient?: SalesforceClientOptions;
  /** Listen on a real port (default) or only serve app.inject. */
  listen?: boolean;
  log?: Logger;
  concurrency?: Partial<Record<QueueName, number>>;
  /** Incremental sync window settle time (default 60 s, as in production). */
  syncSettleMs?: number;
}

export interface Stack {
  app: FastifyInstance;
  /** Base URL of the app (when listening). */
  url: string;
  enqueuer: Enqueuer;
  /** Queues on a worker connection (for inspecting and for processors). */
  queues: Queues;
  connections: SalesforceConnections;
  workers: WorkerSet | null;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const { config, database } = opts;
  const log = opts.log ?? pino({ level: 'silent' });
  const delay = opts.writebackDelayMs ?? 300;
  const producer = createRedis(config.REDIS_URL, 'producer');
  const producerQueues = createQueues(producer, config.DI_QUEUE_PREFIX);
  await Promise.all(Object.values(producerQueues).map((q) => q.waitUntilReady()));
  const enqueuer = createEnqueuer(producerQueues, { writebackDelayMs: delay });
  const app = await buildApp({
    config,
    database,
    enqueuer,
    queues: producerQueues,
    redis: producer,
    api: { underPressure: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0 } }
  });
  const url = opts.listen === false ? '' : await app.listen({ host: '127.0.0.1', port: 0 });

  const workerRedis = createRedis(config.REDIS_URL, 'worker');
  const queues = createQueues(workerRedis, config.DI_QUEUE_PREFIX);
  const connections = new SalesforceConnections({
    database,
    encryptionKey: Buffer.from(config.DI_ENCRYPTION_KEY, 'base64'),
    clientOptions: opts.sfClient ?? TEST_SF_CLIENT
  });
  let workers: WorkerSet | null = null;
  if (opts.workers !== false) {
    workers = startWorkers({
      database,
      queues,
      redisUrl: config.REDIS_URL,
      prefix: config.DI_QUEUE_PREFIX,
      log,
      connections,
      writebackDelayMs: delay,
      writeback: opts.writeback ?? TEST_WRITEBACK,
      score: TEST_SCORE,
      sweep: opts.sweep ?? TEST_SWEEP,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.syncSettleMs !== undefined ? { syncSettleMs: opts.syncSettleMs } : {}),
      ...(Array.isArray(opts.workers) ? { only: opts.workers } : {})
    });
  }
  return {
    app,
    url,
    enqueuer,
    queues,
    connections,
    workers,
    async close() {
      await app.close();
      await workers?.close();
      await closeQueues(queues);
      await closeQueues(producerQueues);
      workerRedis.disconnect();
      producer.disconnect();
    }
  };
}

export interface ScoringOrg extends TestOrg {
  /** Salesforce User Ids of the reps (their deals' owners). */
  repIds: string[];
  /** Open Opportunities in the emulator, with the fields their events carry. */
  open: OpportunityState[];
}

/**
 * An org ready to score: reps as Salesforce Users, `closed` historical deals (planted data)
 * in Postgres, a trained model, and `open` Opportunities in the emulator.
 */
export async function seedScoringOrg(
  database: Database,
  config: Config,
  emulator: SalesforceEmulator,
  opts: { closed: number; open: number; reps?: number; seed?: number }
): Promise<ScoringOrg> {
  const org = await registerTestOrg(database, config, emulator);
  const sf = org.sf!;
  const repCount = opts.reps ?? 8;
  const generated = generateDeals({
    deals: opts.closed + opts.open,
    seed: opts.seed ?? 11,
    reps: repCount,
    openFraction: opts.open / (opts.closed + opts.open)
  });
  const repIds = Array.from({ length: repCount }, (_, i) =>
    sf.insert('User', {
      Username: `rep${i + 1}@${org.orgId.toLowerCase()}.example`,
      LastName: `Rep ${i + 1}`
    })
  );
  const userOf = (rep: string) => repIds[Number(rep.replace('rep_', '')) - 1] as string;

  const closed: CanonicalDeal[] = generated.deals
    .filter((d) => d.outcome !== null)
    .map((d) => ({
      ...canonicalFromGenerated(d),
      externalId: `hist-${d.id}`,
      ownerId: userOf(d.ownerId),
      managerId: null
    }));
  await copyNewDeals(database, org.orgId, closed);
  await trainOrg(database, org.orgId);

  const openDeals = generated.deals.filter((d) => d.outcome === null);
  const oppIds = sf.insertMany(
    'Opportunity',
    openDeals.map((d, i) => ({
      Name: `Open deal ${i + 1}`,
      OwnerId: userOf(d.ownerId),
      Amount: d.amount,
      StageName: 'Prospecting',
      CloseDate: '2026-12-31'
    }))
  );
  const base = Date.UTC(2026, 10, 1);
  const open: OpportunityState[] = openDeals.map((d, i) => ({
    recordId: oppIds[i] as string,
    modstamp: new Date(base),
    ownerId: userOf(d.ownerId),
    industry: d.industry,
    amount: d.amount,
    region: d.region ?? 'India',
    productType: d.productType ?? 'Core',
    leadSource: d.leadSource ?? 'Referral',
    createdDate: d.createdDate,
    name: `Open deal ${i + 1}`
  }));
  return { ...org, repIds, open };
}
