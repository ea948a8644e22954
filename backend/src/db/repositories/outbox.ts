// The writeback outbox: what must reach Salesforce, one row per record (org, object, key).
// A newer result replaces the pending payload (a burst of changes costs one write); an older
// one (smaller source_seq) never does. Rows are claimed with a lease, so a dead worker's rows
// come back, and two flushes never send the same row at once.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import type { Database } from '../client.ts';

type Queryable = postgres.ISql;
type Runner = Database | { sql: Queryable };

export type OutboxObject = 'Opportunity' | 'Co_Lead_Suggestion__c' | 'OpportunityTeamMember';

export interface OutboxWrite {
  objectType: OutboxObject;
  /** Opportunity Id, Co_Lead_Suggestion__c external id, or `${opportunityId}:${userId}`. */
  recordKey: string;
  payload: Record<string, unknown>;
  /** Version of the source (score version id); null when versions do not apply. */
  sourceSeq: number | null;
}

export interface OutboxRow {
  id: number;
  orgId: string;
  objectType: OutboxObject;
  recordKey: string;
  payload: Record<string, unknown>;
  payloadHash: string;
  writtenHash: string | null;
  attempts: number;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort())
      out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Stable hash of a payload (keys sorted): equal payloads, equal hashes. */
export function payloadHash(payload: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(payload)))
    .digest('hex');
}

/**
 * Upserts writes. A row changes only when the payload differs and the source is not older;
 * a changed row becomes pending again (attempts reset, a parked row revives).
 * Returns how many rows changed.
 */
export async function upsertOutbox(
  database: Runner,
  orgId: string,
  writes: OutboxWrite[]
): Promise<number> {
  if (writes.length === 0) return 0;
  const { sql } = database;
  // One JSON parameter for the batch (no per-value array escaping on the client).
  const batch = JSON.stringify(
    writes.map((w) => {
      const json = JSON.stringify(canonical(w.payload));
      return {
        object_type: w.objectType,
        record_key: w.recordKey,
        payload: json,
        payload_hash: createHash('sha256').update(json).digest('hex'),
        source_seq: w.sourceSeq
      };
    })
  );
  const rows = await sql`
    INSERT INTO writeback_outbox
      (org_id, object_type, record_key, payload, payload_hash, source_seq, status, updated_at)
    SELECT ${orgId}, w.object_type, w.record_key, w.payload::jsonb, w.payload_hash, w.source_seq,
      'pending', now()
    FROM jsonb_to_recordset(${batch}::jsonb)
      AS w(object_type text, record_key text, payload text, payload_hash text, source_seq bigint)
    ON CONFLICT (org_id, object_type, record_key) DO UPDATE SET
      payload = EXCLUDED.payload, payload_hash = EXCLUDED.payload_hash,
      source_seq = EXCLUDED.source_seq, status = 'pending', attempts = 0, last_error = NULL,
      retry_at = NULL,
      -- A pending row keeps the time it began to wait: the batching window and the sweeper
      -- count from it, so a record that keeps changing is not held back by each change.
      updated_at = CASE WHEN writeback_outbox.status = 'pending'
        THEN writeback_outbox.updated_at ELSE now() END
    WHERE writeback_outbox.payload_hash <> EXCLUDED.payload_hash
      AND (writeback_outbox.source_seq IS NULL OR EXCLUDED.source_seq IS NULL
           OR writeback_outbox.source_seq <= EXCLUDED.source_seq)
    RETURNING id`;
  return rows.length;
}

/** Whether any of these records still waits for a write (pending). */
export async function hasPending(
  database: Runner,
  orgId: string,
  keys: { objectType: OutboxObject; recordKey: string }[]
): Promise<boolean> {
  if (keys.length === 0) return false;
  const rows = await database.sql`
    SELECT 1 FROM writeback_outbox o
    JOIN unnest(${keys.map((k) => k.objectType)}::text[], ${keys.map((k) => k.recordKey)}::text[])
      AS k(object_type, record_key)
      ON o.object_type = k.object_type AND o.record_key = k.record_key
    WHERE o.org_id = ${orgId} AND o.status = 'pending'
    LIMIT 1`;
  return rows.length > 0;
}

