// Score versions: an append-only history per deal. A new row is written only when the result's
// hash differs from the deal's latest; deals.latest_score_id/hash point at the newest row.
import type { Database } from '../client.ts';
import { asDate, type Queryable } from './deals.ts';
import type {
  Confidence,
  Explanation,
  RiskBand,
  RsfsBand,
  ScoreMethod,
  ScoreResult
} from '../../scoring/types.ts';

/** One score to store for one deal. */
export interface NewScoreVersion {
  dealId: number;
  /** The deal's latest_score_id when it was read: the row is written only if it still is. */
  previousScoreId: number | null;
  /** previous version + 1 */
  version: number;
  result: ScoreResult;
  resultHash: string;
  sourceModstamp: Date | null;
}

/**
 * A score version ready to store: its COPY text without the id (drawn at write time). Built as
 * soon as a deal is scored, so a batch keeps one string per deal instead of the result graph.
 */
export interface PreparedScoreVersion {
  dealId: number;
  previousScoreId: number | null;
  version: number;
  resultHash: string;
  /** Tab-separated columns after the id, newline-terminated (COPY text format). */
  tail: string;
}

export interface WrittenScoreVersion {
  id: number;
  dealId: number;
  version: number;
}

/** What `factors` holds: the exact explanation (baseline + every contribution = logit). */
export type StoredFactors = Explanation;

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

const num = (x: number | null | undefined): string =>
  x === null || x === undefined ? '\\N' : String(x);

/** The COPY text of a score version (all columns but the id). */
export function prepareScoreVersion(
  orgId: string,
  v: NewScoreVersion,
  opts: { modelVersionId: number | null; scoredAt: Date }
): PreparedScoreVersion {
  const r = v.result;
  const f = r.rsfs;
  const tail =
    `${copyText(orgId)}\t${v.dealId}\t${v.version}\t${num(r.probability)}\t${r.riskBand}\t` +
    `${r.confidence}\t${r.method}\t${copyText(JSON.stringify(r.explanation))}\t` +
    `${num(f?.rsfs)}\t${f ? f.band : '\\N'}\t${num(f?.n)}\t${num(f?.low)}\t${num(f?.high)}\t` +
    `${num(opts.modelVersionId)}\t${v.resultHash}\t` +
    `${v.sourceModstamp ? v.sourceModstamp.toISOString() : '\\N'}\t${opts.scoredAt.toISOString()}\n`;
  return {
    dealId: v.dealId,
    previousScoreId: v.previousScoreId,
    version: v.version,
    resultHash: v.resultHash,
    tail
  };
}

/**
 * Stores score versions and moves each deal's pointer to its new version. A deal whose
 * latest_score_id is no longer `previousScoreId` (another writer got there first) is skipped.
 * Two statements, inside the caller's transaction: one UPDATE moves the pointers (taking the
 * deal row locks first, like every other writer, and drawing the new ids from the sequence),
 * then COPY writes the versions of the deals that moved.
 */
export async function insertScoreVersions(
  sql: Queryable,
  orgId: string,
  rows: PreparedScoreVersion[]
): Promise<WrittenScoreVersion[]> {
  if (rows.length === 0) return [];
  const dealIds = rows.map((r) => r.dealId);
  const prevIds = rows.map((r) => r.previousScoreId);
  const hashes = rows.map((r) => r.resultHash);
  const moved = await sql<{ id: string; latest_score_id: string }[]>`
    UPDATE deals d SET latest_score_id = nextval('score_versions_id_seq'), latest_score_hash = u.hash
    FROM unnest(${dealIds}::bigint[], ${prevIds}::bigint[], ${hashes}::text[])
      AS u(deal_id, prev_id, hash)
    WHERE d.id = u.deal_id AND d.org_id = ${orgId}
      AND d.latest_score_id IS NOT DISTINCT FROM u.prev_id
    RETURNING d.id, d.latest_score_id`;
  if (moved.length === 0) return [];
  const newId = new Map<number, string>();
  for (const m of moved) newId.set(Number(m.id), m.latest_score_id);

  const written: WrittenScoreVersion[] = [];
  const chunks: string[] = [];
  for (const row of rows) {
    const id = newId.get(row.dealId);
    if (id === undefined) continue;
    chunks.push(id, '\t', row.tail);
    written.push({ id: Number(id), dealId: row.dealId, version: row.version });
  }
  const copy = await sql`
    COPY score_versions (id, org_id, deal_id, version, probability, risk_band, confidence, method,
      factors, rsfs, rsfs_band, rsfs_sample_size, rsfs_low, rsfs_high, model_version_id,
      result_hash, source_modstamp, scored_at) FROM STDIN`.writable();
  await new Promise<void>((resolve, reject) => {
    copy.on('error', reject);
    copy.on('finish', resolve);
    copy.end(chunks.join(''));
  });
  return written;
}

