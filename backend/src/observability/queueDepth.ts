// Reads BullMQ job counts at scrape time into the di_queue_depth gauge.
import type { Queue } from 'bullmq';
import type { QueueDepthCollector } from './metrics.ts';

export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized'
] as const;

/** A collector for `setQueueDepthCollector`; a queue that cannot be read is skipped, not fatal. */
export function queueDepthCollector(queues: Record<string, Queue>): QueueDepthCollector {
  return async (gauge) => {
    gauge.reset();
    await Promise.all(
      Object.entries(queues).map(async ([name, queue]) => {
        try {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) gauge.set({ queue: name, state }, counts[state] ?? 0);
        } catch {
          // Redis unavailable: leave this queue out of the scrape rather than failing /metrics.
        }
      })
    );
  };
}
