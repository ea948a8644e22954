// Starts the BullMQ workers of this process and stops them gracefully (active jobs finish).
//   score        concurrency 8: jobs mostly wait on Postgres, so several overlap usefully
//   writeback    concurrency 4: one org's flushes never overlap (deduplicated per org)
//   maintenance  concurrency 1 and a long lock: training an org is CPU-bound for seconds and
//                would starve a short lock's renewal timer; with lockDuration 10 min a dead
//                maintenance worker's job is taken over after at most that long.
import { Worker, type Job, type Processor } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import type { SalesforceConnections } from '../crm/connection.ts';
import { jobDuration, jobFailures } from '../observability/metrics.ts';
import { maintenanceProcessor, type SweepOptions } from './maintenance.ts';
import type { QueueName, Queues } from './queues.ts';
import { createRedis } from './redis.ts';
import { scoreProcessor, type ScoreOptions } from './scoreWorker.ts';
import { writebackProcessor, type WritebackOptions } from './writebackWorker.ts';

export interface WorkerSetOptions {
  database: Database;
  /** Queues on a worker-role connection (the processors add follow-up jobs). */
  queues: Queues;
  redisUrl: string;
  prefix: string;
  log: Logger;
  connections: SalesforceConnections;
  writebackDelayMs: number;
  /** Which queues this process works on (default all). */
  only?: QueueName[];
  concurrency?: Partial<Record<QueueName, number>>;
  writeback?: Partial<WritebackOptions>;
  score?: Partial<ScoreOptions>;
  sweep?: Partial<SweepOptions>;
  syncSettleMs?: number;
  /** Scoring clock (tests, backtests); default the real clock. */
  now?: () => string | undefined;
}

export interface WorkerSet {
  workers: Worker[];
  /** Stops taking jobs, lets active ones finish, closes the connections. */
  close(): Promise<void>;
}

const DEFAULT_CONCURRENCY: Record<QueueName, number> = { score: 8, writeback: 4, maintenance: 1 };
// Locks are renewed every lockDuration/2 while a job runs; a dead worker's job is taken over
// after the lock expires and the next stalled check (every STALLED_CHECK_MS) sees it.
const LOCK_MS: Record<QueueName, number> = {
  score: 30_000,
  writeback: 30_000,
  maintenance: 600_000
};
const STALLED_CHECK_MS = 15_000;

function measured<T>(queue: QueueName, processor: Processor<T>): Processor<T> {
  return async (job: Job<T>, token?: string) => {
    const end = jobDuration.startTimer({ queue });
    try {
      const out: unknown = await processor(job, token);
      end({ outcome: 'completed' });
      return out;
    } catch (err) {
      end({ outcome: 'failed' });
      jobFailures.inc({ queue });
      throw err;
    }
  };
}

export function startWorkers(opts: WorkerSetOptions): WorkerSet {
  const { database, queues, log } = opts;
  const processors: Record<QueueName, Processor> = {
    score: scoreProcessor({
      database,
      scoreQueue: queues.score,
      writebackQueue: queues.writeback,
      writebackDelayMs: opts.writebackDelayMs,
      connections: opts.connections,
      log: log.child({ queue: 'score' }),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.score ? { options: opts.score } : {})
    }),
    writeback: writebackProcessor({
      database,
      connections: opts.connections,
      writebackQueue: queues.writeback,
      batchDelayMs: opts.writebackDelayMs,
      log: log.child({ queue: 'writeback' }),
      ...(opts.writeback ? { options: opts.writeback } : {})
    }),
    maintenance: maintenanceProcessor({
      database,
      queues,
      connections: opts.connections,
      log: log.child({ queue: 'maintenance' }),
      writebackDelayMs: opts.writebackDelayMs,
      ...(opts.sweep ? { sweep: opts.sweep } : {}),
      ...(opts.syncSettleMs !== undefined ? { syncSettleMs: opts.syncSettleMs } : {}),
      ...(opts.now ? { now: opts.now } : {})
    })
  };
  const names = opts.only ?? (['score', 'writeback', 'maintenance'] as QueueName[]);
  const workers = names.map((name) => {
    const connection = createRedis(opts.redisUrl, 'worker');
    const worker = new Worker(name, measured(name, processors[name]), {
      connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name],
      lockDuration: LOCK_MS[name],
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: 3
    });
    worker.on('failed', (job, err) => {
      log.warn(
        { queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        'job failed'
      );
    });
    worker.on('error', (err) => log.error({ queue: name, err: err.message }, 'worker error'));
    return { worker, connection };
  });
  return {
    workers: workers.map((w) => w.worker),
    async close() {
      // A worker closed while its Redis connections are still initializing emits a late
      // "Connection is closed" error that nothing listens to any more, which crashed the
      // process (a SIGTERM right after start). Let them finish first, for at most 5 s.
      await Promise.allSettled(
        workers.map((w) =>
          Promise.race([
            w.worker.waitUntilReady(),
            new Promise((resolve) => setTimeout(resolve, 5_000).unref())
          ])
        )
      );
      await Promise.allSettled(workers.map((w) => w.worker.close()));
      for (const w of workers) w.connection.disconnect();
    }
  };
}
