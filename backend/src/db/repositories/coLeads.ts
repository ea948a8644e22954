// Co-lead suggestions: upserted by a stable external id shared with Salesforce
// (`${orgId}:${dealExternalId}:${repId}`), so rescoring never duplicates them. A suggestion
// that is no longer proposed becomes 'expired'; approved and rejected ones are decisions and
// are never touched by scoring.
import type postgres from 'postgres';
import type { Database } from '../client.ts';
import { BinaryRowWriter, copyBinaryIn } from '../copyBinary.ts';
import { asDate, type Queryable } from './deals.ts';
import type { CoLeadCandidate, CoLeadState } from '../../scoring/types.ts';

export type CoLeadStatus = 'proposed' | 'approved' | 'rejected' | 'expired';

export function coLeadExternalId(orgId: string, dealExternalId: string, repId: string): string {
  return `${orgId}:${dealExternalId}:${repId}`;
}

/** The suggestions proposed for one deal by its newest score. */
export interface DealCoLeads {
  dealId: number;
  dealExternalId: string;
  scoreVersionId: number;
  ownerRsfs: number | null;
  candidates: CoLeadCandidate[];
}

export interface CoLeadRecord {
  id: number;
  dealId: number;
  externalId: string;
  suggestedRepId: string;
  segment: string;
  winRate: number;
  sampleSize: number;
  rank: number;
  isPrimary: boolean;
  reason: string;
  status: CoLeadStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  ownerRsfs: number | null;
  salesforceId: string | null;
  teamMemberId: string | null;
  scoreVersionId: number | null;
  updatedAt: Date;
}

/**
 * Replaces the proposed suggestions of these deals with their new candidates: new ones are
 * inserted as proposed, existing proposed or expired ones are updated (an expired one proposed
 * again is proposed again), decided ones are left as they are, and proposed ones that are no
 * longer candidates become expired. Unchanged rows are not rewritten.
 * Returns the ids of the deals whose suggestions changed.
 */
