// Writes one batch of an import in one transaction: upsert the rows into deals (only changed
// rows are written, never an older version over a newer one),
// upsert the reps, store the quarantined rows and the run's running totals. Each batch commits
// on its own, so a failure later in the file loses nothing already accepted.
import type postgres from 'postgres';
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
  /** Look for stored deals more recent than the incoming rows (needless for a new org). */
  checkStale: boolean;
  /** Every row is new to the org (its first import, no row replacing an earlier one). */
  allNew: boolean;
  /** Whether a row of an earlier batch was rejected as older than the stored deal. */
  wasStale: (rowNumber: number) => boolean;
  rawOf: (values: string[]) => Record<string, unknown>;
  /** Counts known before the database is involved: rows read, quarantined, flagged. */
  readCounts: Pick<ImportCounts, 'rowsRead' | 'quarantined' | 'flagged'>;
  totalsBefore: ImportCounts;
}

export interface BatchResult {
  totals: ImportCounts;
  /** Rows not applied because the stored deal is more recent. */
  staleRows: number[];
}

// Runs on the import's reserved connection, inside BEGIN ... COMMIT (see writeBatch).
type Tx = postgres.Sql;
type Outcome = 'inserted' | 'updated' | 'unchanged';
const RANK: Record<Outcome, number> = { unchanged: 0, updated: 1, inserted: 2 };

/**
 * The batch as one JSON parameter: per row [rowNumber, contentHash, ...canonicalJson], so the
 * JSON each row already has for its hash is reused, not built again. JSON rather than COPY:
 * postgres.js 3.4 leaves a failed COPY hanging inside a transaction (porsager/postgres#1173).
 */
export function batchPayload(rows: BatchRow[]): string {
  const parts: string[] = [];
  for (const { row } of rows) {
    parts.push(`[${row.rowNumber},"${row.contentHash}",${row.canonicalJson.slice(1)}`);
  }
  return `[${parts.join(',')}]`;
}

// The batch as a table, read from the JSON parameter $1 (columns in STORED_FIELDS order).
const BATCH_TABLE = `
  SELECT (e->>0)::int AS row_number, e->>1 AS content_hash, e->>2 AS external_id,
         e->>3 AS owner_id, e->>4 AS manager_id, e->>5 AS account_id, e->>6 AS industry,
         e->>7 AS region, e->>8 AS product_type, e->>9 AS lead_source, e->>10 AS stage,
         (e->>11)::double precision AS amount, (e->>12)::date AS created_date,
         (e->>13)::date AS closed_date, (e->>14)::int AS sales_cycle_days, e->>15 AS outcome,
         e->16 AS attributes
    FROM jsonb_array_elements($1::text::jsonb) AS e`;

// Recency order shared with duplicates.ts: closed_date (open = oldest), then created_date.
const recency = (t: string) => `(COALESCE(${t}.closed_date, '-infinity'::date), ${t}.created_date)`;

// Only changed rows are written, and never an older version over a newer one.
const UPSERT = `
  up AS (
    INSERT INTO deals AS d (org_id, external_id, owner_id, manager_id, account_id, industry,
                            region, product_type, lead_source, stage, amount, created_date,
                            closed_date, sales_cycle_days, outcome, attributes, content_hash)
    SELECT $2, external_id, owner_id, manager_id, account_id, industry, region, product_type,
           lead_source, stage, amount, created_date, closed_date, sales_cycle_days, outcome,
           attributes, content_hash
      FROM b
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
  )`;

const COUNTS = `
  (SELECT count(*) FILTER (WHERE inserted) FROM up)::int AS inserted,
  (SELECT count(*) FILTER (WHERE NOT inserted) FROM up)::int AS updated`;

const UPSERT_SQL = `WITH b AS (${BATCH_TABLE}), ${UPSERT}
  SELECT ${COUNTS}, '[]'::json AS stale`;

// Every part of one statement sees the same snapshot: `stale` compares with deals as they were
// before the upsert.
const UPSERT_CHECK_STALE_SQL = `WITH b AS MATERIALIZED (${BATCH_TABLE}),
  stale AS (
    SELECT b.row_number, b.external_id, d.closed_date::text AS closed,
           d.created_date::text AS created
      FROM b JOIN deals d ON d.org_id = $2 AND d.external_id = b.external_id
     WHERE ${recency('b')} < ${recency('d')}
  ), ${UPSERT}
  SELECT ${COUNTS}, (SELECT COALESCE(json_agg(stale), '[]'::json) FROM stale) AS stale`;

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

// A first import into an org with no deals: every row is a deal id seen for the first time in
// the file and the org had none, so a plain INSERT does (no ON CONFLICT: ~20% less work per row
// in Postgres). Only another process writing this org's deals at the same moment could collide;
// the batch then fails on the unique index and the run stops, having lost nothing.
const INSERT_NEW_SQL = `
  INSERT INTO deals (org_id, external_id, owner_id, manager_id, account_id, industry, region,
                     product_type, lead_source, stage, amount, created_date, closed_date,
                     sales_cycle_days, outcome, attributes, content_hash)
  SELECT $2, external_id, owner_id, manager_id, account_id, industry, region, product_type,
         lead_source, stage, amount, created_date, closed_date, sales_cycle_days, outcome,
         attributes, content_hash
    FROM (${BATCH_TABLE}) AS b`;

