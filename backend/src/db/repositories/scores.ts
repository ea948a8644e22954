// Score versions: an append-only history per deal. A new row is written only when the result's
// hash differs from the deal's latest; deals.latest_score_id/hash point at the newest row.
import type { Database } from '../client.ts';
import { BinaryRowWriter, copyBinaryIn } from '../copyBinary.ts';
import type postgres from 'postgres';
import { RecurringValues } from '../../scoring/recurring.ts';
import { asDate, type Queryable } from './deals.ts';
import type {
  Confidence,
  Explanation,
  Factor,
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
 * Score versions ready to store: their binary COPY rows in one buffer (in order) and what
 * moving the deals' pointers needs. Built as soon as a slice of deals is
 * scored, so a batch holds a few buffers instead of thousands of result objects.
 */
export interface PreparedScoreVersions {
  dealIds: number[];
  previousScoreIds: (number | null)[];
  /** Drawn from the sequence beforehand (drawScoreVersionIds). */
  ids: string[];
  versions: number[];
  resultHashes: string[];
  /** One binary COPY tuple per version, in order (no header or trailer). */
  rows: Buffer;
  /** End offset in `rows` of each version's tuple. */
  ends: number[];
}

export interface WrittenScoreVersion {
  id: number;
  dealId: number;
  version: number;
}

/**
 * A stored explanation: the exact baseline and every contribution (baseline + contributions =
 * logit). `raising` / `lowering` (the top three each way) are not stored: they are the same
 * factors again and would make the document half as large once more, which is the bulk of a
 * batch rescore's write cost. They are derived on read (explanationFromStored); versions
 * stored before this carry them, and those are used as stored.
 *
 * Since migration 0014 a version stores it in two columns: `factors` lists each factor's
 * feature and label (StoredFactorLabels as JSON) and `contributions` holds the numbers,
 * [baseline, contribution 1, ..., contribution n]. Versions stored before have contributions
 * NULL and this whole document, as JSON, in `factors`.
 */
export interface StoredFactors {
  baseline: number;
  contributions: Factor[];
  raising?: Factor[];
  lowering?: Factor[];
}

/** What `factors` holds since migration 0014: each factor without its number. */
export type StoredFactorLabels = { feature: string; label: string }[];

/**
 * The three factors with the largest contribution of this sign (positive for 1, negative for
 * -1), largest effect first; ties keep the earlier factor. The scoring core's rule for
 * Explanation.raising / lowering (scoreDealsWithState), so a derived list equals the scored one.
 */
export function topFactors(contributions: Factor[], sign: 1 | -1): Factor[] {
  const top: Factor[] = [];
  for (const f of contributions) {
    const v = sign * f.contribution;
    if (!(v > 0)) continue;
    let at = top.length;
    while (at > 0 && v > sign * (top[at - 1] as Factor).contribution) at--;
    if (at < 3) {
      top.splice(at, 0, f);
      if (top.length > 3) top.pop();
    }
  }
  return top;
}

/**
 * The stored document of a version from its two columns: `factors` (the JSON text as read, or
 * parsed) and `contributions` (null for a version stored before migration 0014, whose factors
 * is the whole document). Throws when the two do not describe the same factors.
 */
export function storedDocument(factors: unknown, contributions: number[] | null): StoredFactors {
  const parsed: unknown = typeof factors === 'string' ? JSON.parse(factors) : factors;
  if (contributions === null) return parsed as StoredFactors;
  if (!Array.isArray(parsed)) {
    throw new Error('score version: factors is not a list, but contributions are stored');
  }
  const labels = parsed as StoredFactorLabels;
  if (contributions.length !== labels.length + 1) {
    throw new Error(
      `score version: ${contributions.length} numbers stored for ${labels.length} factors ` +
        '(expected the baseline and one per factor)'
    );
  }
  return {
    baseline: contributions[0] as number,
    contributions: labels.map((f, i) => ({
      feature: f.feature,
      label: f.label,
      contribution: contributions[i + 1] as number
    }))
  };
}

/**
 * The full explanation of a stored version (raising / lowering derived if absent), from its
 * factors and contributions columns (see storedDocument), or from a document itself.
 */
export function explanationFromStored(
  factors: StoredFactors | string,
  contributions: number[] | null = null
): Explanation {
  const stored = storedDocument(factors, contributions);
  const list = stored.contributions;
  return {
    baseline: stored.baseline,
    contributions: list,
    raising: stored.raising ?? topFactors(list, 1),
    lowering: stored.lowering ?? topFactors(list, -1)
  };
}

/**
 * Join condition of a deal `d` and its latest score version `s`: found by the primary key
 * (deal_id, version); the id check keeps a stale pointer from matching another version.
 */
export const latestScoreOfDeal = (sql: Queryable) =>
  sql`s.deal_id = d.id AND s.version = d.latest_score_version AND s.id = d.latest_score_id`;

/**
 * `count` new score version ids from the sequence, in one query. Draw them only after reading
 * the deals they are for: a deal's version ids must grow (the writeback outbox orders a deal's
 * scores by id), and an id drawn before the read could be smaller than one another writer drew
 * and stored in between (the pointer compare-and-swap would not notice).
 */
export async function drawScoreVersionIds(sql: Queryable, count: number): Promise<string[]> {
  if (count <= 0) return [];
  // One text value rather than a row per id: reading 10,000 rows cost more than drawing them.
  const [row] = await sql<{ ids: string }[]>`
    SELECT string_agg(nextval('score_versions_id_seq')::text, ',') AS ids
    FROM generate_series(1, ${count}::int)`;
  const ids = (row?.ids ?? '').split(',');
  if (ids.length !== count) throw new Error(`drew ${ids.length} score version ids, not ${count}`);
  return ids;
}

// The factors column is the hot part of a batch write. It is encoded straight into the COPY
// buffer, as JSON.stringify(factorLabels(e)) would print it, from fragments encoded once:
// `{"feature":F,"label":L}` for each (feature, label) seen before (most labels are shared:
// they depend on the model's tables, not the deal). Labels new for nearly every deal (the
// amount's) stop being cached. The numbers go to the contributions column as binary doubles.
function needsJsonEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** A JSON string literal: the same text as JSON.stringify(value). */
function jsonString(value: string): string {
  return needsJsonEscape(value) ? JSON.stringify(value) : `"${value}"`;
}

/** What the factors column stores of an explanation: each factor's feature and label. */
export function factorLabels(e: Explanation): StoredFactorLabels {
  return e.contributions.map((f) => ({ feature: f.feature, label: f.label }));
}

/** What the contributions column stores of an explanation: the baseline, then each factor's. */
export function contributionNumbers(e: Explanation): number[] {
  return [e.baseline, ...e.contributions.map((f) => f.contribution)];
}

/** `{"feature":F,"label":` per feature. */
const featurePrefixes = new Map<string, Buffer>();
/** `{"feature":F,"label":L}` per feature and label (see RecurringValues). */
const factorFragments = new RecurringValues<Buffer>(8_192);
const LIST_OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const FACTOR_CLOSE = Buffer.from('}');
const LIST_CLOSE = Buffer.from(']');

function featurePrefix(feature: string): Buffer {
  let prefix = featurePrefixes.get(feature);
  if (prefix === undefined) {
    if (featurePrefixes.size >= 1_000) featurePrefixes.clear(); // a guard: features are a few
    prefix = Buffer.from(`{"feature":${jsonString(feature)},"label":`);
    featurePrefixes.set(feature, prefix);
  }
  return prefix;
}

/** Writes the factors column of one version (factorLabels(e) as JSON) as a text field. */
export function writeFactorsJson(out: BinaryRowWriter, e: Explanation): void {
  const start = out.beginField();
  out.raw(LIST_OPEN);
  const list = e.contributions;
  for (let i = 0; i < list.length; i++) {
    const factor = list[i] as Factor;
    if (i > 0) out.raw(COMMA);
    const cached = factorFragments.get(factor.feature, factor.label);
    if (cached !== undefined) out.raw(cached);
    else if (!factorFragments.caching(factor.feature)) {
      out.raw(featurePrefix(factor.feature));
      out.utf8(jsonString(factor.label));
      out.raw(FACTOR_CLOSE);
    } else {
      const fragment = Buffer.concat([
        featurePrefix(factor.feature),
        Buffer.from(jsonString(factor.label)),
        FACTOR_CLOSE
      ]);
      factorFragments.set(factor.feature, factor.label, fragment);
      out.raw(fragment);
    }
  }
  out.raw(LIST_CLOSE);
  out.endField(start);
}

/** Writes the contributions column of one version (contributionNumbers(e)) as a float8[]. */
export function writeContributions(out: BinaryRowWriter, e: Explanation): void {
  const list = e.contributions;
  const start = out.float8ArrayStart(list.length + 1);
  out.float8(e.baseline);
  for (let i = 0; i < list.length; i++) out.float8((list[i] as Factor).contribution);
  out.endField(start);
}

/** Fields per score_versions row, in SCORE_VERSION_COLUMNS order. */
const FIELDS = 19;
const SCORE_VERSION_COLUMNS = `id, org_id, deal_id, version, probability, risk_band, confidence,
  method, factors, contributions, rsfs, rsfs_band, rsfs_sample_size, rsfs_low, rsfs_high,
  model_version_id, result_hash, source_modstamp, scored_at`;
/** Typical encoded row (most of it the factors list), to size a slice's buffer. */
const ROW_BYTES_GUESS = 1_000;

/** Encoded org ids, bands, confidences and methods (a handful of distinct values). */
const encodedValues = new Map<string, Buffer>();

/** The binary COPY rows of score versions with their allocated ids. */
export function prepareScoreVersions(
  orgId: string,
  items: NewScoreVersion[],
  ids: string[],
  opts: { modelVersionId: number | null; scoredAt: Date }
): PreparedScoreVersions {
  if (ids.length !== items.length) {
    throw new Error(`${ids.length} ids allocated for ${items.length} score versions`);
  }
  const out = new BinaryRowWriter(items.length * ROW_BYTES_GUESS);
  const ends = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = items[i] as NewScoreVersion;
    const r = v.result;
    const f = r.rsfs;
    out.row(FIELDS);
    out.int8(Number(ids[i]), 'score version id');
    out.cachedText(orgId, encodedValues);
    out.int8(v.dealId, 'deal id');
    out.int4(v.version, 'version');
    out.float8(r.probability);
    out.cachedText(r.riskBand, encodedValues);
    out.cachedText(r.confidence, encodedValues);
    out.cachedText(r.method, encodedValues);
    writeFactorsJson(out, r.explanation);
    writeContributions(out, r.explanation);
    if (f) {
      out.float8(f.rsfs);
      out.cachedText(f.band, encodedValues);
      out.int4(f.n, 'rsfs sample size');
      out.float8(f.low);
      out.float8(f.high);
    } else {
      for (let k = 0; k < 5; k++) out.null();
    }
    if (opts.modelVersionId === null) out.null();
    else out.int4(opts.modelVersionId, 'model version id');
    out.text(v.resultHash);
    if (v.sourceModstamp) out.timestamptz(v.sourceModstamp, 'source modstamp');
    else out.null();
    out.timestamptz(opts.scoredAt, 'scored at');
    ends[i] = out.length;
  }
  return {
    dealIds: items.map((v) => v.dealId),
    previousScoreIds: items.map((v) => v.previousScoreId),
    ids,
    versions: items.map((v) => v.version),
    resultHashes: items.map((v) => v.resultHash),
    rows: out.take(),
    ends
  };
}