export async function replaceCoLeadSuggestions(
  sql: Queryable,
  orgId: string,
  deals: DealCoLeads[]
): Promise<Set<number>> {
  const touched = new Set<number>();
  if (deals.length === 0) return touched;
  const dealId: number[] = [];
  const externalId: string[] = [];
  const rep: string[] = [];
  const segment: string[] = [];
  const winRate: number[] = [];
  const sampleSize: number[] = [];
  const rank: number[] = [];
  const isPrimary: boolean[] = [];
  const reason: string[] = [];
  const ownerRsfs: (number | null)[] = [];
  const scoreVersionId: number[] = [];
  for (const d of deals) {
    for (const c of d.candidates) {
      dealId.push(d.dealId);
      externalId.push(coLeadExternalId(orgId, d.dealExternalId, c.repId));
      rep.push(c.repId);
      segment.push(c.segment);
      winRate.push(c.winRate);
      sampleSize.push(c.sampleSize);
      rank.push(c.rank);
      isPrimary.push(c.isPrimary);
      reason.push(c.reason);
      ownerRsfs.push(d.ownerRsfs);
      scoreVersionId.push(d.scoreVersionId);
    }
  }
  if (dealId.length > 0) {
    const upserted = await sql<{ deal_id: string }[]>`
      INSERT INTO co_lead_suggestions AS c (org_id, deal_id, external_id, suggested_rep_id, segment,
        win_rate, sample_size, rank, is_primary, reason, status, owner_rsfs, score_version_id)
      SELECT ${orgId}, u.deal_id, u.external_id, u.rep, u.segment, u.win_rate, u.sample_size, u.rank,
        u.is_primary, u.reason, 'proposed', u.owner_rsfs, u.score_version_id
      FROM unnest(${dealId}::bigint[], ${externalId}::text[], ${rep}::text[], ${segment}::text[],
        ${winRate}::float8[], ${sampleSize}::int[], ${rank}::int[],
        ${isPrimary.map((b) => (b ? 't' : 'f'))}::text[]::bool[],
        ${reason}::text[], ${ownerRsfs}::float8[], ${scoreVersionId}::bigint[])
        AS u(deal_id, external_id, rep, segment, win_rate, sample_size, rank, is_primary, reason,
          owner_rsfs, score_version_id)
      ON CONFLICT (org_id, external_id) DO UPDATE SET
        segment = EXCLUDED.segment, win_rate = EXCLUDED.win_rate,
        sample_size = EXCLUDED.sample_size, rank = EXCLUDED.rank, is_primary = EXCLUDED.is_primary,
        reason = EXCLUDED.reason, status = 'proposed', owner_rsfs = EXCLUDED.owner_rsfs,
        score_version_id = EXCLUDED.score_version_id, updated_at = now()
      WHERE c.status IN ('proposed', 'expired')
        AND (c.status, c.segment, c.win_rate, c.sample_size, c.rank, c.is_primary, c.reason,
          c.owner_rsfs) IS DISTINCT FROM ('proposed', EXCLUDED.segment, EXCLUDED.win_rate,
          EXCLUDED.sample_size, EXCLUDED.rank, EXCLUDED.is_primary, EXCLUDED.reason,
          EXCLUDED.owner_rsfs)
      RETURNING deal_id`;
    for (const r of upserted) touched.add(Number(r.deal_id));
  }
  // Proposed rows that are no longer candidates: found here and expired by id (an anti-join
  // against the new candidates in SQL is slow to plan well for 10,000-deal batches).
  const keep = new Set<string>();
  for (let i = 0; i < dealId.length; i++) keep.add(`${dealId[i]}\u0001${rep[i]}`);
  const current = await sql<{ id: string; deal_id: string; suggested_rep_id: string }[]>`
    SELECT id, deal_id, suggested_rep_id FROM co_lead_suggestions
    WHERE org_id = ${orgId} AND status = 'proposed'
      AND deal_id = ANY(${deals.map((d) => d.dealId)}::bigint[])`;
  const stale = current.filter((c) => !keep.has(`${c.deal_id}\u0001${c.suggested_rep_id}`));
  if (stale.length > 0) {
    await sql`
      UPDATE co_lead_suggestions SET status = 'expired', updated_at = now()
      WHERE org_id = ${orgId} AND id = ANY(${stale.map((c) => c.id)}::bigint[])`;
    for (const c of stale) touched.add(Number(c.deal_id));
  }
  return touched;
}

/**
 * Inserts the suggestions of deals scored for the first time (they cannot have any yet: a
 * suggestion is only written with a score version) with COPY, the cheap path for a first
 * rescore of a large import. If a row exists after all, nothing is written (a savepoint rolls
 * the COPY back) and the caller's upsert path handles these deals: returns false.
 */
export async function copyFirstCoLeadSuggestions(
  sql: postgres.TransactionSql,
  orgId: string,
  deals: DealCoLeads[]
): Promise<boolean> {
  // Binary rows: reps, segments and reasons repeat across deals (a reason is built once per
  // owner and segment), so each is encoded once; only the numbers and the external id are new.
  const out = new BinaryRowWriter(deals.length * 3 * 200);
  const org = Buffer.from(orgId, 'utf8');
  let rows = 0;
  for (const d of deals) {
    for (const c of d.candidates) {
      out.row(COPY_FIELDS);
      out.bytes(org);
      out.int8(d.dealId, 'deal id');
      out.text(coLeadExternalId(orgId, d.dealExternalId, c.repId));
      out.cachedText(c.repId, repeated, REPEATED_LIMIT);
      out.cachedText(c.segment, repeated, REPEATED_LIMIT);
      out.float8(c.winRate);
      out.int4(c.sampleSize, 'sample size');
      out.int4(c.rank, 'rank');
      out.bool(c.isPrimary);
      out.cachedText(c.reason, repeated, REPEATED_LIMIT);
      out.bytes(PROPOSED);
      if (d.ownerRsfs === null) out.null();
      else out.float8(d.ownerRsfs);
      out.int8(d.scoreVersionId, 'score version id');
      rows++;
    }
  }
  if (rows === 0) return true;
  try {
    await sql.savepoint((sp) =>
      copyBinaryIn(
        sp,
        sp`
          COPY co_lead_suggestions (org_id, deal_id, external_id, suggested_rep_id, segment,
            win_rate, sample_size, rank, is_primary, reason, status, owner_rsfs, score_version_id)
          FROM STDIN (FORMAT binary)`,
        [out.take()],
        'co_lead_suggestions'
      )
    );
    return true;
  } catch (err) {
    // A row that exists already (unique_violation), which the copy reports as the aborted
    // transaction (in_failed_sql_transaction): the upsert path takes these deals.
    const code = (err as { code?: string }).code;
    if (code === '23505' || code === '25P02') return false;
    throw err;
  }
}

