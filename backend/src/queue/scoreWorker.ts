// The score job: applies inbox events (or a rescore request) and queues the writeback.
// A job claims its own event and, when more of the org's events wait, up to `batchSize` of
// them (leased, FOR UPDATE SKIP LOCKED): one rescore and one outbox sync serve the batch, so
// throughput grows with the backlog. Jobs whose events another job took finish at once.
//   opportunity.changed  snapshot upsert (an older SystemModstamp changes nothing) -> rescore
//                        (a new score version only when the result changed) -> outbox -> flush
//   opportunity.deleted  the deal is marked deleted (its proposed co-leads expire)
//   co_lead.decided      the decision is recorded (forward only: proposed -> approved/rejected);
//                        an approval adds the co-lead to the Opportunity team via the outbox
// Idempotent: a retried job (after a crash anywhere in it) ends in the same state, because
// each step either is a no-op when already done or rebuilds from what Postgres holds.
// CPU: scoring one deal takes well under a millisecond, so the event loop (and BullMQ's lock
// renewal timer) is never held long; the per-org scoring context is cached by the services.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
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
  claimInboxBatch,
  hasOpenInbox,
  markInboxBatchDone,
  releaseInboxRows,
  type InboxRow
} from '../db/repositories/inbox.ts';
import type { SalesforceConnections } from '../crm/connection.ts';
import { DealValidationError, toCanonicalDeal, type SourcedDeal } from '../crm/sync.ts';
import { OPPORTUNITY_SOURCE_FIELDS } from '../crm/salesforceFields.ts';
import { rescoreDeals } from '../services/rescoring.ts';
import { scoreVersionsWritten } from '../observability/metrics.ts';
import { queueTeamMember, syncOutboxForDeals } from './outboxSync.ts';
import { addInboxDrain, addWriteback, type InboxJob, type RescoreJob } from './queues.ts';

export interface ScoreOptions {
  /** Most inbox rows one job processes together (one rescore, one outbox sync). */
  batchSize: number;
  /** How long a job holds the rows it claimed. */
  leaseMs: number;
  /** Claims of a row before it is failed for good (an operator looks at it then). */
  maxAttempts: number;
  /** Batches one job processes before a follow-up job takes over. */
  maxRounds: number;
  /**
   * The per-org lock lasts this long unless renewed (between batches). Short, so a dead
   * job stalls its org briefly; a batch outliving it costs only contention, not errors
   * (its rows stay leased).
   */
  orgLockMs: number;
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = {
  batchSize: 250,
  leaseMs: 60_000,
  maxAttempts: 8,
  maxRounds: 20,
  orgLockMs: 10_000
};

export interface ScoreDeps {
  database: Database;
  /** For follow-up jobs when a backlog outlasts one job. */
  scoreQueue: Queue;
  writebackQueue: Queue;
  /** How long a flush waits for more results of the org (batching). */
  writebackDelayMs: number;
  /** Fetches a record an outbound message only partly describes (optional). */
  connections?: SalesforceConnections;
  log: Logger;
  /** The scoring clock (YYYY-MM-DD or ISO); default the real clock. */
  now?: () => string | undefined;
  options?: Partial<ScoreOptions>;
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

export interface BatchOutcome {
  /** Inbox rows processed and marked done. */
  done: number;
  /** Rows that cannot be processed (bad data): failed for good, with the reason. */
  invalid: number;
  /** Rows that failed this time and will be tried again. */
  retry: number;
  changedScores: number;
  outboxRows: number;
}

export type ScoreOutcome =
  | { outcome: 'skipped'; reason: string }
  | ({ outcome: 'batch'; rows: number } & BatchOutcome)
  | { outcome: 'scored'; changedScores: number; outboxRows: number };

const UNIQUE_VIOLATION = '23505';
/** A job that finds its org busy comes back this much later (as a deduplicated follow-up). */
const BUSY_RETRY_MS = 20;
/** Deletes the lock only if this job still holds it. */
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
class InvalidEvent extends Error {}

export function scoreProcessor(deps: ScoreDeps) {
  const { database, log } = deps;
  const opts = { ...DEFAULT_SCORE_OPTIONS, ...deps.options };

  function nowOption(): { now?: string } {
    const n = deps.now?.();
    return n === undefined ? {} : { now: n };
  }

  /**
   * Rescores (a version is stored only on change). Two jobs rescoring one deal at the same
   * moment can collide on the version number; the loser simply tries again.
   */
  async function rescore(orgId: string, dealIds: number[]) {
    for (let attempt = 1; ; attempt++) {
      try {
        const changed = await rescoreDeals(database, orgId, dealIds, nowOption());
        if (changed.length > 0) scoreVersionsWritten.inc({ org: orgId }, changed.length);
        return changed;
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * attempt));
      }
    }
  }

