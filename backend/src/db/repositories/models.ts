// Model versions: one active per org. Each holds the serialized model, its holdout metrics,
// verdict, and the RSFS table computed with it (what scoring reads).
import type { Database } from '../client.ts';
import { asDate, type Queryable } from './deals.ts';
import type {
  CandidateMetrics,
  FeatureSpec,
  ModelMetrics,
  RsfsTable,
  TrainedModel,
  Verdict
} from '../../scoring/types.ts';

/**
 * What model_versions.metrics holds: the holdout metrics (ModelMetrics, at the top level; absent
 * when no model could be validated), plus the families compared, the trainer's summary and the
 * number of closed deals used.
 */
export type StoredModelMetrics = Partial<ModelMetrics> & {
  candidates: CandidateMetrics[];
  /** Why the verdict is what it is, in plain words. */
  summary: string;
  /** Closed deals the model was trained (and validated) on. */
  trainedOn: number;
};

export interface NewModelVersion {
  kind: string;
  featureSpec: FeatureSpec;
  model: TrainedModel;
  metrics: StoredModelMetrics;
  verdict: Verdict;
  trainedAt: Date;
  trainedThrough: string | null;
  rsfsTable: RsfsTable;
}

/**
 * Stores a new version (previous max + 1) as the only active one. Call inside a transaction;
 * an advisory lock per org serializes concurrent trainings so versions never collide.
 */
export async function insertActiveModelVersion(
  sql: Queryable,
  orgId: string,
  v: NewModelVersion
): Promise<{ id: number; version: number }> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'di:model:' + orgId}))`;
  await sql`UPDATE model_versions SET active = false WHERE org_id = ${orgId} AND active`;
  const rows = await sql<{ id: number; version: number }[]>`
    INSERT INTO model_versions (org_id, version, kind, feature_spec, model, metrics, verdict,
      trained_at, trained_through, active, rsfs_table)
    SELECT ${orgId}, COALESCE(max(version), 0) + 1, ${v.kind},
      ${JSON.stringify(v.featureSpec)}::text::jsonb, ${JSON.stringify(v.model)}::text::jsonb,
      ${JSON.stringify(v.metrics)}::text::jsonb, ${v.verdict},
      ${v.trainedAt.toISOString()}::timestamptz, ${v.trainedThrough}::date, true,
      ${JSON.stringify(v.rsfsTable)}::text::jsonb
    FROM model_versions WHERE org_id = ${orgId}
    RETURNING id, version`;
  const row = rows[0];
  if (!row) throw new Error('insertActiveModelVersion: no row returned');
  return row;
}

export interface ActiveModelKey {
  modelVersionId: number | null;
  /** orgs.settings as stored (JSON). */
  settings: unknown;
  /** The co-lead round-robin cursor (0 when never stored). */
  coLeadCursor: number;
}

/**
 * The cheap check behind the scoring-context cache, one indexed query: the active version id,
 * the org settings and the co-lead cursor. null for an unknown org.
 */
export async function getActiveModelKey(
  sql: Queryable,
  orgId: string
): Promise<ActiveModelKey | null> {
  const rows = await sql<{ settings: unknown; id: number | null; cursor: number | null }[]>`
    SELECT o.settings, mv.id, cs.cursor FROM orgs o
    LEFT JOIN model_versions mv ON mv.org_id = o.id AND mv.active
    LEFT JOIN co_lead_state cs ON cs.org_id = o.id
    WHERE o.id = ${orgId}
    ORDER BY mv.version DESC NULLS LAST LIMIT 1`;
  const row = rows[0];
  return row
    ? { modelVersionId: row.id, settings: row.settings, coLeadCursor: row.cursor ?? 0 }
    : null;
}

export interface ModelVersionRecord {
  id: number;
  version: number;
  kind: string;
  verdict: Verdict;
  metrics: StoredModelMetrics;
  featureSpec: FeatureSpec;
  trainedAt: Date;
  trainedThrough: string | null;
  active: boolean;
}

interface VersionRow {
  id: number;
  version: number;
  kind: string;
  verdict: Verdict;
  metrics: StoredModelMetrics;
  feature_spec: FeatureSpec;
  trained_at: string | Date;
  trained_through: string | null;
  active: boolean;
}

function toRecord(r: VersionRow): ModelVersionRecord {
  return {
    id: r.id,
    version: r.version,
    kind: r.kind,
    verdict: r.verdict,
    metrics: r.metrics,
    featureSpec: r.feature_spec,
    trainedAt: asDate(r.trained_at),
    trainedThrough: r.trained_through,
    active: r.active
  };
}

/** A model version with its model and RSFS table (what scoring loads). */
export async function getModelVersion(
  sql: Queryable,
  orgId: string,
  id: number
): Promise<(ModelVersionRecord & { model: TrainedModel; rsfsTable: RsfsTable | null }) | null> {
  const rows = await sql<(VersionRow & { model: TrainedModel; rsfs_table: RsfsTable | null })[]>`
    SELECT id, version, kind, verdict, metrics, feature_spec, trained_at,
      trained_through::text AS trained_through, active, model, rsfs_table
    FROM model_versions WHERE org_id = ${orgId} AND id = ${id}`;
  const row = rows[0];
  return row ? { ...toRecord(row), model: row.model, rsfsTable: row.rsfs_table } : null;
}

/** An org's model versions, newest first, without the (large) model bodies. */
export async function listModelVersions(
  database: Database | { sql: Queryable },
  orgId: string,
  opts: { limit?: number } = {}
): Promise<ModelVersionRecord[]> {
  const rows = await database.sql<VersionRow[]>`
    SELECT id, version, kind, verdict, metrics, feature_spec, trained_at,
      trained_through::text AS trained_through, active
    FROM model_versions WHERE org_id = ${orgId}
    ORDER BY version DESC LIMIT ${opts.limit ?? 50}`;
  return rows.map(toRecord);
}
