// The score job: applies one inbox event (or a rescore request) and queues the writeback.
//   opportunity.changed  snapshot upsert (an older SystemModstamp changes nothing) -> rescore
//                        (a new score version only when the result changed) -> outbox -> flush
//   opportunity.deleted  the deal is marked deleted (its proposed co-leads expire)
//   co_lead.decided      the decision is recorded (forward only: proposed -> approved/rejected);
//                        an approval adds the co-lead to the Opportunity team via the outbox
// Idempotent: a retried job (after a crash anywhere in it) ends in the same state, because
// each step either is a no-op when already done or rebuilds from what Postgres holds.
// CPU: scoring one deal takes well under a millisecond, so the event loop (and BullMQ's lock
// renewal timer) is never held long; the per-org scoring context is cached by the services.
import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import {
  getDealByExternalId,
  markDealDeleted,
  upsertDealSnapshot,
  type DealRecord
} from '../db/repositories/deals.ts';
import {
  countInboxAttempt,
  getInboxRow,
  markInboxDone,
  markInboxError,
  type InboxRow
} from '../db/repositories/inbox.ts';
import type { SalesforceConnections } from '../crm/connection.ts';
import { DealValidationError, toCanonicalDeal, type SourcedDeal } from '../crm/sync.ts';
import { OPPORTUNITY_SOURCE_FIELDS } from '../crm/salesforceFields.ts';
import { rescoreDeals } from '../services/rescoring.ts';
import { scoreVersionsWritten } from '../observability/metrics.ts';
import { queueTeamMember, syncOutboxForDeals } from './outboxSync.ts';
import { addWriteback, type InboxJob, type RescoreJob } from './queues.ts';

export interface ScoreDeps {
  database: Database;
  writebackQueue: Queue;
  /** How long a flush waits for more results of the org (batching). */
  writebackDelayMs: number;
  /** Fetches a record an outbound message only partly describes (optional). */
  connections?: SalesforceConnections;
  log: Logger;
  /** The scoring clock (YYYY-MM-DD or ISO); default the real clock. */
  now?: () => string | undefined;
}

/** Fields Outbound Messages cannot carry (relationship fields): taken from what we know. */
const RELATIONSHIP_FIELDS = ['Owner.ManagerId', 'Account.Industry', 'Account.BillingCountry'];

interface StoredEvent {
  id: string;
  type: string;
  recordId: string;
  systemModstamp: string;
  occurredAt?: string;
  fields?: Record<string, unknown>;
}

export type ScoreOutcome =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'stale' }
  | { outcome: 'unchanged' }
  | { outcome: 'scored'; changedScores: number; outboxRows: number }
  | { outcome: 'deleted'; changed: boolean }
  | { outcome: 'decision'; status: string; applied: boolean };