/**
 * Stores prepared score versions and moves each deal's pointer to its new version. A deal
 * whose latest_score_id is no longer the one it was scored from (another writer got there
 * first) is skipped. Two statements, inside the caller's transaction: one UPDATE moves the
 * pointers (taking the deal row locks first, like every other writer), then COPY writes the
 * versions of the deals that moved.
 */
export async function insertScoreVersions(
  sql: postgres.TransactionSql,
  orgId: string,
  groups: PreparedScoreVersions[]
): Promise<WrittenScoreVersion[]> {
  const total = groups.reduce((n, g) => n + g.dealIds.length, 0);
  if (total === 0) return [];
  // Each column goes as one comma-separated text, split by Postgres: array parameters cost a
  // serialization and escaping pass per element here. The values are numbers and hashes
  // ([0-9a-z:]), never commas; a missing previous id is written as NULL.
  const csv = (column: (g: PreparedScoreVersions) => readonly (number | string | null)[]) =>
    groups
      .map((g) =>
        column(g)
          .map((v) => v ?? 'NULL')
          .join(',')
      )
      .join(',');
  // The batch's id range bounds the scan of deals: without it the planner's merge join read
  // deals_pkey from the org's first deal on, every batch (measured: 150,000 index entries for
  // the 15th batch of 10,000, and more for each later one).
  let lowest = Infinity;
  let highest = -Infinity;
  for (const g of groups) {
    for (const id of g.dealIds) {
      if (id < lowest) lowest = id;
      if (id > highest) highest = id;
    }
  }
  const moved = await sql<{ id: string }[]>`
    UPDATE deals d
    SET latest_score_id = u.id, latest_score_hash = u.hash, latest_score_version = u.version
    FROM unnest(
      string_to_array(${csv((g) => g.dealIds)}, ',')::bigint[],
      string_to_array(${csv((g) => g.previousScoreIds)}, ',', 'NULL')::bigint[],
      string_to_array(${csv((g) => g.ids)}, ',')::bigint[],
      string_to_array(${csv((g) => g.resultHashes)}, ','),
      string_to_array(${csv((g) => g.versions)}, ',')::int[])
      AS u(deal_id, prev_id, id, hash, version)
    WHERE d.id = u.deal_id AND d.org_id = ${orgId}
      AND d.id BETWEEN ${lowest} AND ${highest}
      AND d.latest_score_id IS NOT DISTINCT FROM u.prev_id
    RETURNING d.id`;
  if (moved.length === 0) return [];
  const all = moved.length === total;
  const movedIds = new Set(all ? [] : moved.map((m) => Number(m.id)));
  const written: WrittenScoreVersion[] = [];
  const chunks: Uint8Array[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.dealIds.length; i++) {
      const dealId = g.dealIds[i] as number;
      if (!all && !movedIds.has(dealId)) continue;
      // Rows are self-delimiting tuples, so a skipped deal's row can be left out.
      if (!all) chunks.push(g.rows.subarray(i === 0 ? 0 : g.ends[i - 1], g.ends[i]));
      written.push({ id: Number(g.ids[i]), dealId, version: g.versions[i] as number });
    }
    if (all) chunks.push(g.rows);
  }
  await copyBinaryIn(
    sql,
    sql.unsafe(`COPY score_versions (${SCORE_VERSION_COLUMNS}) FROM STDIN (FORMAT binary)`),
    chunks,
    'score_versions'
  );
  return written;
}