  /** Rescore, rebuild the outbox rows from what is stored, queue a flush if anything waits. */
  async function rescoreAndQueue(orgId: string, dealIds: number[]) {
    if (dealIds.length === 0) return { changedScores: 0, outboxRows: 0, pending: false };
    const changed = await rescore(orgId, dealIds);
    const sync = await syncOutboxForDeals(database, orgId, dealIds);
    return { changedScores: changed.length, outboxRows: sync.changedRows, pending: sync.pending };
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
        log.warn(
          { orgId, recordId: ev.recordId, err: (err as Error).message },
          'could not fetch the Opportunity an outbound message names'
        );
      }
    }
    return fields; // industry stays Unknown until the next sync or webhook tells
  }

  /** The canonical deal an event describes (outside any transaction: it may call Salesforce). */
  async function dealOf(row: InboxRow, ev: StoredEvent): Promise<SourcedDeal> {
    const fields =
      row.source === 'outbound_message'
        ? await completeOutboundFields(row.orgId, ev)
        : { ...ev.fields, Id: ev.recordId, SystemModstamp: ev.systemModstamp };
    try {
      return toCanonicalDeal(fields);
    } catch (err) {
      if (err instanceof DealValidationError) throw new InvalidEvent(err.message);
      throw err;
    }
  }

  /**
   * Applies the snapshots of a batch in one transaction: one durable commit for the batch
   * instead of one per event, the statements pipelined on one connection. They run in
   * (record, modstamp) order, so two batches lock shared deals in the same order (no
   * deadlock). Returns the deals to rescore.
   */
  async function applySnapshots(orgId: string, deals: SourcedDeal[]): Promise<number[]> {
    if (deals.length === 0) return [];
    const ordered = [...deals].sort(
      (a, b) =>
        (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0) ||
        a.sourceModstamp.getTime() - b.sourceModstamp.getTime()
    );
    return database.sql.begin(async (tx) => {
      const results = await Promise.all(
        ordered.map((deal) => upsertDealSnapshot({ sql: tx }, orgId, deal))
      );
      const toRescore: number[] = [];
      for (let i = 0; i < ordered.length; i++) {
        const deal = ordered[i] as SourcedDeal;
        const up = results[i] as Awaited<ReturnType<typeof upsertDealSnapshot>>;
        if (!up.stale) {
          if (up.changed) toRescore.push(up.dealId);
          continue;
        }
        // Equal SystemModstamp: this very event was applied by an attempt that died before
        // it finished; finish the work (each step is idempotent). Older: nothing to do.
        const stored = await getDealByExternalId({ sql: tx }, orgId, deal.externalId);
        const storedAt = stored?.sourceModstamp ? new Date(stored.sourceModstamp).getTime() : NaN;
        if (storedAt === deal.sourceModstamp.getTime()) toRescore.push(up.dealId);
      }
      return toRescore;
    });
  }

  /**
   * Records a co-lead decision, forward only (proposed -> approved / rejected). A repeat of
   * the same decision changes nothing but still (re)queues its effect, so a retry completes
   * it. Returns whether a write waits in the outbox.
   */
  async function coLeadDecided(row: InboxRow, ev: StoredEvent): Promise<boolean> {
    const f = ev.fields ?? {};
    const status = f.Status__c === 'Approved' ? 'approved' : 'rejected';
    const externalId = String(f.External_Id__c);
    const decidedBy = typeof f.Decided_By__c === 'string' ? f.Decided_By__c : null;
    const decidedAt =
      typeof f.Decided_At__c === 'string' ? f.Decided_At__c : (ev.occurredAt ?? ev.systemModstamp);
    const rows = await database.sql<
      { status: string; suggested_rep_id: string; deal_external_id: string; applied: boolean }[]
    >`
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
      log.warn(
        { orgId: row.orgId, externalId },
        'decision on an unknown co-lead suggestion ignored'
      );
      return false;
    }
    // The UPDATE ran in the same statement: `current.status` shows the value before it.
    const effective = current.applied ? status : current.status;
    if (effective !== 'approved' || status !== 'approved') return false;
    return queueTeamMember(database, row.orgId, current.deal_external_id, current.suggested_rep_id);
  }

  /** Applies a batch of one org's events; throws if any step fails (nothing is marked done). */
  async function applyBatch(orgId: string, rows: InboxRow[]): Promise<BatchOutcome> {
    const toRescore = new Set<number>();
    const done: number[] = [];
    const invalid: { id: number; error: string; final: boolean }[] = [];
    let flush = false;
    const deals: SourcedDeal[] = [];
    const changeRows: number[] = [];
    for (const row of rows) {
      const ev = row.payload as StoredEvent;
      try {
        switch (row.type) {
          case 'opportunity.changed':
            deals.push(await dealOf(row, ev));
            changeRows.push(row.id);
            continue; // applied together below
          case 'opportunity.deleted':
            await markDealDeleted(database, orgId, ev.recordId, new Date(ev.systemModstamp));
            break;
          case 'co_lead.decided':
            if (await coLeadDecided(row, ev)) flush = true;
            break;
          default:
            throw new InvalidEvent(`unknown event type ${JSON.stringify(row.type)}`);
        }
        done.push(row.id);
      } catch (err) {
        if (!(err instanceof InvalidEvent)) throw err;
        invalid.push({ id: row.id, error: err.message, final: true });
      }
    }
    for (const dealId of await applySnapshots(orgId, deals)) toRescore.add(dealId);
    done.push(...changeRows);
    const scored = await rescoreAndQueue(orgId, [...toRescore]);
    if (flush || scored.pending) {
      await addWriteback(deps.writebackQueue, orgId, deps.writebackDelayMs);
    }
    await markInboxBatchDone(database, done);
    await releaseInboxRows(database, invalid, opts.maxAttempts);
    if (invalid.length > 0) {
      log.warn({ orgId, invalid }, 'inbox events that cannot be processed were failed');
    }
    return {
      done: done.length,
      invalid: invalid.length,
      retry: 0,
      changedScores: scored.changedScores,
      outboxRows: scored.outboxRows
    };
  }

  /** A batch, or, when the batch fails, each row on its own so one bad row holds none back. */
  async function processRows(
    orgId: string,
    rows: InboxRow[]
  ): Promise<BatchOutcome & { failedIds: number[] }> {
    try {
      return { ...(await applyBatch(orgId, rows)), failedIds: [] };
    } catch (err) {
      if (rows.length === 1) {
        const row = rows[0] as InboxRow;
        const message = err instanceof Error ? err.message : String(err);
        await releaseInboxRows(
          database,
          [{ id: row.id, error: message, final: false }],
          opts.maxAttempts
        ).catch(() => undefined);
        log.warn(
          { orgId, inboxId: row.id, err: message },
          'inbox event failed; it will be retried'
        );
        return {
          done: 0,
          invalid: 0,
          retry: 1,
          changedScores: 0,
          outboxRows: 0,
          failedIds: [row.id]
        };
      }
      const total = {
        done: 0,
        invalid: 0,
        retry: 0,
        changedScores: 0,
        outboxRows: 0,
        failedIds: [] as number[]
      };
      for (const row of rows) {
        const one = await processRows(orgId, [row]);
        total.done += one.done;
        total.invalid += one.invalid;
        total.retry += one.retry;
        total.changedScores += one.changedScores;
        total.outboxRows += one.outboxRows;
        total.failedIds.push(...one.failedIds);
      }
      return total;
    }
  }

  /**
   * One job at a time works on an org's inbox (a Redis lock per org): concurrent batches of
   * one org only fight over the same deal and co-lead rows (measured: at 300 events/s,
   * eight concurrent jobs took 1.5 s per event where one took 50 ms). Other orgs proceed in
   * parallel. A job that finds the org busy leaves a follow-up job and ends; the holder
   * processes every open row, and when it lets go, leaves a follow-up if rows came in late.
   */
  async function withOrgLock<T>(orgId: string, work: (renew: () => Promise<void>) => Promise<T>) {
    // BullMQ's client is the ioredis connection the queue was built with.
    const redis = (await deps.scoreQueue.client) as unknown as Redis;
    const key = `${deps.scoreQueue.opts.prefix ?? 'bull'}:inbox-lock:${orgId}`;
    const token = randomUUID();
    const got = await redis.set(key, token, 'PX', opts.orgLockMs, 'NX');
    if (got !== 'OK') return { locked: false as const };
    try {
      const value = await work(async () => {
        await redis.pexpire(key, opts.orgLockMs);
      });
      return { locked: true as const, value };
    } finally {
      await redis.eval(RELEASE_LOCK, 1, key, token).catch(() => undefined);
    }
  }

  /**
   * Claims and processes the org's open rows, batch after batch, starting with the job's own
   * row (inboxId 0: any open rows). After `maxRounds` full batches a follow-up job takes over,
   * so one org's backlog never holds a worker slot for long.
   */
  async function inbox(job: Job<InboxJob>): Promise<ScoreOutcome> {
    const { inboxId, orgId } = job.data;
    const run = await withOrgLock(orgId, (renew) => drain(orgId, inboxId, renew));
    if (!run.locked) {
      await addInboxDrain(deps.scoreQueue, orgId, BUSY_RETRY_MS);
      return { outcome: 'skipped', reason: 'another job is processing this org' };
    }
    // Rows that arrived while the lock was held, whose jobs found the org busy, are covered
    // by their follow-ups; this catches any that slipped between the last claim and release.
    if (await hasOpenInbox(database, orgId)) await addInboxDrain(deps.scoreQueue, orgId);
    const { total, ownFailed } = run.value;
    if (ownFailed) {
      // This job's own event failed: let BullMQ retry it with backoff.
      throw new Error(`inbox event ${inboxId} failed; see webhook_inbox.last_error`);
    }
    if (total.rows === 0) return { outcome: 'skipped', reason: 'done, or held by another job' };
    return { outcome: 'batch', ...total };
  }

  async function drain(orgId: string, inboxId: number, renew: () => Promise<void>) {
    const total = { rows: 0, done: 0, invalid: 0, retry: 0, changedScores: 0, outboxRows: 0 };
    let ownFailed = false;
    let first = inboxId;
    for (let round = 0; ; round++) {
      if (round === opts.maxRounds) {
        await addInboxDrain(deps.scoreQueue, orgId);
        break;
      }
      if (round > 0) await renew();
      const rows = await claimInboxBatch(database, orgId, {
        first,
        limit: opts.batchSize,
        leaseMs: opts.leaseMs
      });
      if (rows.length === 0) break;
      const started = performance.now();
      const out = await processRows(orgId, rows);
      log.debug(
        { orgId, rows: rows.length, ms: Math.round(performance.now() - started) },
        'inbox batch'
      );
      if (inboxId > 0 && out.failedIds.includes(inboxId)) ownFailed = true;
      total.rows += rows.length;
      total.done += out.done;
      total.invalid += out.invalid;
      total.retry += out.retry;
      total.changedScores += out.changedScores;
      total.outboxRows += out.outboxRows;
      first = 0;
      if (rows.length < opts.batchSize) break;
    }
    return { total, ownFailed };
  }

  async function rescoreJob(job: Job<RescoreJob>): Promise<ScoreOutcome> {
    const { orgId, dealId } = job.data;
    const out = await rescoreAndQueue(orgId, [dealId]);
    if (out.pending) await addWriteback(deps.writebackQueue, orgId, deps.writebackDelayMs);
    return { outcome: 'scored', changedScores: out.changedScores, outboxRows: out.outboxRows };
  }

  return async function process(job: Job): Promise<ScoreOutcome> {
    if (job.name === 'inbox') return inbox(job as Job<InboxJob>);
    if (job.name === 'rescore') return rescoreJob(job as Job<RescoreJob>);
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