/**
 * Claims up to `limit` due pending rows of one org and one object type (oldest first): leased
 * for `leaseMs`. FOR UPDATE SKIP LOCKED keeps concurrent claimers apart; the lease keeps a
 * crashed claimer's rows away only until it expires.
 */
export async function claimPending(
  database: Runner,
  orgId: string,
  objectType: OutboxObject,
  opts: { limit: number; leaseMs: number }
): Promise<OutboxRow[]> {
  const rows = await database.sql<Record<string, unknown>[]>`
    UPDATE writeback_outbox o
    SET claimed_until = now() + make_interval(secs => ${opts.leaseMs / 1000})
    FROM (
      SELECT id FROM writeback_outbox
      WHERE org_id = ${orgId} AND object_type = ${objectType} AND status = 'pending'
        AND (claimed_until IS NULL OR claimed_until < now())
        AND (retry_at IS NULL OR retry_at <= now())
      ORDER BY updated_at, id
      LIMIT ${opts.limit}
      FOR UPDATE SKIP LOCKED
    ) s
    WHERE o.id = s.id
    RETURNING o.id, o.org_id, o.object_type, o.record_key, o.payload, o.payload_hash,
      o.written_hash, o.attempts`;
  return rows.map((r) => ({
    id: Number(r.id),
    orgId: r.org_id as string,
    objectType: r.object_type as OutboxObject,
    recordKey: r.record_key as string,
    payload: r.payload as Record<string, unknown>,
    payloadHash: r.payload_hash as string,
    writtenHash: (r.written_hash as string | null) ?? null,
    attempts: r.attempts as number
  }));
}

/**
 * Records successful writes: written_hash = the hash that was sent. The row is done only if its
 * payload is still that one; a newer payload that arrived meanwhile stays pending.
 */
export async function markWritten(
  database: Runner,
  rows: { id: number; payloadHash: string }[]
): Promise<void> {
  if (rows.length === 0) return;
  await database.sql`
    UPDATE writeback_outbox o SET
      written_hash = w.hash, written_at = now(), claimed_until = NULL, last_error = NULL,
      status = CASE WHEN o.payload_hash = w.hash THEN 'done' ELSE o.status END,
      attempts = CASE WHEN o.payload_hash = w.hash THEN 0 ELSE o.attempts END
    FROM unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.payloadHash)}::text[])
      AS w(id, hash)
    WHERE o.id = w.id`;
}

/**
 * Records failed writes: attempts + 1, retried after min(maxMs, baseMs * 2^(attempts-1)), or
 * parked with the reason once `maxAttempts` is reached (at once when not retryable). A row whose
 * payload changed during the call is only released: the newer payload gets fresh attempts.
 */