/**
 * Stores a few score versions (the per-event path) in one statement: moves each deal's pointer
 * to a new id from the sequence (skipping deals whose latest_score_id is no longer the one they
 * were scored from) and inserts the versions of the deals that moved. COPY costs extra round
 * trips that dominate for a handful of rows; this is one.
 */
export async function insertFewScoreVersions(
  sql: Queryable,
  orgId: string,
  items: NewScoreVersion[],
  opts: { modelVersionId: number | null; scoredAt: Date }
): Promise<WrittenScoreVersion[]> {
  if (items.length === 0) return [];
  const col = <T>(f: (v: NewScoreVersion) => T): T[] => items.map(f);
  // Each version's contributions go as a float8[] literal: String(x) is the shortest text that
  // parses back to the same double.
  const rows = await sql<{ id: string; deal_id: string; version: number }[]>`
    WITH input AS MATERIALIZED (
      SELECT nextval('score_versions_id_seq') AS id, u.*
      FROM unnest(${col((v) => v.dealId)}::bigint[], ${col((v) => v.previousScoreId)}::bigint[],
        ${col((v) => v.version)}::int[], ${col((v) => v.result.probability)}::float8[],
        ${col((v) => v.result.riskBand)}::text[], ${col((v) => v.result.confidence)}::text[],
        ${col((v) => v.result.method)}::text[],
        ${col((v) => JSON.stringify(factorLabels(v.result.explanation)))}::text[],
        ${col((v) => `{${contributionNumbers(v.result.explanation).join(',')}}`)}::text[],
        ${col((v) => v.result.rsfs?.rsfs ?? null)}::float8[],
        ${col((v) => v.result.rsfs?.band ?? null)}::text[],
        ${col((v) => v.result.rsfs?.n ?? null)}::int[],
        ${col((v) => v.result.rsfs?.low ?? null)}::float8[],
        ${col((v) => v.result.rsfs?.high ?? null)}::float8[], ${col((v) => v.resultHash)}::text[],
        ${col((v) => v.sourceModstamp?.toISOString() ?? null)}::text[])
        AS u(deal_id, prev_id, version, probability, risk_band, confidence, method, factors,
          contributions, rsfs, rsfs_band, rsfs_n, rsfs_low, rsfs_high, result_hash,
          source_modstamp)
    ), moved AS (
      UPDATE deals d
      SET latest_score_id = i.id, latest_score_hash = i.result_hash,
        latest_score_version = i.version
      FROM input i
      WHERE d.id = i.deal_id AND d.org_id = ${orgId}
        AND d.latest_score_id IS NOT DISTINCT FROM i.prev_id
      RETURNING d.id
    )
    INSERT INTO score_versions (id, org_id, deal_id, version, probability, risk_band, confidence,
      method, factors, contributions, rsfs, rsfs_band, rsfs_sample_size, rsfs_low, rsfs_high,
      model_version_id, result_hash, source_modstamp, scored_at)
    SELECT i.id, ${orgId}, i.deal_id, i.version, i.probability, i.risk_band, i.confidence,
      i.method, i.factors, i.contributions::float8[], i.rsfs, i.rsfs_band, i.rsfs_n, i.rsfs_low, i.rsfs_high,
      ${opts.modelVersionId}::int, i.result_hash, i.source_modstamp::timestamptz,
      ${opts.scoredAt.toISOString()}::timestamptz
    FROM input i JOIN moved m ON m.id = i.deal_id
    RETURNING id, deal_id, version`;
  return rows.map((r) => ({ id: Number(r.id), dealId: Number(r.deal_id), version: r.version }));
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
  factors: Explanation;
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
  /** The factors column's JSON text. */
  factors: string;
  /** The contributions column (null before migration 0014). */
  contributions: number[] | null;
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
    factors: explanationFromStored(r.factors, r.contributions),
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
    SELECT s.* FROM deals d JOIN score_versions s ON ${latestScoreOfDeal(database.sql)}
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
  factors: Explanation;
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
  /** The factors column's JSON text. */
  factors: string;
  /** The contributions column (null before migration 0014). */
  contributions: number[] | null;
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
    factors: explanationFromStored(r.factors, r.contributions),
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
      s.rsfs_band, s.rsfs_sample_size, s.confidence, s.method, s.factors, s.contributions, s.version, s.scored_at
    FROM deals d JOIN score_versions s ON ${latestScoreOfDeal(sql)}
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
      s.rsfs_band, s.rsfs_sample_size, s.confidence, s.method, s.factors, s.contributions, s.version, s.scored_at
    FROM deals d JOIN score_versions s ON ${latestScoreOfDeal(database.sql)}
    WHERE d.org_id = ${orgId} AND d.deleted_at IS NULL AND d.outcome IS NULL
    ORDER BY CASE s.risk_band WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END,
      s.probability, d.amount DESC, d.id
    LIMIT ${limit}`;
  return rows.map(toLatest);
}
