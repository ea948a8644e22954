// Training an org's model: closed deals from Postgres -> the pure trainer -> a new active model
// version and fresh RSFS statistics, stored together in one transaction.
import type { Database } from '../db/client.ts';
import { loadClosedDeals } from '../db/repositories/deals.ts';
import { insertActiveModelVersion, type StoredModelMetrics } from '../db/repositories/models.ts';
import { replaceRepSegmentStats } from '../db/repositories/repStats.ts';
import { computeRsfsTable, trainModel } from '../scoring/index.ts';
import type { CandidateMetrics, ModelMetrics, Verdict } from '../scoring/types.ts';
import { resolveNow } from './clock.ts';
import { UnknownOrgError } from './scoringContext.ts';
import { scoringSettingsFrom } from './settings.ts';

export interface TrainOrgResult {
  modelVersionId: number;
  version: number;
  verdict: Verdict;
  metrics: ModelMetrics | null;
  kind: string;
  /** Closed deals used. */
  trainedOn: number;
  candidates: CandidateMetrics[];
  summary: string;
  /** Rep x segment rows written to rep_segment_stats. */
  rsfsRows: number;
  trainedThrough: string | null;
}

/**
 * Trains on the org's live closed deals (closed on or before `now` when given, so a backtest
 * sees only the past) and stores the result as the new active model version.
 */
export async function trainOrg(
  database: Database,
  orgId: string,
  opts: { now?: string } = {}
): Promise<TrainOrgResult> {
  const clock = resolveNow(opts.now);
  const orgRows = await database.sql<{ settings: unknown }[]>`
    SELECT settings FROM orgs WHERE id = ${orgId}`;
  if (!orgRows[0])
    throw new UnknownOrgError(`unknown org "${orgId}": register it or import deals first`);
  const settings = scoringSettingsFrom(orgRows[0].settings, orgId);
  const closed = await loadClosedDeals(
    database,
    orgId,
    opts.now ? { closedThrough: clock.date } : {}
  );
  const outcome = trainModel(closed, { settings });
  const rsfs = computeRsfsTable(closed, settings);
  const metrics: StoredModelMetrics = {
    ...(outcome.metrics ?? {}),
    candidates: outcome.candidates,
    summary: outcome.summary,
    trainedOn: closed.length
  };
  const stored = await database.sql.begin(async (tx) => {
    const version = await insertActiveModelVersion(tx, orgId, {
      kind: outcome.model.kind,
      featureSpec: outcome.featureSpec,
      model: outcome.model,
      metrics,
      verdict: outcome.verdict,
      trainedAt: clock.at,
      trainedThrough: outcome.model.trainedThrough,
      rsfsTable: rsfs
    });
    const rsfsRows = await replaceRepSegmentStats(tx, orgId, rsfs, clock.at);
    return { ...version, rsfsRows };
  });
  return {
    modelVersionId: stored.id,
    version: stored.version,
    verdict: outcome.verdict,
    metrics: outcome.metrics,
    kind: outcome.model.kind,
    trainedOn: closed.length,
    candidates: outcome.candidates,
    summary: outcome.summary,
    rsfsRows: stored.rsfsRows,
    trainedThrough: outcome.model.trainedThrough
  };
}

/** The verdict in plain words, as the CLI and the demo print it. */
export function verdictInWords(verdict: Verdict): string {
  switch (verdict) {
    case 'signal':
      return 'Signal: the model beats the base rate on later, held-out deals';
    case 'no_reliable_signal':
      return 'No reliable signal: scores are shown as low confidence';
    case 'insufficient_data':
      return 'Not enough closed deals to train: a transparent rules score is used, shown as low confidence';
  }
}
