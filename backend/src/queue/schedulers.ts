// Job schedulers (BullMQ upsertJobScheduler: idempotent, so every scheduler process may call
// it at start; Redis keeps one schedule per id).
import type { Queue } from 'bullmq';

export interface ScheduleOptions {
  /** Inbox / outbox sweeper period (default 30 s). */
  sweepEveryMs: number;
  /** Incremental sync period per org (default 5 minutes). */
  syncEveryMs: number;
  /** Nightly rescore (cron, UTC). */
  rescoreCron: string;
  /** Weekly retrain (cron, UTC). */
  retrainCron: string;
}

export const DEFAULT_SCHEDULES: ScheduleOptions = {
  sweepEveryMs: 30_000,
  syncEveryMs: 5 * 60_000,
  rescoreCron: '0 2 * * *',
  retrainCron: '0 3 * * 0'
};

const SCHEDULER_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 5_000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 500 }
};

export async function upsertSchedulers(
  maintenance: Queue,
  opts: Partial<ScheduleOptions> = {}
): Promise<void> {
  const s = { ...DEFAULT_SCHEDULES, ...opts };
  await maintenance.upsertJobScheduler(
    'sweep',
    { every: s.sweepEveryMs },
    { name: 'sweep', data: {}, opts: SCHEDULER_JOB_OPTIONS }
  );
  await maintenance.upsertJobScheduler(
    'sync-all',
    { every: s.syncEveryMs },
    { name: 'sync-all', data: {}, opts: SCHEDULER_JOB_OPTIONS }
  );
  await maintenance.upsertJobScheduler(
    'rescore-all',
    { pattern: s.rescoreCron, tz: 'UTC' },
    { name: 'rescore-all', data: {}, opts: SCHEDULER_JOB_OPTIONS }
  );
  await maintenance.upsertJobScheduler(
    'retrain-all',
    { pattern: s.retrainCron, tz: 'UTC' },
    { name: 'retrain-all', data: {}, opts: SCHEDULER_JOB_OPTIONS }
  );
}
