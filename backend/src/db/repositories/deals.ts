// Deals: the canonical snapshot of each Opportunity / CSV row, one row per (org, external id).
// Every query is scoped by org_id. Raw SQL through postgres.js: these are the hot paths
// (webhook worker, batch rescore), so each is one explicit statement.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import type { Database } from '../client.ts';
import { copyText } from '../copyText.ts';
import type { Deal, Outcome } from '../../scoring/types.ts';

/** Anything that runs queries: the pool or a transaction. */
export type Queryable = postgres.ISql;

// The drizzle wrapper (db/client.ts) turns off postgres.js's Date and JSON conversion on the
// shared pool, so timestamps are sent as ISO strings and read back as text, and JSON is sent as
// text cast to jsonb. These helpers keep that explicit (and work on a plain pool too).

/**
 * COPY ... FROM STDIN inside a transaction. postgres.js reports a COPY the server rejects
 * after the last chunk was sent neither as 'finish' nor as 'error' (the stream just never
 * finishes), so a query queued behind it on the same connection surfaces the failure: it
 * fails in the aborted transaction. The server's own message is in its log.
 *
 * `after` issues the statements that follow the COPY in the same transaction (COMMIT
 * included, if the caller wants); they are sent right behind the data, so the server goes on
 * without waiting for this process (busy parsing the next batch) to answer it in between. They
 * take the place of the probe query, so one of them must fail in an aborted transaction (a
 * bare COMMIT does not: it reports ROLLBACK). Default: `SELECT 1`, the probe alone.
 */
export async function copyIn(
  tx: postgres.TransactionSql,
  copy: postgres.PendingQuery<postgres.Row[]>,
  chunks: (string | Uint8Array)[],
  what: string,
  after: () => Promise<unknown> = () => tx`SELECT 1`
): Promise<void> {
  const stream = await copy.writable();
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
  });
  finished.catch(() => {}); // awaited below; an early rejection is not "unhandled"
  // Every chunk handed to the socket, then end(): postgres.js only accepts the next query on
  // this connection once it has sent CopyDone (in the stream's final step).
  await Promise.all(
    chunks.map((c) => new Promise<void>((resolve) => stream.write(c, () => resolve())))
  );
  stream.end();
  await new Promise<void>((resolve) => setImmediate(resolve));
  try {
    const rest = after();
    await Promise.race([finished, rest.then(() => finished)]);
    await rest;
  } catch (err) {
    const e = new Error(`COPY into ${what} failed: ${(err as Error).message}`) as Error & {
      code?: string;
      cause?: unknown;
    };
    e.code = (err as { code?: string }).code;
    e.cause = err;
    throw e;
  }
}

/** A timestamptz value as stored text or a Date (plain pool) -> Date. */
export function asDate(value: string | Date): Date;
export function asDate(value: string | Date | null): Date | null;
export function asDate(value: string | Date | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}

/** A deal as stored in `deals` (the canonical columns). Dates are YYYY-MM-DD. */
export interface CanonicalDeal {
  externalId: string;
  ownerId: string;
  managerId: string | null;
  accountId: string | null;
  name: string | null;
  industry: string;
  region: string | null;
  productType: string | null;
  leadSource: string | null;
  stage: string | null;
  amount: number;
  createdDate: string;
  closedDate: string | null;
  salesCycleDays: number | null;
  outcome: Outcome | null;
  attributes: Record<string, unknown>;
}

/** A stored deal with its bookkeeping columns. */
export interface DealRecord extends CanonicalDeal {
  id: number;
  orgId: string;
  sourceModstamp: Date | null;
  contentHash: string;
  latestScoreId: number | null;
  latestScoreHash: string | null;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort())
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * Hash of the canonical fields, used by the single-record path (webhooks, Salesforce sync) to
 * tell "same content, newer modstamp" from a real change. sha256 over the JSON of a fixed-order
 * array of the fields, attributes with sorted keys. The CSV import computes its own hash for
 * bulk loads; the two are never compared with each other except to decide "changed", so a
 * mismatch costs at most one extra (idempotent) rescore.
 */
