// The writeback job: flushes one org's pending outbox rows to Salesforce.
//   claim (lease) up to 200 rows per object type -> rows whose payload was already written are
//   settled without a call -> one sObject Collections call per type (crm/writeback.ts) ->
//   written rows done; per-record failures back off, then park with the reason.
// REQUEST_LIMIT_EXCEEDED pauses the org (orgs.writeback_paused_until) and hands the rows back
// untouched; INVALID_SESSION_ID is handled inside the connection (re-auth once).
// Flushes of one org never overlap (the queue deduplicates them per org); the lease guards
// the rare case where a stalled job is re-run while the first run still works.
import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import {
  claimPending,
  countDuePending,
  markFailed,
  markUnchanged,
  markWritten,
  msUntilNextFlush,
  releaseClaims,
  type OutboxObject,
  type OutboxRow
} from '../db/repositories/outbox.ts';
import { recordOrgError, setWritebackPausedUntil } from '../db/repositories/orgs.ts';
import {
  OrgNotConnectedError,
  SalesforceRateLimitError,
  type SalesforceConnections
} from '../crm/connection.ts';
import { writeback, type PendingWrite } from '../crm/writeback.ts';
import { addWriteback, type FlushJob } from './queues.ts';

const OBJECT_TYPES: OutboxObject[] = [
  'Opportunity',
  'Co_Lead_Suggestion__c',
  'OpportunityTeamMember'
];
const BATCH = 200;

export interface WritebackOptions {
  /** How long a claim holds rows (longer than one Salesforce call with its retries). */
  leaseMs: number;
  /** Attempts of a failing record before it is parked. */
  maxAttempts: number;
  /** Backoff of a failing record: min(maxMs, baseMs * 2^(attempt-1)). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** At most this many rounds of claims per job; then the job hands over to a new one. */
  maxRounds: number;
}

export const DEFAULT_WRITEBACK_OPTIONS: WritebackOptions = {
  leaseMs: 120_000,
  maxAttempts: 6,
  backoffBaseMs: 5_000,
  backoffMaxMs: 600_000,
  maxRounds: 25
};

export interface WritebackDeps {
  database: Database;
  connections: SalesforceConnections;
  writebackQueue: Queue;
  log: Logger;
  options?: Partial<WritebackOptions>;
  /** The batching delay of flushes (rows that are due now wait this long for company). */
  batchDelayMs?: number;
}

export interface FlushResult {
  written: number;
  unchanged: number;
  failed: number;
  parked: number;
  calls: number;
  paused?: boolean;
}

async function orgPausedUntil(database: Database, orgId: string): Promise<Date | null> {
  const rows = await database.sql<{ until: string | null }[]>`
    SELECT writeback_paused_until::text AS until FROM orgs
    WHERE id = ${orgId} AND writeback_paused_until > now()`;
  const until = rows[0]?.until;
  return until ? new Date(until) : null;
}

async function rememberSalesforceIds(
  database: Database,
  orgId: string,
  rows: { objectType: OutboxObject; recordKey: string; salesforceId: string }[]
): Promise<void> {
  const coLeads = rows.filter((r) => r.objectType === 'Co_Lead_Suggestion__c');
  if (coLeads.length > 0) {
    await database.sql`
      UPDATE co_lead_suggestions c SET salesforce_id = u.sf_id
      FROM unnest(${coLeads.map((r) => r.recordKey)}::text[], ${coLeads.map((r) => r.salesforceId)}::text[])
        AS u(ext, sf_id)
      WHERE c.org_id = ${orgId} AND c.external_id = u.ext
        AND c.salesforce_id IS DISTINCT FROM u.sf_id`;
  }
}

