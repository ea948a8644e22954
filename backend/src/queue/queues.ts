// BullMQ queues and the Enqueuer request paths use.
//   score        inbox events ('inbox': one job per webhook request, jobId inbox-<first row id>;
//                the job processes the org's open rows in batches) and rescore requests
//   writeback    one 'flush' per org, batched: deduplicated per org while waiting
//   maintenance  job schedulers: inbox/outbox sweeper, incremental sync, nightly rescore, retrain
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Enqueuer } from './enqueuer.ts';

export const QUEUE_NAMES = ['score', 'writeback', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export type Queues = Record<QueueName, Queue>;

export interface InboxJob {
  orgId: string;
  inboxId: number;
}
export interface RescoreJob {
  orgId: string;
  dealId: number;
  reason: string;
}
export interface FlushJob {
  orgId: string;
}

/** Retries with exponential backoff (1 s, 2 s, 4 s ... ~4 min in all); history kept bounded. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 2_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 }
};

/**
 * The three queues on one connection. Connection errors (Redis restarting, a command timing
 * out) are reported to `onError` instead of crashing the process: callers fail per call.
 */
export function createQueues(
  connection: Redis,
  prefix: string,
  onError: (err: Error) => void = () => {}
): Queues {
  const make = (name: QueueName) => {
    const queue = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
      // BullMQ's version check is one INFO on connecting, and it keeps that promise: had it timed
      // out once (the producer's 1 s command timeout during a stall), every later add() of this
      // queue would reject with it until a restart. The workers' own connections still check it.
      skipVersionCheck: true
    });
    queue.on('error', onError);
    return queue;
  };
  return { score: make('score'), writeback: make('writeback'), maintenance: make('maintenance') };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()));
}

/** BullMQ refuses ":" in custom job ids, so inbox-<id> (not inbox:<id>). */
export const inboxJobId = (inboxId: number) => `inbox-${inboxId}`;

/**
 * Asks for the org's open inbox rows to be processed (no particular row): the sweeper's
 * and a long batch's follow-up. Deduplicated while one is waiting.
 */
export async function addInboxDrain(queue: Queue, orgId: string, delayMs = 0): Promise<void> {
  await queue.add('inbox', { orgId, inboxId: 0 } satisfies InboxJob, {
    delay: delayMs,
    // One waiting; if one runs, one more is kept for when it ends (so none is lost).
    deduplication: { id: `drain:${orgId}`, keepLastIfActive: true }
  });
}

export interface EnqueuerOptions {
  /** How long a writeback waits for more results of the same org before it flushes. */
  writebackDelayMs: number;
  /** Request paths give up on Redis after this long (the inbox makes that safe). */
  timeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer in ${ms} ms`)), ms);
    })
  ]).finally(() => clearTimeout(timer));
}

/** Adds a flush for the org unless one is already waiting (then this change rides along). */
export async function addWriteback(queue: Queue, orgId: string, delayMs: number): Promise<void> {
  await queue.add('flush', { orgId } satisfies FlushJob, {
    delay: delayMs,
    // One waiting flush per org; one more is kept if changes arrive while a flush runs, so
    // flushes of an org never run in parallel and no change waits for the next trigger.
    deduplication: { id: `wb:${orgId}`, keepLastIfActive: true }
  });
}

export function createEnqueuer(queues: Queues, opts: EnqueuerOptions): Enqueuer {
  const timeout = opts.timeoutMs ?? 2_000;
  return {
    async inboxEvent(orgId, inboxId) {
      await withTimeout(
        queues.score.add('inbox', { orgId, inboxId } satisfies InboxJob, {
          jobId: inboxJobId(inboxId)
        }),
        timeout,
        'enqueue inbox event'
      );
    },
    async inboxEvents(orgId, inboxIds) {
      if (inboxIds.length === 0) return;
      const first = Math.min(...inboxIds);
      await withTimeout(
        queues.score.add('inbox', { orgId, inboxId: first } satisfies InboxJob, {
          jobId: inboxJobId(first)
        }),
        timeout,
        'enqueue inbox events'
      );
    },
    async rescoreDeal(orgId, dealId, reason) {
      await withTimeout(
        queues.score.add('rescore', { orgId, dealId, reason } satisfies RescoreJob, {
          deduplication: { id: `rescore:${orgId}:${dealId}` }
        }),
        timeout,
        'enqueue rescore'
      );
    },
    async writeback(orgId) {
      await withTimeout(
        addWriteback(queues.writeback, orgId, opts.writebackDelayMs),
        timeout,
        'enqueue writeback'
      );
    }
  };
}