export function contentHash(deal: CanonicalDeal): string {
  const fields = [
    deal.externalId,
    deal.ownerId,
    deal.managerId,
    deal.accountId,
    deal.name,
    deal.industry,
    deal.region,
    deal.productType,
    deal.leadSource,
    deal.stage,
    deal.amount,
    deal.createdDate,
    deal.closedDate,
    deal.salesCycleDays,
    deal.outcome,
    sortKeys(deal.attributes ?? {})
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Rejects a snapshot that would break the table's constraints, naming the field. */
export function validateCanonicalDeal(deal: CanonicalDeal): void {
  const where = `deal ${JSON.stringify(deal.externalId)}`;
  if (!deal.externalId) throw new Error('deal externalId is required');
  if (!deal.ownerId) throw new Error(`${where}: ownerId is required`);
  if (!deal.industry) throw new Error(`${where}: industry is required`);
  if (!Number.isFinite(deal.amount)) throw new Error(`${where}: amount must be a number`);
  if (!DATE_RE.test(deal.createdDate)) {
    throw new Error(
      `${where}: createdDate must be YYYY-MM-DD, got ${JSON.stringify(deal.createdDate)}`
    );
  }
  if (deal.closedDate !== null && !DATE_RE.test(deal.closedDate)) {
    throw new Error(
      `${where}: closedDate must be YYYY-MM-DD or null, got ${JSON.stringify(deal.closedDate)}`
    );
  }
  if (deal.outcome !== null && deal.outcome !== 'Won' && deal.outcome !== 'Lost') {
    throw new Error(
      `${where}: outcome must be Won, Lost or null, got ${JSON.stringify(deal.outcome)}`
    );
  }
}

export interface UpsertResult {
  dealId: number;
  /** Inserted, or updated with different content. */
  changed: boolean;
  /** The stored snapshot is newer than (or as new as) this one: nothing was written. */
  stale: boolean;
}

/**
 * Stores one snapshot (webhook worker, Salesforce sync) in one statement. A snapshot whose
 * sourceModstamp is not newer than the stored one changes nothing (stale); a newer one with
 * equal content only advances the modstamp (changed: false). A newer snapshot of a deleted
 * deal brings it back (Salesforce undelete).
 *
 * SystemModstamp has second precision, so two edits within one second carry the same stamp
 * (and the same webhook event id, which the inbox deduplicates). `settled` marks a snapshot
 * read by the sync once that second was over: it is the record's final state for its stamp,
 * so it also replaces a stored snapshot with the same stamp and other content. A webhook's
 * snapshot never does: it may be a delayed, earlier edit of that second.
 */
export async function upsertDealSnapshot(
  database: Database | { sql: Queryable },
  orgId: string,
  deal: CanonicalDeal & { sourceModstamp: Date },
  opts: { settled?: boolean } = {}
): Promise<UpsertResult> {
  validateCanonicalDeal(deal);
  if (!(deal.sourceModstamp instanceof Date) || Number.isNaN(deal.sourceModstamp.getTime())) {
    throw new Error(`deal ${JSON.stringify(deal.externalId)}: sourceModstamp must be a valid Date`);
  }
  const hash = contentHash(deal);
  const sql = database.sql;
  // `old` and `up` see the same snapshot: old.content_hash is the value before this statement.
  const rows = await sql<
    {
      id: string | null;
      inserted: boolean | null;
      old_id: string | null;
      old_hash: string | null;
    }[]
  >`
    WITH old AS (
      SELECT id, content_hash FROM deals WHERE org_id = ${orgId} AND external_id = ${deal.externalId}
    ), up AS (
      INSERT INTO deals (org_id, external_id, owner_id, manager_id, account_id, name, industry, region,
        product_type, lead_source, stage, amount, created_date, closed_date, sales_cycle_days, outcome,
        attributes, source_modstamp, content_hash)
      VALUES (${orgId}, ${deal.externalId}, ${deal.ownerId}, ${deal.managerId}, ${deal.accountId},
        ${deal.name}, ${deal.industry}, ${deal.region}, ${deal.productType}, ${deal.leadSource},
        ${deal.stage}, ${deal.amount}, ${deal.createdDate}::date, ${deal.closedDate}::date,
        ${deal.salesCycleDays}, ${deal.outcome}, ${JSON.stringify(deal.attributes ?? {})}::text::jsonb,
        ${deal.sourceModstamp.toISOString()}::timestamptz, ${hash})
      ON CONFLICT (org_id, external_id) DO UPDATE SET
        owner_id = EXCLUDED.owner_id, manager_id = EXCLUDED.manager_id,
        account_id = EXCLUDED.account_id, name = EXCLUDED.name, industry = EXCLUDED.industry,
        region = EXCLUDED.region, product_type = EXCLUDED.product_type,
        lead_source = EXCLUDED.lead_source, stage = EXCLUDED.stage, amount = EXCLUDED.amount,
        created_date = EXCLUDED.created_date, closed_date = EXCLUDED.closed_date,
        sales_cycle_days = EXCLUDED.sales_cycle_days, outcome = EXCLUDED.outcome,
        attributes = EXCLUDED.attributes, source_modstamp = EXCLUDED.source_modstamp,
        content_hash = EXCLUDED.content_hash, deleted_at = NULL,
        updated_at = CASE
          WHEN deals.content_hash = EXCLUDED.content_hash AND deals.deleted_at IS NULL
          THEN deals.updated_at ELSE now() END
      WHERE deals.source_modstamp IS NULL OR deals.source_modstamp < EXCLUDED.source_modstamp
        OR (${opts.settled === true} AND deals.source_modstamp = EXCLUDED.source_modstamp
            AND deals.content_hash <> EXCLUDED.content_hash)
      RETURNING id, (xmax = 0) AS inserted
    )
    SELECT up.id, up.inserted, old.id AS old_id, old.content_hash AS old_hash
    FROM (SELECT 1) AS one LEFT JOIN up ON true LEFT JOIN old ON true`;
  const row = rows[0];
  if (!row) throw new Error('upsertDealSnapshot: no row returned');
  if (row.id === null) {
    // The conflict's WHERE rejected it: the stored snapshot is at least as new.
    return { dealId: Number(row.old_id), changed: false, stale: true };
  }
  const changed = row.inserted === true || row.old_hash !== hash;
  return { dealId: Number(row.id), changed, stale: false };
}

export interface DeleteResult {
  dealId: number | null;
  /** The deal was live and is now marked deleted. */
  changed: boolean;
  /** The stored snapshot is newer than the deletion: nothing was written. */
  stale: boolean;
}

/**
 * Marks a deal deleted (Salesforce delete) unless the stored snapshot is newer, and expires its
 * proposed co-lead suggestions, in one statement. Unknown deals: nothing to do (dealId null);
 * the incremental sync is what settles a delete that arrives before the deal's first event.
 */
export async function markDealDeleted(
  database: Database | { sql: Queryable },
  orgId: string,
  externalId: string,
  modstamp: Date
): Promise<DeleteResult> {
  const sql = database.sql;
  const stamp = modstamp.toISOString();
  const rows = await sql<
    { id: string | null; updated: string | null; was_deleted: boolean | null }[]
  >`
    WITH old AS (
      SELECT id, deleted_at IS NOT NULL AS was_deleted FROM deals
      WHERE org_id = ${orgId} AND external_id = ${externalId}
    ), up AS (
      UPDATE deals SET deleted_at = COALESCE(deleted_at, ${stamp}::timestamptz),
        source_modstamp = ${stamp}::timestamptz,
        updated_at = now()
      WHERE org_id = ${orgId} AND external_id = ${externalId}
        AND (source_modstamp IS NULL OR source_modstamp < ${stamp}::timestamptz)
      RETURNING id
    ), expired AS (
      UPDATE co_lead_suggestions SET status = 'expired', updated_at = now()
      WHERE org_id = ${orgId} AND deal_id IN (SELECT id FROM up) AND status = 'proposed'
      RETURNING id
    )
    SELECT old.id, (SELECT id FROM up) AS updated, old.was_deleted,
      (SELECT count(*) FROM expired) AS expired
    FROM (SELECT 1) AS one LEFT JOIN old ON true`;
  const row = rows[0];
  if (!row || row.id === null) return { dealId: null, changed: false, stale: false };
  if (row.updated === null) return { dealId: Number(row.id), changed: false, stale: true };
  return { dealId: Number(row.id), changed: row.was_deleted !== true, stale: false };
}

const RECORD_COLUMNS = (sql: Queryable) => sql`
  id, org_id, external_id, owner_id, manager_id, account_id, name, industry, region, product_type,
  lead_source, stage, amount, created_date::text AS created_date, closed_date::text AS closed_date,
  sales_cycle_days, outcome, attributes, source_modstamp, content_hash, latest_score_id,
  latest_score_hash, deleted_at, created_at, updated_at`;

interface RecordRow {
  id: string;
  org_id: string;
  external_id: string;
  owner_id: string;
  manager_id: string | null;
  account_id: string | null;
  name: string | null;
  industry: string;
  region: string | null;
  product_type: string | null;
  lead_source: string | null;
  stage: string | null;
  amount: number;
  created_date: string;
  closed_date: string | null;
  sales_cycle_days: number | null;
  outcome: Outcome | null;
  attributes: Record<string, unknown>;
  source_modstamp: string | Date | null;
  content_hash: string;
  latest_score_id: string | null;
  latest_score_hash: string | null;
  deleted_at: string | Date | null;
  created_at: string | Date;
  updated_at: string | Date;
}

function toRecord(r: RecordRow): DealRecord {
  return {
    id: Number(r.id),
    orgId: r.org_id,
    externalId: r.external_id,
    ownerId: r.owner_id,
    managerId: r.manager_id,
    accountId: r.account_id,
    name: r.name,
    industry: r.industry,
    region: r.region,
    productType: r.product_type,
    leadSource: r.lead_source,
    stage: r.stage,
    amount: r.amount,
    createdDate: r.created_date,
    closedDate: r.closed_date,
    salesCycleDays: r.sales_cycle_days,
    outcome: r.outcome,
    attributes: r.attributes,
    sourceModstamp: asDate(r.source_modstamp),
    contentHash: r.content_hash,
    latestScoreId: r.latest_score_id === null ? null : Number(r.latest_score_id),
    latestScoreHash: r.latest_score_hash,
    deletedAt: asDate(r.deleted_at),
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at)
  };
}

/** One deal by its external id (Opportunity Id / CSV deal_id), deleted ones included. */
export async function getDealByExternalId(
  database: Database | { sql: Queryable },
  orgId: string,
  externalId: string
): Promise<DealRecord | null> {
  const sql = database.sql;
  const rows = await sql<RecordRow[]>`
    SELECT ${RECORD_COLUMNS(sql)} FROM deals WHERE org_id = ${orgId} AND external_id = ${externalId}`;
  return rows[0] ? toRecord(rows[0]) : null;
}

/** One deal by its internal id, deleted ones included. */
export async function getDealById(
  database: Database | { sql: Queryable },
  orgId: string,
  dealId: number
): Promise<DealRecord | null> {
  const sql = database.sql;
  const rows = await sql<RecordRow[]>`
    SELECT ${RECORD_COLUMNS(sql)} FROM deals WHERE org_id = ${orgId} AND id = ${dealId}`;
  return rows[0] ? toRecord(rows[0]) : null;
}

/** What the scoring path needs from a deal row: the scoring core's Deal plus the score pointer. */
export interface ScoringDealRow {
  id: number;
  deal: Deal;
  latestScoreId: number | null;
  latestScoreHash: string | null;
  /** Version number of the latest score: 0 when never scored. */
  latestVersion: number;
  sourceModstamp: Date | null;
}

interface ScoringRow {
  id: string;
  external_id: string;
  owner_id: string;
  industry: string;
  region: string | null;
  product_type: string | null;
  lead_source: string | null;
  stage: string | null;
  amount: number;
  created_date: string;
  closed_date: string | null;
  outcome: Outcome | null;
  latest_score_id: string | null;
  latest_score_hash: string | null;
  latest_version: number | null;
  source_modstamp: string | Date | null;
}

/** The scoring core's view of a deal row (the columns both scoring queries select). */
type DealColumns = Omit<
  ScoringRow,
  'id' | 'latest_score_id' | 'latest_score_hash' | 'latest_version' | 'source_modstamp'
>;

function toDeal(r: DealColumns): Deal {
  return {
    id: r.external_id,
    ownerId: r.owner_id,
    industry: r.industry,
    region: r.region,
    productType: r.product_type,
    leadSource: r.lead_source,
    stage: r.stage,
    amount: r.amount,
    createdDate: r.created_date,
    closedDate: r.closed_date,
    outcome: r.outcome
  };
}

function latestVersionOf(r: ScoringRow): number {
  if (r.latest_score_id === null) return 0;
  if (r.latest_version === null) {
    throw new Error(`deal ${r.id}: latest score ${r.latest_score_id} has no version number`);
  }
  return r.latest_version;
}

function toScoringRow(r: ScoringRow): ScoringDealRow {
  return {
    id: Number(r.id),
    deal: toDeal(r),
    latestScoreId: r.latest_score_id === null ? null : Number(r.latest_score_id),
    latestScoreHash: r.latest_score_hash,
    latestVersion: latestVersionOf(r),
    sourceModstamp: asDate(r.source_modstamp)
  };
}

const SCORING_COLUMNS = (sql: Queryable) => sql`
  d.id, d.external_id, d.owner_id, d.industry, d.region, d.product_type, d.lead_source, d.stage,
  d.amount, d.created_date::text AS created_date, d.closed_date::text AS closed_date, d.outcome,
  d.latest_score_id, d.latest_score_hash, d.latest_score_version AS latest_version,
  d.source_modstamp`;

/**
 * The next batch of live deals after `afterId`, in id order (keyset pagination), for the
 * batch rescore. `openOnly` keeps deals without an outcome. Each deal's latest version number
 * comes from its own row, so a changed score's next version is known without another read.
 */
export function readScoringBatch(
  sql: Queryable,
  orgId: string,
  opts: { afterId: number; limit: number; openOnly: boolean }
): Promise<ScoringDealRow[]> {
  const open = opts.openOnly ? sql`AND d.outcome IS NULL` : sql``;
  const query = sql<ScoringRow[]>`
    SELECT ${SCORING_COLUMNS(sql)}
    FROM deals d
    WHERE d.org_id = ${orgId} AND d.id > ${opts.afterId} AND d.deleted_at IS NULL ${open}
    ORDER BY d.id LIMIT ${opts.limit}`;
  // Started now (postgres.js queries are lazy), so a prefetch runs while the caller scores.
  return query.execute().then((rows) => rows.map(toScoringRow));
}

/**
 * Live deals by internal id, locked FOR UPDATE when asked (inside a transaction), in id
 * order so concurrent callers lock in the same order.
 */
export async function readScoringDeals(
  sql: Queryable,
  orgId: string,
  dealIds: number[],
  opts: { forUpdate: boolean }
): Promise<ScoringDealRow[]> {
  if (dealIds.length === 0) return [];
  if (opts.forUpdate) {
    // Lock first, then read in a second statement, whose snapshot sees everything the writers
    // this lock waited for committed (a locking read that waited re-checks only the rows it
    // locks, against a snapshot from before the wait).
    await sql`
      SELECT d.id FROM deals d
      WHERE d.org_id = ${orgId} AND d.id = ANY(${dealIds}::bigint[])
      ORDER BY d.id FOR UPDATE`;
  }
  const rows = await sql<ScoringRow[]>`
    SELECT ${SCORING_COLUMNS(sql)}
    FROM deals d
    WHERE d.org_id = ${orgId} AND d.id = ANY(${dealIds}::bigint[]) AND d.deleted_at IS NULL
    ORDER BY d.id`;
  return rows.map(toScoringRow);
}

/** Closed, live deals of an org (training and RSFS input), optionally closed on or before a date. */
export async function loadClosedDeals(
  database: Database | { sql: Queryable },
  orgId: string,
  opts: { closedThrough?: string } = {}
): Promise<Deal[]> {
  const sql = database.sql;
  const through = opts.closedThrough ? sql`AND closed_date <= ${opts.closedThrough}::date` : sql``;
  const deals: Deal[] = [];
  const cursor = sql<DealColumns[]>`
    SELECT external_id, owner_id, industry, region, product_type, lead_source, stage, amount,
      created_date::text AS created_date, closed_date::text AS closed_date, outcome
    FROM deals
    WHERE org_id = ${orgId} AND outcome IS NOT NULL AND deleted_at IS NULL ${through}
    ORDER BY id`.cursor(20_000);
  for await (const rows of cursor) {
    for (const r of rows) {
      deals.push(toDeal(r));
    }
  }
  return deals;
}

/** The latest created or closed date among an org's live deals ("today" for sample data). */
export async function latestDealDate(
  database: Database | { sql: Queryable },
  orgId: string
): Promise<string | null> {
  const rows = await database.sql<{ d: string | null }[]>`
    SELECT GREATEST(max(created_date), max(closed_date))::text AS d
    FROM deals WHERE org_id = ${orgId} AND deleted_at IS NULL`;
  return rows[0]?.d ?? null;
}

/** Counts of live deals: all, open. */
export async function countDeals(
  database: Database | { sql: Queryable },
  orgId: string
): Promise<{ total: number; open: number }> {
  const rows = await database.sql<{ total: string; open: string }[]>`
    SELECT count(*) AS total, count(*) FILTER (WHERE outcome IS NULL) AS open
    FROM deals WHERE org_id = ${orgId} AND deleted_at IS NULL`;
  return { total: Number(rows[0]?.total ?? 0), open: Number(rows[0]?.open ?? 0) };
}

/** A column value in COPY text format: NULL as \N, numbers as written, text escaped. */
function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  return typeof value === 'number' ? String(value) : copyText(value);
}

