// The durable webhook inbox: every accepted change event, once (org_id, event_id is unique).
// Rows move received -> done (or failed with the reason); a score job holds a row it works
// on with a lease (claimed_until). The sweeper re-enqueues orgs whose rows sit too long, so a
// lost job or a Redis outage never loses an event.
import type { Database, Sql } from '../client.ts';

export type InboxSource = 'apex' | 'outbound_message' | 'sync';

export interface NewInboxEvent {
  eventId: string;
  type: string;
  occurredAt: string | null;
  payload: unknown;
}

export interface InboxRow {
  id: number;
  orgId: string;
  eventId: string;
  type: string;
  source: InboxSource;
  occurredAt: Date | null;
  payload: unknown;
  status: 'received' | 'enqueued' | 'done' | 'failed';
  attempts: number;
  lastError: string | null;
  receivedAt: Date;
  claimedUntil: Date | null;
}

type Runner = Database | { sql: Sql };

/**
 * Inserts a batch in one statement (atomic); events already stored are skipped.
 * Returns the ids of the new rows and how many were duplicates.
 */
export async function insertInboxEvents(
  database: Runner,
  orgId: string,
  source: InboxSource,
  events: NewInboxEvent[]
): Promise<{ inserted: { id: number; eventId: string }[]; duplicates: number }> {
  if (events.length === 0) return { inserted: [], duplicates: 0 };
  const { sql } = database;
  // One JSON parameter for the whole batch: the statement text is the same whatever the
  // batch size (one prepared plan), and no per-value array escaping on the client.
  const batch = JSON.stringify(
    events.map((e) => ({
      event_id: e.eventId,
      type: e.type,
      occurred_at: e.occurredAt,
      payload: e.payload
    }))
  );
  const rows = await sql<{ id: string; event_id: string }[]>`
    INSERT INTO webhook_inbox (org_id, event_id, type, source, occurred_at, payload)
    SELECT ${orgId}, e.event_id, e.type, ${source}, e.occurred_at, e.payload
    FROM jsonb_to_recordset(${batch}::jsonb)
      AS e(event_id text, type text, occurred_at timestamptz, payload jsonb)
    ON CONFLICT (org_id, event_id) DO NOTHING
    RETURNING id, event_id`;
  const inserted = rows.map((r) => ({ id: Number(r.id), eventId: r.event_id }));
  return { inserted, duplicates: events.length - inserted.length };
}

/** drizzle's postgres-js driver turns timestamp parsing off: raw queries get text. */
function asDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(String(v));
}

function toRow(r: Record<string, unknown>): InboxRow {
  return {
    id: Number(r.id),
    orgId: r.org_id as string,
    eventId: r.event_id as string,
    type: r.type as string,
    source: r.source as InboxSource,
    occurredAt: asDate(r.occurred_at),
    payload: r.payload,
    status: r.status as InboxRow['status'],
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    receivedAt: asDate(r.received_at) as Date,
    claimedUntil: asDate(r.claimed_until)
  };
}

export async function getInboxRow(database: Runner, id: number): Promise<InboxRow | null> {
  const rows = await database.sql`SELECT * FROM webhook_inbox WHERE id = ${id}`;
  return rows[0] ? toRow(rows[0]) : null;
}

/**
 * Claims up to `limit` open rows of one org for processing: the row `first` (when still open
 * and not held by another job) and the oldest others: each is leased for `leaseMs` and its
 * attempt counted. Rows leased by another job are skipped, so concurrent jobs share the backlog and
 * a busy queue turns into larger batches. A dead job's rows come back when the lease ends.
 */
export async function claimInboxBatch(
  database: Runner,
  orgId: string,
  opts: { first: number; limit: number; leaseMs: number }
): Promise<InboxRow[]> {
  // The job's own row waits for a short lock (e.g. the webhook route stamping it enqueued)
  // instead of skipping it; the others are taken only if free.
  const rows = await database.sql<Record<string, unknown>[]>`
    WITH own AS (
      SELECT id FROM webhook_inbox
      WHERE id = ${opts.first} AND org_id = ${orgId} AND status IN ('received', 'enqueued')
        AND (claimed_until IS NULL OR claimed_until < now())
      FOR UPDATE
    ), others AS (
      SELECT id FROM webhook_inbox
      WHERE org_id = ${orgId} AND status IN ('received', 'enqueued') AND id <> ${opts.first}
        AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY id
      LIMIT ${Math.max(0, opts.limit - 1)}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_inbox w
    SET claimed_until = now() + make_interval(secs => ${opts.leaseMs / 1000}),
        attempts = w.attempts + 1
    WHERE w.id IN (SELECT id FROM own UNION ALL SELECT id FROM others)
    RETURNING w.*`;
  return rows.map(toRow).sort((a, b) => a.id - b.id);
}

/** Whether the org has open rows no job holds. */
export async function hasOpenInbox(database: Runner, orgId: string): Promise<boolean> {
  const rows = await database.sql`
    SELECT 1 FROM webhook_inbox
    WHERE org_id = ${orgId} AND status IN ('received', 'enqueued')
      AND (claimed_until IS NULL OR claimed_until < now())
    LIMIT 1`;
  return rows.length > 0;
}

/** Processed: done, lease released. */
export async function markInboxBatchDone(database: Runner, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await database.sql`
    UPDATE webhook_inbox SET status = 'done', processed_at = now(), last_error = NULL,
      claimed_until = NULL
    WHERE id = ANY(${ids}::bigint[])`;
}

/**
 * Not processed: the lease is released and the reason kept; after `maxAttempts` (or at once
 * when `final`) the row is failed for good, for an operator to look at.
 */
export async function releaseInboxRows(
  database: Runner,
  rows: { id: number; error: string; final: boolean }[],
  maxAttempts: number
): Promise<void> {
  if (rows.length === 0) return;
  await database.sql`
    UPDATE webhook_inbox w SET claimed_until = NULL, last_error = left(r.error, 2000),
      status = CASE WHEN r.final OR w.attempts >= ${maxAttempts} THEN 'failed' ELSE w.status END
    FROM unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => r.error)}::text[],
      ${rows.map((r) => String(r.final))}::text[]::boolean[]) AS r(id, error, final)
    WHERE w.id = r.id AND w.status <> 'done'`;
}

/**
 * Orgs with open rows that nobody holds and that arrived more than `olderThanMs` ago: their
 * job was never enqueued (Redis was down), was lost, or gave up. The sweeper asks for them
 * to be processed again.
 */
export async function orgsWithStaleInbox(database: Runner, olderThanMs: number): Promise<string[]> {
  const rows = await database.sql<{ org_id: string }[]>`
    SELECT DISTINCT org_id FROM webhook_inbox
    WHERE status IN ('received', 'enqueued')
      AND (claimed_until IS NULL OR claimed_until < now())
      AND received_at < now() - make_interval(secs => ${olderThanMs / 1000})`;
  return rows.map((r) => r.org_id);
}

/** Counts by status, for operators and tests. */
export async function inboxCounts(
  database: Runner,
  orgId: string
): Promise<Record<string, number>> {
  const rows = await database.sql<{ status: string; n: string }[]>`
    SELECT status, count(*) AS n FROM webhook_inbox WHERE org_id = ${orgId} GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
