// What request paths (API routes, webhook route) may ask of the queues.
// Implemented over BullMQ in queue/queues.ts; request paths fail fast when Redis is down
// (the inbox / outbox rows make that safe: the sweeper enqueues them later).
export interface Enqueuer {
  /** Score one deal again (jobId makes repeats collapse). */
  rescoreDeal(orgId: string, dealId: number, reason: string): Promise<void>;
  /** Flush the org's pending Salesforce writes (batched). */
  writeback(orgId: string): Promise<void>;
  /** Process an inbox row (webhook event). jobId = inbox-<id>. */
  inboxEvent(orgId: string, inboxId: number): Promise<void>;
  /**
   * Process the inbox rows one request stored (ids ascending). One job for the batch
   * (jobId = inbox-<first id>): the score job claims the org's open rows in batches, so one
   * job per row would only add Redis work (measured: ~0.5 ms of Redis time per job).
   */
  inboxEvents(orgId: string, inboxIds: number[]): Promise<void>;
}