/**
 * Bulk-inserts new deals with COPY (bench and test fixtures; the CSV import has its own
 * validated, idempotent path). Fails on an external id that already exists.
 */
export async function copyNewDeals(
  database: Database,
  orgId: string,
  deals: CanonicalDeal[],
  opts: { chunkRows?: number } = {}
): Promise<number> {
  const chunk = opts.chunkRows ?? 50_000;
  const sql = database.sql;
  let written = 0;
  for (let start = 0; start < deals.length; start += chunk) {
    const slice = deals.slice(start, start + chunk);
    const lines: string[] = new Array(slice.length);
    for (let i = 0; i < slice.length; i++) {
      const d = slice[i] as CanonicalDeal;
      validateCanonicalDeal(d);
      lines[i] =
        [
          orgId,
          d.externalId,
          d.ownerId,
          d.managerId,
          d.accountId,
          d.name,
          d.industry,
          d.region,
          d.productType,
          d.leadSource,
          d.stage,
          d.amount,
          d.createdDate,
          d.closedDate,
          d.salesCycleDays,
          d.outcome,
          JSON.stringify(d.attributes ?? {}),
          contentHash(d)
        ]
          .map(copyValue)
          .join('\t') + '\n';
    }
    await sql.begin((tx) =>
      copyIn(
        tx,
        tx`
          COPY deals (org_id, external_id, owner_id, manager_id, account_id, name, industry, region,
            product_type, lead_source, stage, amount, created_date, closed_date, sales_cycle_days,
            outcome, attributes, content_hash) FROM STDIN`,
        lines,
        'deals'
      )
    );
    written += slice.length;
  }
  return written;
}
