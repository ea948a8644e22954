// Writes one batch of an import in one transaction: the rows into deals by COPY (a first import
// straight in; otherwise through a staging table and one upsert that writes only changed rows,
// never an older version over a newer one), the reps, the quarantined rows and the run's running
// totals. Each batch commits on its own, so a failure later in the file loses nothing accepted.
import type postgres from 'postgres';
import { copyText } from '../db/copyText.ts';
import { copyIn } from '../db/repositories/deals.ts';
import type { Placed } from './duplicates.ts';
import type { CanonicalRow, Severity } from './validateRow.ts';

export interface ImportCounts {
  rowsRead: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  flagged: number;
}

export const ZERO_COUNTS: ImportCounts = {
  rowsRead: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  quarantined: 0,
  flagged: 0
};

export function addCounts(a: ImportCounts, b: ImportCounts): ImportCounts {
  return {
    rowsRead: a.rowsRead + b.rowsRead,
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    quarantined: a.quarantined + b.quarantined,
    flagged: a.flagged + b.flagged
  };
}

export interface BatchRow {
  row: CanonicalRow;
  /** The row's cells as read, for its raw record if it ends up quarantined. */
  values: string[];
  /** It has a warning (counted as flagged while it is the row kept). */
  flagged: boolean;
}

export interface ProblemRecord {
  rowNumber: number;
  field: string | null;
  reason: string;
  severity: Severity;
  raw: Record<string, unknown>;
}

/** A kept row written by an earlier batch that a more recent row of this batch replaces. */
export interface SupersededInDb {
  dealId: string;
  loser: Placed;
  reason: string;
}

export interface BatchInput {
  runId: number;
  orgId: string;
  /** Rows to upsert; deal ids are unique within a batch. */
  rows: BatchRow[];
  problems: ProblemRecord[];
  supersededInDb: SupersededInDb[];
  /** New reasons for duplicate losers of earlier batches whose kept row changed since. */
  reasonUpdates: { rowNumber: number; reason: string }[];
  /** Every row is new to the org (its first import, no row replacing an earlier one). */
  allNew: boolean;
  /** Whether a row of an earlier batch was rejected as older than the stored deal. */
  wasStale: (rowNumber: number) => boolean;
  rawOf: (values: string[]) => Record<string, unknown>;
  /** Counts known before the database is involved: rows read, quarantined, flagged. */
  readCounts: Pick<ImportCounts, 'rowsRead' | 'quarantined' | 'flagged'>;
}

export interface BatchResult {
  /**
   * What this batch adds to the run's counts (a row replaced by a later one moves from
   * inserted / updated / unchanged to quarantined, so a field can be negative).
   */
  counts: ImportCounts;
  /** Rows not applied because the stored deal is more recent. */
  staleRows: number[];
}

// Runs on the import's reserved connection, inside BEGIN ... COMMIT (see writeBatch).
type Tx = postgres.Sql;
type Outcome = 'inserted' | 'updated' | 'unchanged';
const RANK: Record<Outcome, number> = { unchanged: 0, updated: 1, inserted: 2 };

// Rows go to Postgres with COPY (text format): the cheapest way in, for both sides. A first
// import COPYs straight into deals; every other batch COPYs into a temporary staging table
// (import_staging, created per run by createStaging) and upserts from there in one statement.

/**
 * A row's stored fields as COPY text, tab-separated, in the order of DEAL_COLUMNS after org_id
 * (external_id ... content_hash). Attributes go as JSON text, which jsonb parses.
 */
export function copyFields(row: CanonicalRow): string {
  const plain = row.plainText;
  let attributes = '{}';
  for (const _ in row.attributes) {
    attributes = copyValue(JSON.stringify(row.attributes), plain);
    break;
  }
  return (
    `${copyValue(row.externalId, plain)}\t${copyValue(row.ownerId, plain)}\t` +
    `${copyValue(row.managerId, plain)}\t${copyValue(row.accountId, plain)}\t` +
    `${copyValue(row.industry, plain)}\t${copyValue(row.region, plain)}\t` +
    `${copyValue(row.productType, plain)}\t${copyValue(row.leadSource, plain)}\t` +
    `${copyValue(row.stage, plain)}\t${row.amount}\t${row.createdDate}\t` +
    `${row.closedDate ?? '\\N'}\t${row.salesCycleDays ?? '\\N'}\t${row.outcome ?? '\\N'}\t` +
    `${attributes}\t${row.contentHash}`
  );
}