/**
 * For each deal, the probability of its latest version scored at or before `before`
 * (the baseline of the 7-day change). Deals without such a version are absent.
 */
export async function probabilitiesAsOf(
  sql: Queryable,
  orgId: string,
  dealIds: number[],
  before: Date
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (dealIds.length === 0) return out;
  const rows = await sql<{ deal_id: string; probability: number }[]>`
    SELECT DISTINCT ON (deal_id) deal_id, probability
    FROM score_versions
    WHERE org_id = ${orgId} AND deal_id = ANY(${dealIds}::bigint[]) AND scored_at <= ${before.toISOString()}::timestamptz
    ORDER BY deal_id, version DESC`;
  for (const r of rows) out.set(Number(r.deal_id), r.probability);
  return out;
}

/** A stored score version. */
export interface ScoreVersionRecord {
  id: number;
  dealId: number;
  version: number;
  probability: number;
  riskBand: RiskBand;
  confidence: Confidence;
  method: ScoreMethod;
  factors: StoredFactors;
  rsfs: number | null;
  rsfsBand: RsfsBand | null;
  rsfsSampleSize: number | null;
  rsfsLow: number | null;
  rsfsHigh: number | null;
  modelVersionId: number | null;
  resultHash: string;
  sourceModstamp: Date | null;
  scoredAt: Date;
}

interface VersionRow {
  id: string;
  deal_id: string;
  version: number;
  probability: number;
  risk_band: RiskBand;
  confidence: Confidence;
  method: ScoreMethod;
  factors: StoredFactors;
  rsfs: number | null;
  rsfs_band: RsfsBand | null;
  rsfs_sample_size: number | null;
  rsfs_low: number | null;
  rsfs_high: number | null;
  model_version_id: number | null;
  result_hash: string;
  source_modstamp: string | Date | null;
  scored_at: string | Date;
}

function toVersion(r: VersionRow): ScoreVersionRecord {
  return {
    id: Number(r.id),
    dealId: Number(r.deal_id),
    version: r.version,
    probability: r.probability,
    riskBand: r.risk_band,
    confidence: r.confidence,
    method: r.method,
    factors: r.factors,
    rsfs: r.rsfs,
    rsfsBand: r.rsfs_band,
    rsfsSampleSize: r.rsfs_sample_size,
    rsfsLow: r.rsfs_low,
    rsfsHigh: r.rsfs_high,
    modelVersionId: r.model_version_id,
    resultHash: r.result_hash,
    sourceModstamp: asDate(r.source_modstamp),
    scoredAt: asDate(r.scored_at)
  };
}

/** A deal's score history, newest first. */
export async function listScoreHistory(
  database: Database | { sql: Queryable },
  orgId: string,
  dealId: number,
  opts: { limit?: number } = {}
): Promise<ScoreVersionRecord[]> {
  const limit = opts.limit ?? 100;
  const rows = await database.sql<VersionRow[]>`
    SELECT * FROM score_versions WHERE org_id = ${orgId} AND deal_id = ${dealId}
    ORDER BY version DESC LIMIT ${limit}`;
  return rows.map(toVersion);
}