export function scoreProcessor(deps: ScoreDeps) {
  const { database, log } = deps;
  const now = () => deps.now?.();

  /** Rescore (stores a version only on change), rebuild the outbox rows, queue a flush. */
  async function rescoreAndQueue(orgId: string, dealId: number) {
    const changed = await rescoreDeals(database, orgId, [dealId], nowOption());
    if (changed.length > 0) scoreVersionsWritten.inc({ org: orgId }, changed.length);
    const sync = await syncOutboxForDeals(database, orgId, [dealId]);
    if (sync.pending) await addWriteback(deps.writebackQueue, orgId, deps.writebackDelayMs);
    return { changedScores: changed.length, outboxRows: sync.changedRows };
  }

  function nowOption(): { now?: string } {
    const n = now();
    return n === undefined ? {} : { now: n };
  }

  /** What an outbound message lacks, from the stored deal or (new deal) from Salesforce. */
  async function completeOutboundFields(
    orgId: string,
    ev: StoredEvent
  ): Promise<Record<string, unknown>> {
    const fields = { ...ev.fields, Id: ev.recordId, SystemModstamp: ev.systemModstamp };
    if (RELATIONSHIP_FIELDS.every((f) => f in fields)) return fields;
    const stored = await getDealByExternalId(database, orgId, ev.recordId);
    if (stored) return withStored(fields, stored);
    if (deps.connections) {
      try {
        const client = await deps.connections.get(orgId);
        const page = await client.query<Record<string, unknown>>(
          `SELECT ${OPPORTUNITY_SOURCE_FIELDS.join(', ')} FROM Opportunity WHERE Id = '${ev.recordId}'`
        );
        const record = page.records[0];
        // The message's own values are the ones of this event; Salesforce adds the rest.
        if (record) return { ...record, ...fields };
      } catch (err) {
        log.warn({ orgId, recordId: ev.recordId, err: (err as Error).message }, 'could not fetch the Opportunity an outbound message names');
      }
    }
    return fields; // industry stays Unknown until the next sync or webhook tells
  }

  async function opportunityChanged(row: InboxRow, ev: StoredEvent): Promise<ScoreOutcome> {
    const fields =
      row.source === 'outbound_message'
        ? await completeOutboundFields(row.orgId, ev)
        : { ...ev.fields, Id: ev.recordId, SystemModstamp: ev.systemModstamp };
    let deal: SourcedDeal;
    try {
      deal = toCanonicalDeal(fields);
    } catch (err) {
      if (err instanceof DealValidationError) throw new UnrecoverableError(err.message);
      throw err;
    }
    const up = await upsertDealSnapshot(database, row.orgId, deal);
    if (up.stale) {
      // Equal SystemModstamp: this very event was applied by an attempt that died before it
      // finished; finish the work (each step is idempotent). Older: nothing to do.
      const stored = await getDealByExternalId(database, row.orgId, deal.externalId);
      const storedAt = stored?.sourceModstamp ? new Date(stored.sourceModstamp).getTime() : NaN;
      if (storedAt !== deal.sourceModstamp.getTime()) return { outcome: 'stale' };
    } else if (!up.changed) {
      return { outcome: 'unchanged' };
    }
    return { outcome: 'scored', ...(await rescoreAndQueue(row.orgId, up.dealId)) };
  }

  async function opportunityDeleted(row: InboxRow, ev: StoredEvent): Promise<ScoreOutcome> {
    const out = await markDealDeleted(database, row.orgId, ev.recordId, new Date(ev.systemModstamp));
    return { outcome: 'deleted', changed: out.changed };
  }

  async function coLeadDecided(row: InboxRow, ev: StoredEvent): Promise<ScoreOutcome> {
    const f = ev.fields ?? {};
    const status = f.Status__c === 'Approved' ? 'approved' : 'rejected';
    const externalId = String(f.External_Id__c);
    const decidedBy = typeof f.Decided_By__c === 'string' ? f.Decided_By__c : null;
    const decidedAt = typeof f.Decided_At__c === 'string' ? f.Decided_At__c : (ev.occurredAt ?? ev.systemModstamp);
    // Forward only: a suggestion is decided once; a repeat of the same decision is a no-op
    // here but still (re)queues its effects, so a retried job completes them.
    const rows = await database.sql<{ status: string; suggested_rep_id: string; deal_external_id: string; applied: boolean }[]>`
      WITH decided AS (
        UPDATE co_lead_suggestions SET status = ${status}, decided_by = ${decidedBy},
          decided_at = ${decidedAt}::timestamptz,
          salesforce_id = COALESCE(salesforce_id, ${ev.recordId}), updated_at = now()
        WHERE org_id = ${row.orgId} AND external_id = ${externalId} AND status = 'proposed'
        RETURNING id
      )
      SELECT c.status, c.suggested_rep_id, d.external_id AS deal_external_id,
        EXISTS (SELECT 1 FROM decided) AS applied
      FROM co_lead_suggestions c JOIN deals d ON d.id = c.deal_id
      WHERE c.org_id = ${row.orgId} AND c.external_id = ${externalId}`;
    const current = rows[0];
    if (!current) {
      log.warn({ orgId: row.orgId, externalId }, 'decision on an unknown co-lead suggestion ignored');
      return { outcome: 'skipped', reason: 'unknown suggestion' };
    }
    // The UPDATE ran in the same statement: `current.status` may still show the old value.
    const applied = current.applied;
    const effective = applied ? status : current.status;
    if (effective === 'approved' && status === 'approved') {
      const pending = await queueTeamMember(
        database,
        row.orgId,
        current.deal_external_id,
        current.suggested_rep_id
      );
      if (pending) await addWriteback(deps.writebackQueue, row.orgId, deps.writebackDelayMs);
    }
    return { outcome: 'decision', status: effective, applied };
  }

  async function applyEvent(row: InboxRow): Promise<ScoreOutcome> {
    const ev = row.payload as StoredEvent;
    switch (row.type) {
      case 'opportunity.changed':
        return opportunityChanged(row, ev);
      case 'opportunity.deleted':
        return opportunityDeleted(row, ev);
      case 'co_lead.decided':
        return coLeadDecided(row, ev);
      default:
        throw new UnrecoverableError(`unknown event type ${JSON.stringify(row.type)}`);
    }
  }

  async function inbox(job: Job<InboxJob>): Promise<ScoreOutcome> {
    const { inboxId, orgId } = job.data;
    const row = await getInboxRow(database, inboxId);
    if (!row) return { outcome: 'skipped', reason: 'no such inbox row' };
    if (row.orgId !== orgId) throw new UnrecoverableError(`inbox row ${inboxId} is not of org ${orgId}`);
    if (row.status === 'done') return { outcome: 'skipped', reason: 'already done' };
    await countInboxAttempt(database, inboxId);
    try {
      const outcome = await applyEvent(row);
      await markInboxDone(database, inboxId);
      return outcome;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await markInboxError(database, inboxId, message, final).catch(() => undefined);
      throw err;
    }
  }

  async function rescore(job: Job<RescoreJob>): Promise<ScoreOutcome> {
    const { orgId, dealId } = job.data;
    return { outcome: 'scored', ...(await rescoreAndQueue(orgId, dealId)) };
  }

  return async function process(job: Job): Promise<ScoreOutcome> {
    if (job.name === 'inbox') return inbox(job as Job<InboxJob>);
    if (job.name === 'rescore') return rescore(job as Job<RescoreJob>);
    throw new UnrecoverableError(`unknown score job ${job.name}`);
  };
}

/** Relationship fields an outbound message lacks, from the stored snapshot. */
function withStored(fields: Record<string, unknown>, stored: DealRecord): Record<string, unknown> {
  const out = { ...fields };
  if (!('Account.Industry' in out)) out['Account.Industry'] = stored.industry;
  if (!('Owner.ManagerId' in out)) out['Owner.ManagerId'] = stored.managerId;
  if (!('Account.BillingCountry' in out)) out['Account.BillingCountry'] = stored.region;
  return out;
}