/** A text value or NULL (\\N) in COPY text format; `plain` when it is known to need no escaping. */
function copyValue(value: string | null, plain: boolean): string {
  if (value === null) return '\\N';
  return plain ? value : copyText(value);
}

const DEAL_COLUMNS = `external_id, owner_id, manager_id, account_id, industry, region, product_type,
  lead_source, stage, amount, created_date, closed_date, sales_cycle_days, outcome, attributes,
  content_hash`;

/**
 * The run's staging table: one batch at a time (emptied at every commit). Temporary, so it is
 * not WAL-logged and has no indexes to maintain; it lives on the run's reserved connection.
 */
export async function createStaging(conn: postgres.ReservedSql): Promise<void> {
  await conn.unsafe(`
    CREATE TEMP TABLE IF NOT EXISTS import_staging (
      row_number int NOT NULL, external_id text NOT NULL, owner_id text NOT NULL,
      manager_id text, account_id text, industry text NOT NULL, region text, product_type text,
      lead_source text, stage text, amount double precision NOT NULL, created_date date NOT NULL,
      closed_date date, sales_cycle_days int, outcome text, attributes jsonb NOT NULL,
      content_hash text NOT NULL
    ) ON COMMIT DELETE ROWS`);
}

export async function dropStaging(conn: postgres.ReservedSql): Promise<void> {
  await conn.unsafe('DROP TABLE IF EXISTS pg_temp.import_staging');
}

/** COPY text of the batch, each line starting with `prefix(row)`, in chunks of ~1 MB. */
function copyChunks(rows: BatchRow[], prefix: (row: CanonicalRow) => string): string[] {
  const chunks: string[] = [];
  let lines: string[] = [];
  for (const { row } of rows) {
    lines.push(`${prefix(row)}\t${copyFields(row)}\n`);
    if (lines.length === 5_000) {
      chunks.push(lines.join(''));
      lines = [];
    }
  }
  if (lines.length > 0) chunks.push(lines.join(''));
  return chunks;
}

async function copyIntoStaging(tx: Tx, rows: BatchRow[]): Promise<void> {
  await copyIn(
    tx as unknown as postgres.TransactionSql,
    tx.unsafe(`COPY import_staging (row_number, ${DEAL_COLUMNS}) FROM STDIN`),
    copyChunks(rows, (row) => String(row.rowNumber)),
    'import_staging'
  );
}

// Recency order shared with duplicates.ts: closed_date (open = oldest), then created_date.
const recency = (t: string) => `(COALESCE(${t}.closed_date, '-infinity'::date), ${t}.created_date)`;

// Nested-loop joins only: the staging table has no statistics, and deals may hold millions of
// rows of the org; a batch must cost index look-ups, never a scan of deals.
const INDEX_JOINS_ONLY = `SELECT set_config('enable_hashjoin', 'off', true),
                                set_config('enable_mergejoin', 'off', true)`;

/**
 * Statistics that still say the org has (almost) no deals, when it has many, make the planner
 * look a batch up through another index of deals, scanning all of the org's deals once per row
 * (measured: minutes for one batch of 5,000). That is the case right after a bulk load the
 * autovacuum has not analyzed yet, or one org among many. `known` is a lower bound of the org's
 * deals; when the estimate is under a tenth of it, ANALYZE (about a second per few million rows).
 */
export async function refreshStatsIfBlind(
  conn: postgres.ReservedSql,
  orgId: string,
  known: number
): Promise<boolean> {
  if (known < 10_000) return false;
  const [explained] = await conn.unsafe<{ 'QUERY PLAN': unknown }[]>(
    'EXPLAIN (FORMAT JSON) SELECT 1 FROM deals WHERE org_id = $1',
    [orgId]
  );
  const raw = explained!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
    Plan: { 'Plan Rows': number };
  }[];
  if (plan[0]!.Plan['Plan Rows'] >= known / 10) return false;
  await conn`ANALYZE deals`;
  return true;
}

