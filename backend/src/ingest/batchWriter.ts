// Writes one batch of an import in one transaction: COPY the rows into a temporary table, upsert
// them into deals (only changed rows are written, never an older version over a newer one),
// upsert the reps, store the quarantined rows and the run's running totals. Each batch commits
// on its own, so a failure later in the file loses nothing already accepted.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

type Tx = postgres.TransactionSql;
type Outcome = 'inserted' | 'updated' | 'unchanged';
const RANK: Record<Outcome, number> = { unchanged: 0, updated: 1, inserted: 2 };

const COPY_ESCAPE = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return COPY_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/** One line of Postgres COPY text format (tab separated, \N for null). */
export function copyLine(r: CanonicalRow): string {
  return [
    String(r.rowNumber),
    copyText(r.externalId),
    copyText(r.ownerId),
    copyText(r.managerId),
    copyText(r.accountId),
    copyText(r.industry),
    copyText(r.region),
    copyText(r.productType),
    copyText(r.leadSource),
    copyText(r.stage),
    String(r.amount),
    r.createdDate,
    r.closedDate ?? '\\N',
    r.salesCycleDays === null ? '\\N' : String(r.salesCycleDays),
    r.outcome ?? '\\N',
    copyText(JSON.stringify(r.attributes)),
    r.contentHash
  ].join('\t');
}

const RECENCY_B = `(COALESCE(b.closed_date, '-infinity'::date), b.created_date)`;
const RECENCY_D = `(COALESCE(d.closed_date, '-infinity'::date), d.created_date)`;

async function copyRows(tx: Tx, rows: BatchRow[]): Promise<void> {
  await tx`
    CREATE TEMP TABLE import_batch (
      row_number integer NOT NULL, external_id text NOT NULL, owner_id text NOT NULL,
      manager_id text, account_id text, industry text NOT NULL, region text, product_type text,
      lead_source text, stage text, amount double precision NOT NULL, created_date date NOT NULL,
      closed_date date, sales_cycle_days integer, outcome text, attributes jsonb NOT NULL,
      content_hash text NOT NULL
    ) ON COMMIT DROP`;
  if (rows.length === 0) return;
  const text = rows.map((r) => copyLine(r.row)).join('\n') + '\n';
  const writable = await tx`COPY import_batch FROM STDIN`.writable();
  await pipeline(Readable.from([text]), writable);
}

interface StoredVersion {
  external_id: string;
  content_hash: string;
  inserted_in_run: boolean;
  updated_in_run: boolean;
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

interface StaleRow {
  row_number: number;
  external_id: string;
  closed: string | null;
  created: string;
}

async function findStale(tx: Tx, orgId: string): Promise<StaleRow[]> {
  return tx<StaleRow[]>`
    SELECT b.row_number, b.external_id, d.closed_date::text AS closed, d.created_date::text AS created
      FROM import_batch b
      JOIN deals d ON d.org_id = ${orgId} AND d.external_id = b.external_id
     WHERE ${tx.unsafe(RECENCY_B)} < ${tx.unsafe(RECENCY_D)}`;
}

async function upsertDeals(tx: Tx, orgId: string): Promise<{ inserted: number; updated: number }> {
  const [counts] = await tx<{ inserted: number; updated: number }[]>`
    WITH up AS (
      INSERT INTO deals AS d (org_id, external_id, owner_id, manager_id, account_id, industry,
                              region, product_type, lead_source, stage, amount, created_date,
                              closed_date, sales_cycle_days, outcome, attributes, content_hash)
      SELECT ${orgId}, external_id, owner_id, manager_id, account_id, industry, region,
             product_type, lead_source, stage, amount, created_date, closed_date,
             sales_cycle_days, outcome, attributes, content_hash
        FROM import_batch
      ON CONFLICT (org_id, external_id) DO UPDATE SET
        owner_id = EXCLUDED.owner_id, manager_id = EXCLUDED.manager_id,
        account_id = EXCLUDED.account_id, industry = EXCLUDED.industry,
        region = EXCLUDED.region, product_type = EXCLUDED.product_type,
        lead_source = EXCLUDED.lead_source, stage = EXCLUDED.stage, amount = EXCLUDED.amount,
        created_date = EXCLUDED.created_date, closed_date = EXCLUDED.closed_date,
        sales_cycle_days = EXCLUDED.sales_cycle_days, outcome = EXCLUDED.outcome,
        attributes = EXCLUDED.attributes, content_hash = EXCLUDED.content_hash,
        updated_at = now()
      WHERE d.content_hash IS DISTINCT FROM EXCLUDED.content_hash
        AND (COALESCE(EXCLUDED.closed_date, '-infinity'::date), EXCLUDED.created_date)
            >= ${tx.unsafe(RECENCY_D)}
      RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted,
           count(*) FILTER (WHERE NOT inserted)::int AS updated
      FROM up`;
  return counts!;
}

/** Reps (and their managers) of the batch become users of the org. */
async function upsertUsers(tx: Tx, orgId: string): Promise<void> {
  await tx`
    INSERT INTO users (org_id, id, manager_id, role)
    SELECT DISTINCT ON (owner_id) ${orgId}, owner_id, manager_id, 'rep'
      FROM import_batch ORDER BY owner_id, manager_id NULLS LAST
    ON CONFLICT (org_id, id) DO UPDATE SET manager_id = EXCLUDED.manager_id, updated_at = now()
    WHERE EXCLUDED.manager_id IS NOT NULL
      AND users.manager_id IS DISTINCT FROM EXCLUDED.manager_id`;
  await tx`
    INSERT INTO users (org_id, id, role)
    SELECT DISTINCT ${orgId}, manager_id, 'manager' FROM import_batch WHERE manager_id IS NOT NULL
    ON CONFLICT (org_id, id) DO NOTHING`;
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

export async function writeBatch(sql: postgres.Sql, input: BatchInput): Promise<BatchResult> {
  return sql.begin(async (tx) => {
    await copyRows(tx, input.rows);
    const superseded = await readSuperseded(tx, input);
    const stale = input.checkStale && input.rows.length > 0 ? await findStale(tx, input.orgId) : [];
    const { inserted, updated } =
      input.rows.length > 0 ? await upsertDeals(tx, input.orgId) : { inserted: 0, updated: 0 };
    if (input.rows.length > 0) await upsertUsers(tx, input.orgId);

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
    const counts: Record<Outcome, number> & { quarantined: number } = {
      inserted,
      updated,
      unchanged: input.rows.length - inserted - updated - stale.length,
      quarantined: input.readCounts.quarantined + stale.length
    };
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
      flagged: before.flagged + input.readCounts.flagged
    };
    await tx`
      UPDATE import_runs SET rows_read = ${totals.rowsRead}, inserted = ${totals.inserted},
             updated = ${totals.updated}, unchanged = ${totals.unchanged},
             quarantined = ${totals.quarantined}, flagged = ${totals.flagged}
       WHERE id = ${input.runId}`;
    return { totals, staleRows: [...staleRows] };
  }) as Promise<BatchResult>;
}