export async function markFailed(
  database: Runner,
  failures: { id: number; payloadHash: string; error: string; retryable: boolean }[],
  opts: { maxAttempts: number; baseMs: number; maxMs: number }
): Promise<{ parked: number }> {
  if (failures.length === 0) return { parked: 0 };
  const { sql } = database;
  const rows = await sql<{ status: string }[]>`
    UPDATE writeback_outbox o SET
      attempts = o.attempts + 1,
      last_error = left(f.error, 2000),
      claimed_until = NULL,
      status = CASE WHEN NOT f.retryable OR o.attempts + 1 >= ${opts.maxAttempts}
        THEN 'parked' ELSE 'pending' END,
      retry_at = CASE WHEN NOT f.retryable OR o.attempts + 1 >= ${opts.maxAttempts} THEN NULL
        ELSE now() + make_interval(secs => LEAST(${opts.maxMs}::float8,
          ${opts.baseMs}::float8 * power(2, o.attempts)) / 1000) END
    FROM unnest(
      ${failures.map((f) => f.id)}::bigint[],
      ${failures.map((f) => f.payloadHash)}::text[],
      ${failures.map((f) => f.error)}::text[],
      ${failures.map((f) => String(f.retryable))}::text[]::boolean[]
    ) AS f(id, hash, error, retryable)
    WHERE o.id = f.id AND o.payload_hash = f.hash
    RETURNING o.status`;
  await sql`
    UPDATE writeback_outbox o SET claimed_until = NULL
    FROM unnest(${failures.map((f) => f.id)}::bigint[], ${failures.map((f) => f.payloadHash)}::text[])
      AS f(id, hash)
    WHERE o.id = f.id AND o.payload_hash <> f.hash`;
  return { parked: rows.filter((r) => r.status === 'parked').length };
}

/** Gives claimed rows back untouched (e.g. the org is rate limited: not the rows' fault). */
export async function releaseClaims(database: Runner, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await database.sql`
    UPDATE writeback_outbox SET claimed_until = NULL WHERE id = ANY(${ids}::bigint[])`;
}

/** Marks rows done without a call: what they hold was already written. */
export async function markUnchanged(database: Runner, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await database.sql`
    UPDATE writeback_outbox SET status = 'done', claimed_until = NULL, attempts = 0
    WHERE id = ANY(${ids}::bigint[]) AND payload_hash = written_hash`;
}

/** Orgs with pending rows that are due and older than `olderThanMs` (for the sweeper). */
export async function orgsWithDuePending(database: Runner, olderThanMs: number): Promise<string[]> {
  const rows = await database.sql<{ org_id: string }[]>`
    SELECT DISTINCT org_id FROM writeback_outbox
    WHERE status = 'pending'
      AND updated_at < now() - make_interval(secs => ${olderThanMs / 1000})
      AND (retry_at IS NULL OR retry_at <= now())
      AND (claimed_until IS NULL OR claimed_until < now())`;
  return rows.map((r) => r.org_id);
}

/** Pending rows of the org that could be claimed now (due, not held). */
export async function countDuePending(database: Runner, orgId: string): Promise<number> {
  const rows = await database.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM writeback_outbox
    WHERE org_id = ${orgId} AND status = 'pending'
      AND (retry_at IS NULL OR retry_at <= now())
      AND (claimed_until IS NULL OR claimed_until < now())`;
  return rows[0]?.n ?? 0;
}

/**
 * Milliseconds until the org's next flush should run (null: nothing pending): a pending row is
 * due when its batching window (`batchDelayMs` from when it began to wait) has passed, its
 * backoff is over and no claim holds it. Computed by Postgres against its own clock, so the
 * app servers' clocks do not matter.
 */
export async function msUntilNextFlush(
  database: Runner,
  orgId: string,
  batchDelayMs: number
): Promise<number | null> {
  const rows = await database.sql<{ ms: number | null }[]>`
    SELECT CASE WHEN due IS NULL THEN NULL
      ELSE GREATEST(0, ceil(extract(epoch FROM due - now()) * 1000))::int END AS ms
    FROM (
      SELECT min(GREATEST(
        updated_at + make_interval(secs => ${batchDelayMs / 1000}),
        COALESCE(retry_at, '-infinity'), COALESCE(claimed_until, '-infinity')
      )) AS due
      FROM writeback_outbox WHERE org_id = ${orgId} AND status = 'pending'
    ) d`;
  return rows[0]?.ms ?? null;
}

/** Counts by status, for operators and tests. */
export async function outboxCounts(
  database: Runner,
  orgId: string
): Promise<Record<string, number>> {
  const rows = await database.sql<{ status: string; n: string }[]>`
    SELECT status, count(*) AS n FROM writeback_outbox WHERE org_id = ${orgId} GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
