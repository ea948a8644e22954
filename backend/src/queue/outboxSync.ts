// Brings the writeback outbox in line with what Postgres holds for some deals: the Opportunity
// fields of each deal's latest score version and its co-lead suggestions. Built from the
// stored state (not from the in-memory result of the job that scored), so a job retried after
// a crash between "score stored" and "outbox written" still writes the same payload, and an
// unchanged state costs nothing (equal payload hash -> the row does not change).
import type postgres from 'postgres';
import type { Database } from '../db/client.ts';
import { hasPending, upsertOutbox, type OutboxWrite } from '../db/repositories/outbox.ts';
import { explanationFromStored, latestScoreOfDeal } from '../db/repositories/scores.ts';
import { coLeadRecord, opportunityFieldValues, teamMemberWrite } from '../crm/writeback.ts';
import { isSalesforceId } from '../crm/salesforceId.ts';
import type { ScoreResult } from '../scoring/types.ts';

type Runner = Database | { sql: postgres.Sql };

interface LatestRow {
  deal_id: string;
  external_id: string;
  score_id: string;
  probability: number;
  risk_band: ScoreResult['riskBand'];
  confidence: ScoreResult['confidence'];
  method: ScoreResult['method'];
  /** The factors column's JSON text. */
  factors: string;
  /** The contributions column (null before migration 0014). */
  contributions: number[] | null;
  rsfs: number | null;
  rsfs_band: 'RED' | 'YELLOW' | 'GREEN' | null;
  rsfs_sample_size: number | null;
  model_version: number | null;
  scored_at: string;
  previous_7d: number | null;
}

interface CoLeadRow {
  deal_id: string;
  external_id: string;
  suggested_rep_id: string;
  segment: string;
  win_rate: number;
  sample_size: number;
  rank: number;
  is_primary: boolean;
  reason: string;
  status: 'proposed' | 'approved' | 'rejected' | 'expired';
  score_version_id: string | null;
  deal_external_id: string;
}

/** The parts of a ScoreResult the Opportunity fields are made of, rebuilt from a stored row. */
function storedScore(r: LatestRow): ScoreResult {
  return {
    dealId: r.external_id,
    probability: r.probability,
    logit: Math.log(r.probability / (1 - r.probability)),
    riskBand: r.risk_band,
    confidence: r.confidence,
    method: r.method,
    explanation: explanationFromStored(r.factors, r.contributions),
    rsfs:
      r.rsfs === null || r.rsfs_band === null
        ? null
        : {
            repId: '',
            segmentField: '',
            segment: '',
            wins: 0,
            n: r.rsfs_sample_size ?? 0,
            rawRate: null,
            rsfs: r.rsfs,
            low: r.rsfs,
            high: r.rsfs,
            band: r.rsfs_band,
            teamRate: 0,
            repOverallRate: 0
          },
    coLeads: [],
    modelVersion: r.model_version
  };
}

export interface OutboxSyncResult {
  /** Outbox rows whose payload changed (each will cost part of one write). */
  changedRows: number;
  /** Whether any of these deals' rows wait for a write (changed now or earlier). */
  pending: boolean;
  /** Writes left out because they cannot be sent (e.g. a rep that is not a Salesforce User). */
  skipped: number;
}

/**
 * Upserts the outbox rows of these deals (internal ids) from their latest stored scores and
 * co-lead suggestions. Deals of CSV-only orgs (ids that are not Salesforce Ids) are skipped.
 */
export async function syncOutboxForDeals(
  database: Runner,
  orgId: string,
  dealIds: number[]
): Promise<OutboxSyncResult> {
  if (dealIds.length === 0) return { changedRows: 0, pending: false, skipped: 0 };
  const { sql } = database;
  const latest = await sql<LatestRow[]>`
    SELECT d.id AS deal_id, d.external_id, s.id AS score_id, s.probability, s.risk_band,
      s.confidence, s.method, s.factors, s.contributions, s.rsfs, s.rsfs_band,
      s.rsfs_sample_size, mv.version AS model_version, s.scored_at::text AS scored_at,
      (SELECT p.probability FROM score_versions p
        WHERE p.deal_id = d.id AND p.scored_at <= s.scored_at - interval '7 days'
        ORDER BY p.version DESC LIMIT 1) AS previous_7d
    FROM deals d
    JOIN score_versions s ON ${latestScoreOfDeal(sql)}
    LEFT JOIN model_versions mv ON mv.id = s.model_version_id
    WHERE d.org_id = ${orgId} AND d.id = ANY(${dealIds}::bigint[]) AND d.deleted_at IS NULL`;
  const coLeads = await sql<CoLeadRow[]>`
    SELECT c.deal_id, c.external_id, c.suggested_rep_id, c.segment, c.win_rate, c.sample_size,
      c.rank, c.is_primary, c.reason, c.status, c.score_version_id, d.external_id AS deal_external_id
    FROM co_lead_suggestions c JOIN deals d ON d.id = c.deal_id
    WHERE c.org_id = ${orgId} AND c.deal_id = ANY(${dealIds}::bigint[]) AND d.deleted_at IS NULL`;

  const writes: OutboxWrite[] = [];
  let skipped = 0;
  for (const r of latest) {
    if (!isSalesforceId(r.external_id) || !r.external_id.startsWith('006')) {
      skipped++;
      continue;
    }
    const fields = opportunityFieldValues(
      storedScore(r),
      r.previous_7d,
      new Date(r.scored_at)
    ) as Record<string, unknown>;
    writes.push({
      objectType: 'Opportunity',
      recordKey: r.external_id,
      payload: fields,
      sourceSeq: Number(r.score_id)
    });
  }
  for (const c of coLeads) {
    if (!isSalesforceId(c.suggested_rep_id) || !isSalesforceId(c.deal_external_id)) {
      skipped++;
      continue;
    }
    // Status goes to Salesforce only when we decided it (expired); Proposed is the field's
    // default, and Approved / Rejected are decided in Salesforce and must not be overwritten.
    const record = coLeadRecord(
      c.deal_external_id,
      {
        repId: c.suggested_rep_id,
        segment: c.segment,
        winRate: c.win_rate,
        sampleSize: c.sample_size,
        rank: c.rank,
        isPrimary: c.is_primary,
        reason: c.reason
      },
      { externalId: c.external_id, ...(c.status === 'expired' ? { status: 'Expired' } : {}) }
    );
    writes.push({
      objectType: 'Co_Lead_Suggestion__c',
      recordKey: c.external_id,
      payload: record as Record<string, unknown>,
      sourceSeq: c.score_version_id === null ? null : Number(c.score_version_id)
    });
  }
  const changedRows = await upsertOutbox(database, orgId, writes);
  const pending =
    changedRows > 0 ||
    (await hasPending(
      database,
      orgId,
      writes.map((w) => ({ objectType: w.objectType, recordKey: w.recordKey }))
    ));
  return { changedRows, pending, skipped };
}

/** Queues the approved co-lead's OpportunityTeamMember (role Co-Lead) through the outbox. */
export async function queueTeamMember(
  database: Runner,
  orgId: string,
  opportunityId: string,
  userId: string
): Promise<boolean> {
  const write = teamMemberWrite(opportunityId, userId);
  await upsertOutbox(database, orgId, [
    {
      objectType: 'OpportunityTeamMember',
      recordKey: write.recordKey,
      payload: write.fields,
      sourceSeq: null
    }
  ]);
  return hasPending(database, orgId, [
    { objectType: 'OpportunityTeamMember', recordKey: write.recordKey }
  ]);
}