/** How many deals the org has, counted up to `cap` (cheap on a big org). */
export async function countDealsUpTo(
  conn: postgres.ReservedSql,
  orgId: string,
  cap: number
): Promise<number> {
  const [row] = await conn<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM deals WHERE org_id = ${orgId} LIMIT ${cap}) AS d`;
  return row!.n;
}

// The batch against the stored deals, in one statement (one snapshot): rows older than the
// stored deal are stale (reported, not applied); rows with the same content are left alone, so
// a re-import neither writes nor locks them. Only the others reach the upsert, whose WHERE still
// never lets an older version over a newer one (another writer may have changed the deal).
const UPSERT_FROM_STAGING_SQL = `
  WITH b AS MATERIALIZED (
    SELECT s.*, d.id IS NOT NULL AS stored,
           d.content_hash IS NOT DISTINCT FROM s.content_hash AS same,
           ${recency('s')} < ${recency('d')} AS older,
           d.closed_date::text AS stored_closed, d.created_date::text AS stored_created
      FROM import_staging s
      LEFT JOIN deals d ON d.org_id = $1 AND d.external_id = s.external_id
  ), up AS (
    INSERT INTO deals AS d (org_id, ${DEAL_COLUMNS})
    SELECT $1, ${DEAL_COLUMNS} FROM b WHERE NOT b.stored OR (NOT b.same AND NOT b.older)
    ON CONFLICT (org_id, external_id) DO UPDATE SET
      owner_id = EXCLUDED.owner_id, manager_id = EXCLUDED.manager_id,
      account_id = EXCLUDED.account_id, industry = EXCLUDED.industry, region = EXCLUDED.region,
      product_type = EXCLUDED.product_type, lead_source = EXCLUDED.lead_source,
      stage = EXCLUDED.stage, amount = EXCLUDED.amount, created_date = EXCLUDED.created_date,
      closed_date = EXCLUDED.closed_date, sales_cycle_days = EXCLUDED.sales_cycle_days,
      outcome = EXCLUDED.outcome, attributes = EXCLUDED.attributes,
      content_hash = EXCLUDED.content_hash, updated_at = now()
    WHERE d.content_hash IS DISTINCT FROM EXCLUDED.content_hash
      AND ${recency('EXCLUDED')} >= ${recency('d')}
    RETURNING (xmax = 0) AS inserted
  )
  SELECT (SELECT count(*) FILTER (WHERE inserted) FROM up)::int AS inserted,
         (SELECT count(*) FILTER (WHERE NOT inserted) FROM up)::int AS updated,
         (SELECT COALESCE(json_agg(json_build_object(
                   'row_number', row_number, 'external_id', external_id,
                   'closed', stored_closed, 'created', stored_created)), '[]'::json)
            FROM b WHERE b.stored AND b.older AND NOT b.same) AS stale`;

// Plain INSERT from staging: the first-import path again after its COPY failed, so that the
// server's reason reaches the report (postgres.js 3.4 loses a failed COPY's error message,
// porsager/postgres#1173; see copyIn).
const INSERT_FROM_STAGING_SQL = `
  INSERT INTO deals (org_id, ${DEAL_COLUMNS}) SELECT $1, ${DEAL_COLUMNS} FROM import_staging`;

interface StaleRow {
  row_number: number;
  external_id: string;
  closed: string | null;
  created: string;
}

interface UpsertResult {
  inserted: number;
  updated: number;
  stale: StaleRow[];
}

function firstImportCollision(orgId: string, err: unknown): Error {
  return new Error(
    `another process wrote deals of org ${orgId} during its first import ` +
      `(${(err as Error).message}); run the import again to merge the rest`
  );
}

/**
 * Settings of every batch's transaction. A stuck statement fails the batch (and so the run)
 * instead of hanging the import. A batch's COMMIT does not wait for its WAL to reach the disk:
 * the run's last statement (status completed, see importCsv) commits synchronously, and that
 * flush covers every batch before it, so nothing is reported imported before it is durable.
 * A crash midway can lose the last batches of a run that never completed, which a re-run
 * imports again. Waiting at every commit cost a disk flush per batch (31 ms each measured on
 * this VM's disk at a slow moment), time in which the batch's connection sent nothing.
 */
const BATCH_SETTINGS = `SELECT set_config('statement_timeout', '5min', true),
                               set_config('synchronous_commit', 'off', true)`;

/**
 * A first import into an org with no deals: every row is a deal id seen for the first time in
 * the file and the org had none, so the rows are COPYed straight into deals (no staging, no ON
 * CONFLICT). Only another process writing this org's deals at the same moment could collide;
 * the batch then fails on the unique index and the run stops, having lost nothing.
 *
 * Two round trips per batch, not eight: BEGIN, the settings and the COPY go out together, and the
 * users, problems, running totals and COMMIT right behind the data. Each round trip waits for
 * this process's event loop, which is busy parsing the next batch meanwhile, and Postgres sat
 * idle for each of them (measured: parse and COPY ran one after the other).
 */
async function insertNewDeals(conn: postgres.ReservedSql, input: BatchInput): Promise<BatchResult> {
  const org = copyText(input.orgId);
  const { problems, counts } = batchOutcome(input, {
    inserted: input.rows.length,
    updated: 0,
    stale: []
  });
  try {
    // Sent in this order (execute() queues now; pipelined on the connection).
    const opening = [conn`BEGIN`.execute(), conn.unsafe(BATCH_SETTINGS).execute()];
    const opened = Promise.all(opening);
    opened.catch(() => {}); // a failure shows in the COPY below, and is awaited after it
    await copyIn(
      conn as unknown as postgres.TransactionSql,
      conn.unsafe(`COPY deals (org_id, ${DEAL_COLUMNS}) FROM STDIN`),
      copyChunks(input.rows, () => org),
      'deals',
      // The UPDATE of the run always comes before COMMIT: after a failed COPY it fails in the
      // aborted transaction (a bare COMMIT would just report ROLLBACK).
      () =>
        Promise.all([...finishStatements(conn, input, problems, counts), conn`COMMIT`.execute()])
    );
    await opened;
    return { counts, staleRows: [] };
  } catch (err) {
    // The transaction was rolled back, or is still open (writeBatch rolls back): the batch is
    // retried through staging, where a failure comes with the server's message.
    throw new CopyFailed(err);
  }
}

class CopyFailed extends Error {
  constructor(readonly reason: unknown) {
    super((reason as Error).message);
  }
}

async function upsertDeals(tx: Tx, input: BatchInput): Promise<UpsertResult> {
  if (input.rows.length === 0) return { inserted: 0, updated: 0, stale: [] };
  await copyIntoStaging(tx, input.rows);
  if (input.allNew) {
    try {
      const result = await tx.unsafe(INSERT_FROM_STAGING_SQL, [input.orgId]);
      return { inserted: result.count, updated: 0, stale: [] };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw firstImportCollision(input.orgId, err);
      throw err;
    }
  }
  await tx.unsafe(INDEX_JOINS_ONLY);
  const [result] = await tx.unsafe<UpsertResult[]>(UPSERT_FROM_STAGING_SQL, [input.orgId]);
  return result!;
}

/**
 * Reps (and their managers) of the batch become users of the org: one statement, sent now.
 * Ids in sorted order, so two batches written at the same time lock users in the same order
 * (no deadlock); an id that is a rep here is written as a rep (with its manager), others as
 * managers, which leaves an existing user's manager alone.
 */
function upsertUsers(tx: Tx, input: BatchInput): Promise<unknown>[] {
  const managerOf = new Map<string, string | null>();
  for (const { row } of input.rows) {
    if (row.managerId !== null || !managerOf.has(row.ownerId)) {
      managerOf.set(row.ownerId, row.managerId);
    }
  }
  if (managerOf.size === 0) return [];
  const roleOf = new Map<string, 'rep' | 'manager'>();
  for (const [rep, manager] of managerOf) {
    roleOf.set(rep, 'rep');
    if (manager !== null && !managerOf.has(manager)) roleOf.set(manager, 'manager');
  }
  const ids = [...roleOf.keys()].sort();
  return [
    tx`
    INSERT INTO users (org_id, id, manager_id, role)
    SELECT ${input.orgId}, u.id, u.manager_id, u.role
      FROM unnest(${ids}::text[], ${ids.map((id) => managerOf.get(id) ?? null) as string[]}::text[],
                  ${ids.map((id) => roleOf.get(id)!)}::text[]) AS u(id, manager_id, role)
    ON CONFLICT (org_id, id) DO UPDATE SET manager_id = EXCLUDED.manager_id, updated_at = now()
    WHERE EXCLUDED.manager_id IS NOT NULL
      AND users.manager_id IS DISTINCT FROM EXCLUDED.manager_id`.execute()
  ];
}

interface StoredVersion {
  external_id: string;
  content_hash: string;
  inserted_in_run: boolean;
  updated_in_run: boolean;
  /** The replaced row had a warning, so it was counted as flagged. */
  loser_flagged: boolean;
  raw: Record<string, unknown>;
}

/** State of deals about to be replaced, read before the upsert changes it. */
async function readSuperseded(tx: Tx, input: BatchInput): Promise<Map<string, StoredVersion>> {
  if (input.supersededInDb.length === 0) return new Map();
  const ids = input.supersededInDb.map((s) => s.dealId);
  const loserRows = input.supersededInDb.map((s) => s.loser.rowNumber);
  const stored = await tx<StoredVersion[]>`
    SELECT d.external_id, d.content_hash,
           d.created_at >= r.started_at AS inserted_in_run,
           d.updated_at >= r.started_at AS updated_in_run,
           EXISTS (SELECT 1 FROM quarantined_rows q
                    WHERE q.import_run_id = ${input.runId} AND q.row_number = u.loser_row
                      AND q.severity = 'warning') AS loser_flagged,
           COALESCE(
             (SELECT q.raw FROM quarantined_rows q
               WHERE q.import_run_id = ${input.runId} AND q.row_number = u.loser_row LIMIT 1),
             d.attributes || jsonb_build_object(
               'deal_id', d.external_id, 'created_date', d.created_date,
               'closed_date', d.closed_date, 'sales_rep_id', d.owner_id, 'industry', d.industry,
               'region', d.region, 'product_type', d.product_type, 'lead_source', d.lead_source,
               'deal_stage', d.stage, 'deal_amount', d.amount,
               'sales_cycle_days', d.sales_cycle_days, 'outcome', d.outcome,
               'manager_id', d.manager_id, 'account_id', d.account_id,
               '_note', 'row written by an earlier batch of this import; values as stored')
           ) AS raw
      FROM unnest(${ids}::text[], ${loserRows}::int[]) AS u(external_id, loser_row)
      JOIN deals d ON d.org_id = ${input.orgId} AND d.external_id = u.external_id
      JOIN import_runs r ON r.id = ${input.runId}`;
  return new Map(stored.map((s) => [s.external_id, s]));
}

function storeProblems(tx: Tx, input: BatchInput, problems: ProblemRecord[]): Promise<unknown>[] {
  const statements: Promise<unknown>[] = [];
  if (problems.length > 0) {
    statements.push(
      tx`
      INSERT INTO quarantined_rows (org_id, import_run_id, row_number, field, reason, severity, raw)
      SELECT ${input.orgId}, ${input.runId}, p.row_number, p.field, p.reason, p.severity, p.raw::jsonb
        FROM unnest(${problems.map((p) => p.rowNumber)}::int[],
                    ${problems.map((p) => p.field) as string[]}::text[],
                    ${problems.map((p) => p.reason)}::text[],
                    ${problems.map((p) => p.severity)}::text[],
                    ${problems.map((p) => JSON.stringify(p.raw))}::text[])
             AS p(row_number, field, reason, severity, raw)`.execute()
    );
  }
  if (input.reasonUpdates.length > 0) {
    statements.push(
      tx`
      UPDATE quarantined_rows q SET reason = u.reason
        FROM unnest(${input.reasonUpdates.map((u) => u.rowNumber)}::int[],
                    ${input.reasonUpdates.map((u) => u.reason)}::text[]) AS u(row_number, reason)
       WHERE q.import_run_id = ${input.runId} AND q.row_number = u.row_number
         AND starts_with(q.reason, 'duplicate deal_id ')`.execute()
    );
  }
  return statements;
}

/**
 * Writes one batch in one transaction on `conn` (a reserved connection: no pool juggling).
 * Each batch commits on its own: a later failure loses nothing already committed.
 */
export async function writeBatch(
  conn: postgres.ReservedSql,
  input: BatchInput
): Promise<BatchResult> {
  if (input.allNew && input.rows.length > 0) {
    try {
      return await insertNewDeals(conn, input);
    } catch (err) {
      await conn`ROLLBACK`.catch(() => {}); // the connection may be gone; the error says why
      if (!(err instanceof CopyFailed)) throw err;
      // Once more through staging: it either succeeds or fails with the server's reason.
    }
  }
  const begin = conn`BEGIN`.execute();
  try {
    // Sent with BEGIN (pipelined): one round trip for both.
    const timeout = conn.unsafe(BATCH_SETTINGS).execute();
    await Promise.all([begin, timeout]);
    const superseded = await readSuperseded(conn, input);
    const upserted = await upsertDeals(conn, input);
    const { problems, counts, staleRows } = batchOutcome(input, upserted, superseded);
    await Promise.all([...finishStatements(conn, input, problems, counts), conn`COMMIT`.execute()]);
    return { counts, staleRows };
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}

/**
 * The statements that finish a batch whose deals are written (same transaction): its users, its
 * problems and the run's running totals. Sent now, in this order, without waiting for each other.
 * The totals are added to, not set: two batches of a run may commit in either order.
 */
function finishStatements(
  tx: Tx,
  input: BatchInput,
  problems: ProblemRecord[],
  counts: ImportCounts
): Promise<unknown>[] {
  return [
    ...upsertUsers(tx, input),
    ...storeProblems(tx, input, problems),
    tx`
      UPDATE import_runs
         SET rows_read = rows_read + ${counts.rowsRead}, inserted = inserted + ${counts.inserted},
             updated = updated + ${counts.updated}, unchanged = unchanged + ${counts.unchanged},
             quarantined = quarantined + ${counts.quarantined},
             flagged = flagged + ${counts.flagged}
       WHERE id = ${input.runId}`.execute()
  ];
}

/** The problems and counts of a batch, from what the upsert reported. */
function batchOutcome(
  input: BatchInput,
  { inserted, updated, stale }: UpsertResult,
  superseded = new Map<string, StoredVersion>()
): { problems: ProblemRecord[]; counts: ImportCounts; staleRows: number[] } {
  // Look-ups for the few stale and superseded rows; not built for a batch that has none.
  const needMaps = stale.length > 0 || input.supersededInDb.length > 0;
  const byRow = new Map(needMaps ? input.rows.map((r) => [r.row.rowNumber, r]) : []);
  const byDeal = new Map(needMaps ? input.rows.map((r) => [r.row.externalId, r.row]) : []);
  const staleRows = new Set(stale.map((s) => s.row_number));
  const problems = [...input.problems];
  for (const s of stale) {
    problems.push({
      rowNumber: s.row_number,
      field: 'deal_id',
      reason:
        `deal_id ${s.external_id} is already stored with a more recent version ` +
        `(closed_date ${s.closed ?? 'none'}, created_date ${s.created}); this older row was not applied`,
      severity: 'error',
      raw: input.rawOf(byRow.get(s.row_number)!.values)
    });
  }

  // Counts: every row read ends up in exactly one of inserted / updated / unchanged /
  // quarantined. A row replaced by a later, more recent duplicate moves to quarantined, and the
  // row that replaced it takes over its outcome when that says more (inserted > updated).
  // flagged counts the rows kept (not quarantined) that carry a warning.
  const counts: Record<Outcome, number> & { quarantined: number; flagged: number } = {
    inserted,
    updated,
    unchanged: input.rows.length - inserted - updated - stale.length,
    quarantined: input.readCounts.quarantined + stale.length,
    flagged: input.readCounts.flagged
  };
  for (const s of stale) if (byRow.get(s.row_number)!.flagged) counts.flagged -= 1;
  for (const s of input.supersededInDb) {
    const stored = superseded.get(s.dealId);
    const winner = byDeal.get(s.dealId);
    if (!stored || !winner) throw new Error(`import bookkeeping: deal ${s.dealId} not found`);
    problems.push({
      rowNumber: s.loser.rowNumber,
      field: 'deal_id',
      reason: s.reason,
      severity: 'error',
      raw: stored.raw
    });
    const loserWasStale = input.wasStale(s.loser.rowNumber);
    const loserOutcome: Outcome = loserWasStale
      ? 'unchanged'
      : stored.inserted_in_run
        ? 'inserted'
        : stored.updated_in_run
          ? 'updated'
          : 'unchanged';
    if (!loserWasStale) {
      counts[loserOutcome] -= 1;
      counts.quarantined += 1;
      if (stored.loser_flagged) counts.flagged -= 1;
    }
    if (staleRows.has(winner.rowNumber)) continue;
    const winnerOutcome: Outcome =
      stored.content_hash !== winner.contentHash ? 'updated' : 'unchanged';
    const merged = RANK[loserOutcome] > RANK[winnerOutcome] ? loserOutcome : winnerOutcome;
    counts[winnerOutcome] -= 1;
    counts[merged] += 1;
  }

  return {
    problems,
    counts: { rowsRead: input.readCounts.rowsRead, ...counts },
    staleRows: [...staleRows]
  };
}