export function writebackProcessor(deps: WritebackDeps) {
  const opts = { ...DEFAULT_WRITEBACK_OPTIONS, ...deps.options };
  const { database, connections, log } = deps;

  return async function flush(job: Job<FlushJob>): Promise<FlushResult> {
    const { orgId } = job.data;
    const total: FlushResult = { written: 0, unchanged: 0, failed: 0, parked: 0, calls: 0 };

    const paused = await orgPausedUntil(database, orgId);
    if (paused) {
      await addWriteback(deps.writebackQueue, orgId, paused.getTime() - Date.now() + 50);
      return { ...total, paused: true };
    }

    for (let round = 0; round < opts.maxRounds; round++) {
      const claimed: OutboxRow[] = [];
      let full = false;
      for (const type of OBJECT_TYPES) {
        const rows = await claimPending(database, orgId, type, {
          limit: BATCH,
          leaseMs: opts.leaseMs
        });
        if (rows.length === BATCH) full = true;
        claimed.push(...rows);
      }
      if (claimed.length === 0) break;

      // What Salesforce already holds costs no call.
      const same = claimed.filter((r) => r.writtenHash !== null && r.payloadHash === r.writtenHash);
      await markUnchanged(
        database,
        same.map((r) => r.id)
      );
      total.unchanged += same.length;
      const toSend = claimed.filter((r) => !same.includes(r));
      if (toSend.length === 0) {
        if (!full) break;
        continue;
      }

      let client;
      try {
        client = await connections.get(orgId);
      } catch (err) {
        await releaseClaims(
          database,
          toSend.map((r) => r.id)
        );
        if (err instanceof OrgNotConnectedError) {
          // Nothing to retry until an admin registers credentials: the rows wait, pending.
          await recordOrgError(database, orgId, err.message).catch(() => undefined);
          log.warn({ orgId, err: err.message }, 'writeback skipped: org not connected');
          return total;
        }
        throw err;
      }

      const writes: PendingWrite[] = toSend.map((r) => ({
        objectType: r.objectType,
        recordKey: r.recordKey,
        fields: r.payload
      }));
      const result = await writeback(client, writes);
      total.calls += result.calls;

      const ok: { id: number; payloadHash: string }[] = [];
      const failures: { id: number; payloadHash: string; error: string; retryable: boolean }[] = [];
      const sfIds: { objectType: OutboxObject; recordKey: string; salesforceId: string }[] = [];
      const rateLimited = result.stoppedBy instanceof SalesforceRateLimitError;
      const handBack: number[] = [];
      result.outcomes.forEach((o, i) => {
        const row = toSend[i] as OutboxRow;
        if (o.ok) {
          ok.push({ id: row.id, payloadHash: row.payloadHash });
          if (o.salesforceId) {
            sfIds.push({
              objectType: row.objectType,
              recordKey: row.recordKey,
              salesforceId: o.salesforceId
            });
          }
        } else if (rateLimited && o.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
          handBack.push(row.id); // not the row's fault: no attempt counted
        } else {
          failures.push({
            id: row.id,
            payloadHash: row.payloadHash,
            error: o.message ?? o.errorCode ?? 'unknown error',
            retryable: o.retryable
          });
        }
      });
      await markWritten(database, ok);
      await rememberSalesforceIds(database, orgId, sfIds);
      const { parked } = await markFailed(database, failures, {
        maxAttempts: opts.maxAttempts,
        baseMs: opts.backoffBaseMs,
        maxMs: opts.backoffMaxMs
      });
      await releaseClaims(database, handBack);
      total.written += ok.length;
      total.failed += failures.length;
      total.parked += parked;
      if (parked > 0) {
        log.warn({ orgId, parked }, 'writeback parked records after repeated failures');
      }

      if (rateLimited) {
        const err = result.stoppedBy as SalesforceRateLimitError;
        const until = new Date(Date.now() + err.retryAfterMs);
        await setWritebackPausedUntil(database, orgId, until);
        await recordOrgError(database, orgId, err.message).catch(() => undefined);
        await addWriteback(deps.writebackQueue, orgId, err.retryAfterMs + 50);
        log.warn({ orgId, until }, 'Salesforce API limit reached: writes paused for this org');
        return { ...total, paused: true };
      }
      if (result.stoppedBy) {
        // An outage that outlasted the connection's own retries: the rows back off (above).
        log.warn({ orgId, err: result.stoppedBy.message }, 'writeback call failed');
        break;
      }
      // Another round only for another full call; a few leftovers wait for the next flush
      // (the batching delay), so calls stay full: fewer calls per change.
      if (!full || (await countDuePending(database, orgId)) < BATCH) break;
    }

    // Rows still pending (arrived during this flush, backing off, or left over) get the next
    // flush when the first of them comes due: its batching window counts from when it began
    // to wait, not from the end of this flush, so a flush's own duration adds no latency. Under
    // a backlog (rows overdue at once) flushes stay a quarter window apart, so calls stay full.
    const batchDelayMs = deps.batchDelayMs ?? 0;
    const wait = await msUntilNextFlush(database, orgId, batchDelayMs);
    if (wait !== null) {
      await addWriteback(deps.writebackQueue, orgId, Math.max(wait, batchDelayMs / 4));
    }
    return total;
  };
}