/** Fields per row of copyFirstCoLeadSuggestions's COPY. */
const COPY_FIELDS = 13;
/** Encoded reps, segments and reasons (see BinaryRowWriter.cachedText). */
const repeated = new Map<string, Buffer>();
const PROPOSED = Buffer.from('proposed');
/** Reasons: per owner, segment, rank and primary or not; room for a large team's. */
const REPEATED_LIMIT = 50_000;

interface CoLeadRow {
  id: string;
  deal_id: string;
  external_id: string;
  suggested_rep_id: string;
  segment: string;
  win_rate: number;
  sample_size: number;
  rank: number;
  is_primary: boolean;
  reason: string;
  status: CoLeadStatus;
  decided_by: string | null;
  decided_at: string | Date | null;
  owner_rsfs: number | null;
  salesforce_id: string | null;
  team_member_id: string | null;
  score_version_id: string | null;
  updated_at: string | Date;
}

function toRecord(r: CoLeadRow): CoLeadRecord {
  return {
    id: Number(r.id),
    dealId: Number(r.deal_id),
    externalId: r.external_id,
    suggestedRepId: r.suggested_rep_id,
    segment: r.segment,
    winRate: r.win_rate,
    sampleSize: r.sample_size,
    rank: r.rank,
    isPrimary: r.is_primary,
    reason: r.reason,
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: asDate(r.decided_at),
    ownerRsfs: r.owner_rsfs,
    salesforceId: r.salesforce_id,
    teamMemberId: r.team_member_id,
    scoreVersionId: r.score_version_id === null ? null : Number(r.score_version_id),
    updatedAt: asDate(r.updated_at)
  };
}

const COLUMNS = `id, deal_id, external_id, suggested_rep_id, segment, win_rate, sample_size, rank,
  is_primary, reason, status, decided_by, decided_at, owner_rsfs, salesforce_id, team_member_id,
  score_version_id, updated_at`;

