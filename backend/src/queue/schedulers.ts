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

export const SCHEDULER_IDS = ['sweep', 'sync-all', 'rescore-all', 'retrain-all'] as const;
export type SchedulerId = (typeof SCHEDULER_IDS)[number];

export async function upsertSchedulers(
  maintenance: Queue,
  opts: Partial<ScheduleOptions> & { only?: SchedulerId[] } = {}
): Promise<void> {
  const s = { ...DEFAULT_SCHEDULES, ...opts };
  const repeat: Record<SchedulerId, { every: number } | { pattern: string; tz: string }> = {
    sweep: { every: s.sweepEveryMs },
    'sync-all': { every: s.syncEveryMs },
    'rescore-all': { pattern: s.rescoreCron, tz: 'UTC' },
    'retrain-all': { pattern: s.retrainCron, tz: 'UTC' }
  };
  for (const id of opts.only ?? SCHEDULER_IDS) {
    await maintenance.upsertJobScheduler(id, repeat[id], {
      name: id,
      data: {},
      opts: SCHEDULER_JOB_OPTIONS
    });
  }
}
