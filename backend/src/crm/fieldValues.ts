// Pure mappings from the scoring core's results to Salesforce field values, using the
// shared API names (salesforceFields.ts). Values are rounded the way the fields store them
// (Percent(5,2) -> 2 decimals), so an unchanged score maps to identical values and costs no
// write (the outbox compares payload hashes).
import type { CoLeadCandidate, ScoreResult } from '../scoring/types.ts';
import { CO_LEAD_FIELDS, OPPORTUNITY_FIELDS, type RiskFactorsJson } from './salesforceFields.ts';
import { isSalesforceId, toId18 } from './salesforceId.ts';

const MAX_LABEL = 255;
const MAX_REASON = 255;
const MAX_SEGMENT = 80;
const MAX_MODEL_VERSION = 40;
const MAX_EXTERNAL_ID = 100;

type OpportunityFieldName = (typeof OPPORTUNITY_FIELDS)[keyof typeof OPPORTUNITY_FIELDS];
type CoLeadFieldName = (typeof CO_LEAD_FIELDS)[keyof typeof CO_LEAD_FIELDS];

export type OpportunityFieldValues = Partial<Record<OpportunityFieldName, string | number | null>>;
export type CoLeadFieldValues = Partial<Record<CoLeadFieldName, string | number | null>>;

/** Half away from zero, on the decimal value: 0.30155 -> 30.16 %, not 30.15 (binary noise). */
function round(value: number, places: number): number {
  const shifted = Number((Math.abs(value) * 10 ** places).toPrecision(12));
  const r = (Math.sign(value) * Math.round(shifted)) / 10 ** places;
  return Object.is(r, -0) ? 0 : r;
}

/** A 0..1 rate as a Percent(5,2) value: 0.4567 -> 45.67. */
export function percent(rate: number, what: string): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`${what} must be a number within 0..1, got ${rate}`);
  }
  return round(rate * 100, 2);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();

/** The Risk_Factors__c JSON: top factors each way, impact on the logit to 3 places. */
export function riskFactorsJson(score: ScoreResult): string {
  const factor = (f: { label: string; contribution: number }) => ({
    label: truncate(f.label, MAX_LABEL),
    impact: round(f.contribution, 3)
  });
  const json: RiskFactorsJson = {
    v: 1,
    raising: score.explanation.raising.map(factor),
    lowering: score.explanation.lowering.map(factor)
  };
  return JSON.stringify(json);
}

/**
 * The Opportunity fields for a score. `previous7d`: the deal's probability (0..1) seven days
 * ago, for Win_Probability_Change_7d__c in percentage points (null clears it). `scoredAt`:
 * when the score version was made (Scored_At__c); omitted when not given, so the values
 * stay a pure function of the score.
 */
export function opportunityFieldValues(
  score: ScoreResult,
  previous7d?: number | null,
  scoredAt?: Date | null
): OpportunityFieldValues {
  const probability = percent(score.probability, 'probability');
  const values: OpportunityFieldValues = {
    [OPPORTUNITY_FIELDS.winProbability]: probability,
    [OPPORTUNITY_FIELDS.riskBand]: capitalize(score.riskBand),
    [OPPORTUNITY_FIELDS.riskFactors]: riskFactorsJson(score),
    [OPPORTUNITY_FIELDS.scoreConfidence]: capitalize(score.confidence),
    [OPPORTUNITY_FIELDS.rsfs]: score.rsfs ? percent(score.rsfs.rsfs, 'rsfs') : null,
    [OPPORTUNITY_FIELDS.rsfsBand]: score.rsfs ? capitalize(score.rsfs.band) : null,
    [OPPORTUNITY_FIELDS.rsfsSampleSize]: score.rsfs ? score.rsfs.n : null,
    [OPPORTUNITY_FIELDS.winProbabilityChange7d]:
      previous7d === undefined || previous7d === null
        ? null
        : round(probability - percent(previous7d, 'previous7d'), 2),
    [OPPORTUNITY_FIELDS.modelVersion]: truncate(
      score.modelVersion === null ? score.method : `${score.method}-v${score.modelVersion}`,
      MAX_MODEL_VERSION
    )
  };
  if (scoredAt) {
    if (Number.isNaN(scoredAt.getTime())) throw new RangeError('scoredAt is not a valid date');
    values[OPPORTUNITY_FIELDS.scoredAt] = scoredAt.toISOString();
  }
  return values;
}

/** The stable key shared by a suggestion's Postgres row and its Salesforce record. */
export function coLeadExternalId(opportunityId: string, repId: string): string {
  const norm = (id: string) => (isSalesforceId(id) ? toId18(id) : id);
  const key = `${norm(opportunityId)}:${norm(repId)}`;
  if (key.length > MAX_EXTERNAL_ID) {
    throw new RangeError(`co-lead external id longer than ${MAX_EXTERNAL_ID}: ${key}`);
  }
  return key;
}

/**
 * A Co_Lead_Suggestion__c record for an upsert by External_Id__c. Status__c is sent only
 * when given: the field's default (Proposed) applies to new records, and a manager's
 * decision made in Salesforce is never overwritten by a re-suggestion.
 */
export function coLeadRecord(
  opportunityId: string,
  candidate: CoLeadCandidate,
  opts: { externalId?: string; status?: 'Proposed' | 'Approved' | 'Rejected' | 'Expired' } = {}
): CoLeadFieldValues {
  if (!isSalesforceId(opportunityId) || !opportunityId.startsWith('006')) {
    throw new Error(
      `co-lead opportunity must be an Opportunity Id, got ${JSON.stringify(opportunityId)}`
    );
  }
  if (!isSalesforceId(candidate.repId) || !candidate.repId.startsWith('005')) {
    throw new Error(
      `co-lead rep must be a Salesforce User Id, got ${JSON.stringify(candidate.repId)}`
    );
  }
  const externalId = opts.externalId ?? coLeadExternalId(opportunityId, candidate.repId);
  if (!externalId || externalId.length > MAX_EXTERNAL_ID) {
    throw new RangeError(`co-lead external id must be 1..${MAX_EXTERNAL_ID} characters`);
  }
  return {
    [CO_LEAD_FIELDS.externalId]: externalId,
    [CO_LEAD_FIELDS.opportunity]: toId18(opportunityId),
    [CO_LEAD_FIELDS.suggestedUser]: toId18(candidate.repId),
    [CO_LEAD_FIELDS.segment]: truncate(candidate.segment, MAX_SEGMENT),
    [CO_LEAD_FIELDS.winRate]: percent(candidate.winRate, 'co-lead winRate'),
    [CO_LEAD_FIELDS.sampleSize]: candidate.sampleSize,
    [CO_LEAD_FIELDS.rank]: candidate.rank,
    [CO_LEAD_FIELDS.reason]: truncate(candidate.reason, MAX_REASON),
    ...(opts.status ? { [CO_LEAD_FIELDS.status]: opts.status } : {})
  };
}