async function upsertDeals(tx: Tx, input: BatchInput): Promise<UpsertResult> {
  if (input.rows.length === 0) return { inserted: 0, updated: 0, stale: [] };
  if (input.allNew) {
    try {
      const result = await tx.unsafe(INSERT_NEW_SQL, [batchPayload(input.rows), input.orgId]);
      return { inserted: result.count, updated: 0, stale: [] };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new Error(
          `another process wrote deals of org ${input.orgId} during its first import ` +
            `(${(err as Error).message}); run the import again to merge the rest`
        );
      }
      throw err;
    }
  }
  const [result] = await tx.unsafe<UpsertResult[]>(
    input.checkStale ? UPSERT_CHECK_STALE_SQL : UPSERT_SQL,
    [batchPayload(input.rows), input.orgId]
  );
  return result!;
}

/** Reps (and their managers) of the batch become users of the org. */
async function upsertUsers(tx: Tx, input: BatchInput): Promise<void> {
  const managerOf = new Map<string, string | null>();
  for (const { row } of input.rows) {
    if (row.managerId !== null || !managerOf.has(row.ownerId)) {
      managerOf.set(row.ownerId, row.managerId);
    }
  }
  if (managerOf.size === 0) return;
  const managers = [...new Set([...managerOf.values()].filter((m): m is string => m !== null))];
  await tx`
    INSERT INTO users (org_id, id, manager_id, role)
    SELECT ${input.orgId}, u.id, u.manager_id, 'rep'
      FROM unnest(${[...managerOf.keys()]}::text[], ${[...managerOf.values()] as string[]}::text[])
           AS u(id, manager_id)
    ON CONFLICT (org_id, id) DO UPDATE SET manager_id = EXCLUDED.manager_id, updated_at = now()
    WHERE EXCLUDED.manager_id IS NOT NULL
      AND users.manager_id IS DISTINCT FROM EXCLUDED.manager_id`;
  if (managers.length > 0) {
    await tx`
      INSERT INTO users (org_id, id, role)
      SELECT ${input.orgId}, m, 'manager' FROM unnest(${managers}::text[]) AS m
      ON CONFLICT (org_id, id) DO NOTHING`;
  }
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

async function storeProblems(tx: Tx, input: BatchInput, problems: ProblemRecord[]): Promise<void> {
  if (problems.length > 0) {
    await tx`
      INSERT INTO quarantined_rows (org_id, import_run_id, row_number, field, reason, severity, raw)
      SELECT ${input.orgId}, ${input.runId}, p.row_number, p.field, p.reason, p.severity, p.raw::jsonb
        FROM unnest(${problems.map((p) => p.rowNumber)}::int[],
                    ${problems.map((p) => p.field) as string[]}::text[],
                    ${problems.map((p) => p.reason)}::text[],
                    ${problems.map((p) => p.severity)}::text[],
                    ${problems.map((p) => JSON.stringify(p.raw))}::text[])
             AS p(row_number, field, reason, severity, raw)`;
  }
  if (input.reasonUpdates.length > 0) {
    await tx`
      UPDATE quarantined_rows q SET reason = u.reason
        FROM unnest(${input.reasonUpdates.map((u) => u.rowNumber)}::int[],
                    ${input.reasonUpdates.map((u) => u.reason)}::text[]) AS u(row_number, reason)
       WHERE q.import_run_id = ${input.runId} AND q.row_number = u.row_number
         AND starts_with(q.reason, 'duplicate deal_id ')`;
  }
}

/** Writes one batch in one transaction on `conn` (a reserved connection: no pool juggling). */
export async function writeBatch(
  conn: postgres.ReservedSql,
  input: BatchInput
): Promise<BatchResult> {
  await conn`BEGIN`;
  try {
    const result = await writeInTransaction(conn, input);
    await conn`COMMIT`;
    return result;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {}); // the connection may be gone; the error says why
    throw err;
  }
}

async function writeInTransaction(tx: Tx, input: BatchInput): Promise<BatchResult> {
  // A stuck statement fails the batch (and so the run) instead of hanging the import.
  await tx`SET LOCAL statement_timeout = '5min'`;
  const superseded = await readSuperseded(tx, input);
  const { inserted, updated, stale } = await upsertDeals(tx, input);
  await upsertUsers(tx, input);

  const byRow = new Map(input.rows.map((r) => [r.row.rowNumber, r]));
  const byDeal = new Map(input.rows.map((r) => [r.row.externalId, r.row]));
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

  await storeProblems(tx, input, problems);

  const before = input.totalsBefore;
  const totals: ImportCounts = {
    rowsRead: before.rowsRead + input.readCounts.rowsRead,
    inserted: before.inserted + counts.inserted,
    updated: before.updated + counts.updated,
    unchanged: before.unchanged + counts.unchanged,
    quarantined: before.quarantined + counts.quarantined,
    flagged: before.flagged + counts.flagged
  };
  await tx`
      UPDATE import_runs SET rows_read = ${totals.rowsRead}, inserted = ${totals.inserted},
             updated = ${totals.updated}, unchanged = ${totals.unchanged},
             quarantined = ${totals.quarantined}, flagged = ${totals.flagged}
       WHERE id = ${input.runId}`;
  return { totals, staleRows: [...staleRows] };
}