/** The latest score of a deal (what deals.latest_score_id points at), or null. */
export async function getLatestScore(
  database: Database | { sql: Queryable },
  orgId: string,
  dealId: number
): Promise<ScoreVersionRecord | null> {
  const rows = await database.sql<VersionRow[]>`
    SELECT s.* FROM deals d JOIN score_versions s ON s.id = d.latest_score_id
    WHERE d.org_id = ${orgId} AND d.id = ${dealId}`;
  return rows[0] ? toVersion(rows[0]) : null;
}

/** A deal's latest score, as exported by `score` and shown by the demo. */
export interface LatestScoreRow {
  dealId: number;
  externalId: string;
  ownerId: string;
  industry: string;
  amount: number;
  probability: number;
  riskBand: RiskBand;
  rsfs: number | null;
  rsfsBand: RsfsBand | null;
  rsfsSampleSize: number | null;
  confidence: Confidence;
  method: ScoreMethod;
  factors: StoredFactors;
  version: number;
  scoredAt: Date;
}

interface LatestRow {
  id: string;
  external_id: string;
  owner_id: string;
  industry: string;
  amount: number;
  probability: number;
  risk_band: RiskBand;
  rsfs: number | null;
  rsfs_band: RsfsBand | null;
  rsfs_sample_size: number | null;
  confidence: Confidence;
  method: ScoreMethod;
  factors: StoredFactors;
  version: number;
  scored_at: string | Date;
}

function toLatest(r: LatestRow): LatestScoreRow {
  return {
    dealId: Number(r.id),
    externalId: r.external_id,
    ownerId: r.owner_id,
    industry: r.industry,
    amount: r.amount,
    probability: r.probability,
    riskBand: r.risk_band,
    rsfs: r.rsfs,
    rsfsBand: r.rsfs_band,
    rsfsSampleSize: r.rsfs_sample_size,
    confidence: r.confidence,
    method: r.method,
    factors: r.factors,
    version: r.version,
    scoredAt: asDate(r.scored_at)
  };
}

/**
 * Streams every live, scored deal's latest score in deal id order, `batch` rows at a time
 * (a server-side cursor: bounded memory for a million rows).
 */
export async function forEachLatestScore(
  database: Database | { sql: Queryable },
  orgId: string,
  opts: { openOnly: boolean; batch?: number },
  onRows: (rows: LatestScoreRow[]) => Promise<void> | void
): Promise<void> {
  const sql = database.sql;
  const open = opts.openOnly ? sql`AND d.outcome IS NULL` : sql``;
  const cursor = sql<LatestRow[]>`
    SELECT d.id, d.external_id, d.owner_id, d.industry, d.amount, s.probability, s.risk_band, s.rsfs,
      s.rsfs_band, s.rsfs_sample_size, s.confidence, s.method, s.factors, s.version, s.scored_at
    FROM deals d JOIN score_versions s ON s.id = d.latest_score_id
    WHERE d.org_id = ${orgId} AND d.deleted_at IS NULL ${open}
    ORDER BY d.id`.cursor(opts.batch ?? 5_000);
  for await (const rows of cursor) await onRows(rows.map(toLatest));
}

/** The open deals with the lowest win probability (the riskiest), latest scores. */
export async function listRiskiestOpenDeals(
  database: Database | { sql: Queryable },
  orgId: string,
  limit: number
): Promise<LatestScoreRow[]> {
  const rows = await database.sql<LatestRow[]>`
    SELECT d.id, d.external_id, d.owner_id, d.industry, d.amount, s.probability, s.risk_band, s.rsfs,
      s.rsfs_band, s.rsfs_sample_size, s.confidence, s.method, s.factors, s.version, s.scored_at
    FROM deals d JOIN score_versions s ON s.id = d.latest_score_id
    WHERE d.org_id = ${orgId} AND d.deleted_at IS NULL AND d.outcome IS NULL
    ORDER BY CASE s.risk_band WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END,
      s.probability, d.amount DESC, d.id
    LIMIT ${limit}`;
  return rows.map(toLatest);
}