/** Every suggestion (any status) of these deals, by deal, rank order. */
export async function listCoLeadsForDeals(
  sql: Queryable,
  orgId: string,
  dealIds: number[]
): Promise<Map<number, CoLeadRecord[]>> {
  const out = new Map<number, CoLeadRecord[]>();
  if (dealIds.length === 0) return out;
  const rows = await sql<CoLeadRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM co_lead_suggestions
    WHERE org_id = ${orgId} AND deal_id = ANY(${dealIds}::bigint[])
    ORDER BY deal_id, rank, id`;
  for (const r of rows) {
    const rec = toRecord(r);
    const list = out.get(rec.dealId);
    if (list) list.push(rec);
    else out.set(rec.dealId, [rec]);
  }
  return out;
}

/** Suggestions of an org, optionally by status, newest first (demo, API). */
export async function listCoLeadSuggestions(
  database: Database | { sql: Queryable },
  orgId: string,
  opts: { status?: CoLeadStatus; limit?: number } = {}
): Promise<CoLeadRecord[]> {
  const sql = database.sql;
  const status = opts.status ? sql`AND status = ${opts.status}` : sql``;
  const rows = await sql<CoLeadRow[]>`
    SELECT ${sql.unsafe(COLUMNS)} FROM co_lead_suggestions
    WHERE org_id = ${orgId} ${status}
    ORDER BY updated_at DESC, deal_id, rank LIMIT ${opts.limit ?? 100}`;
  return rows.map(toRecord);
}

/** Records a manager's decision (approved / rejected) on a suggestion, by its external id. */
export async function decideCoLeadSuggestion(
  database: Database | { sql: Queryable },
  orgId: string,
  externalId: string,
  decision: { status: 'approved' | 'rejected'; decidedBy: string | null; decidedAt: Date }
): Promise<CoLeadRecord | null> {
  const sql = database.sql;
  const rows = await sql<CoLeadRow[]>`
    UPDATE co_lead_suggestions SET status = ${decision.status}, decided_by = ${decision.decidedBy},
      decided_at = ${decision.decidedAt.toISOString()}::timestamptz, updated_at = now()
    WHERE org_id = ${orgId} AND external_id = ${externalId}
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * The co-lead state scoring needs: the round-robin cursor; each rep's load (primary
 * suggestions proposed or approved on live open deals) for every rep, some reps, or none
 * (`load: false`, when no primary will be chosen); and the current primary of the given deals
 * (or of every deal when 'all') so a rescore keeps it while it is still a candidate.
 * `assigned` is keyed by deal external id (the scoring core's Deal.id).
 */
export async function loadCoLeadState(
  sql: Queryable,
  orgId: string,
  dealIds: number[] | 'all',
  opts: { load: false | string[] | 'all' }
): Promise<CoLeadState> {
  const load: Record<string, number> = {};
  if (opts.load === 'all' || (opts.load && opts.load.length > 0)) {
    const reps =
      opts.load === 'all' ? sql`` : sql`AND c.suggested_rep_id = ANY(${opts.load}::text[])`;
    const loadRows = await sql<{ rep: string; load: string }[]>`
      SELECT c.suggested_rep_id AS rep, count(*) AS load
      FROM co_lead_suggestions c JOIN deals d ON d.id = c.deal_id
      WHERE c.org_id = ${orgId} AND c.is_primary AND c.status IN ('proposed', 'approved') ${reps}
        AND d.org_id = ${orgId} AND d.outcome IS NULL AND d.deleted_at IS NULL
      GROUP BY c.suggested_rep_id`;
    for (const r of loadRows) load[r.rep] = Number(r.load);
  }

  const cursorRows = await sql<{ cursor: number }[]>`
    SELECT cursor FROM co_lead_state WHERE org_id = ${orgId}`;
  const cursor = cursorRows[0]?.cursor ?? 0;

  const assigned: Record<string, string> = {};
  if (dealIds === 'all' || dealIds.length > 0) {
    const which = dealIds === 'all' ? sql`` : sql`AND c.deal_id = ANY(${dealIds}::bigint[])`;
    const rows = await sql<{ deal: string; rep: string }[]>`
      SELECT d.external_id AS deal, c.suggested_rep_id AS rep
      FROM co_lead_suggestions c JOIN deals d ON d.id = c.deal_id
      WHERE c.org_id = ${orgId} AND c.is_primary AND c.status IN ('proposed', 'approved')
        AND d.org_id = ${orgId} AND d.deleted_at IS NULL ${which}`;
    for (const r of rows) assigned[r.deal] = r.rep;
  }
  return { load, cursor, assigned };
}

/** Persists the round-robin cursor (no write when it did not move). */
export async function saveCoLeadCursor(
  sql: Queryable,
  orgId: string,
  cursor: number
): Promise<void> {
  await sql`
    INSERT INTO co_lead_state (org_id, cursor) VALUES (${orgId}, ${cursor})
    ON CONFLICT (org_id) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
    WHERE co_lead_state.cursor IS DISTINCT FROM EXCLUDED.cursor`;
}
