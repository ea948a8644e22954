// What request paths (API routes, webhook route) may ask of the queues.
// Implemented over BullMQ in queue/queues.ts; request paths fail fast when Redis is down
// (the inbox / outbox rows make that safe: the sweeper enqueues them later).
export interface Enqueuer {
  /** Score one deal again (jobId makes repeats collapse). */
  rescoreDeal(orgId: string, dealId: number, reason: string): Promise<void>;
  /** Flush the org's pending Salesforce writes (batched). */
  writeback(orgId: string): Promise<void>;
  /** Process an inbox row (webhook event). jobId = inbox id. */
  inboxEvent(orgId: string, inboxId: number): Promise<void>;
  /** Process several inbox rows of one org in one Redis round trip (jobId = inbox id each). */
  inboxEvents(orgId: string, inboxIds: number[]): Promise<void>;
}
