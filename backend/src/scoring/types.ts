// Domain types shared by the scoring core and everything that calls it.
// The scoring core is pure: these are plain data, JSON-safe, no I/O handles.

export type Outcome = 'Won' | 'Lost';
export type RiskBand = 'HIGH' | 'MEDIUM' | 'LOW';
export type RsfsBand = 'RED' | 'YELLOW' | 'GREEN';
export type Confidence = 'normal' | 'low';
export type ScoreMethod = 'model' | 'rules';
export type Verdict = 'signal' | 'no_reliable_signal' | 'insufficient_data';

/** A deal in canonical form (what the scoring core sees). Dates are YYYY-MM-DD. */
export interface Deal {
  id: string; // external id (CSV deal_id or Salesforce Opportunity Id)
  ownerId: string;
  industry: string;
  region: string | null;
  productType: string | null;
  leadSource: string | null;
  stage: string | null;
  amount: number;
  createdDate: string;
  closedDate: string | null;
  outcome: Outcome | null; // null: open
}

/** One additive term of a score, on the logit scale. */
export interface Factor {
  feature: string; // machine name, e.g. 'rep_segment_fit'
  label: string; // plain words, e.g. "rep_19 wins 28% of HealthTech deals (n=41) vs 45% for the team"
  contribution: number; // logit contribution; baseline + sum(all contributions) === logit
}

export interface Explanation {
  baseline: number; // logit of the reference (base rate after calibration)
  contributions: Factor[]; // every term, so the sum is exact
  raising: Factor[]; // top 3 positive
  lowering: Factor[]; // top 3 negative
}

export interface RsfsResult {
  repId: string;
  segmentField: string; // 'industry' by default
  segment: string;
  wins: number;
  n: number;
  rawRate: number | null;
  rsfs: number; // shrunk win rate, never 0 or 1
  low: number; // interval
  high: number;
  band: RsfsBand;
  teamRate: number; // team's rate in that segment
  repOverallRate: number;
}

export interface CoLeadCandidate {
  repId: string;
  segment: string;
  winRate: number; // the candidate's RSFS in the segment
  sampleSize: number;
  rank: number; // 1..3 by RSFS
  isPrimary: boolean; // the one chosen round-robin, weighted by load
  reason: string;
}

export interface ScoreResult {
  dealId: string;
  probability: number; // 0..1, calibrated
  logit: number;
  riskBand: RiskBand;
  confidence: Confidence;
  method: ScoreMethod;
  explanation: Explanation;
  rsfs: RsfsResult | null;
  coLeads: CoLeadCandidate[];
  modelVersion: number | null;
}

/** Per-org settings that change scoring (stored in orgs.settings). */
export interface OrgScoringSettings {
  segmentField: 'industry' | 'region' | 'productType' | 'leadSource';
  /** Risk band thresholds: probability below `highBelow` is HIGH risk, below `mediumBelow` MEDIUM. */
  risk: { highBelow: number; mediumBelow: number; largeAmount: number; staleAfterDays: number };
  coLeadMinSample: number;
}

export const DEFAULT_SCORING_SETTINGS: OrgScoringSettings = {
  segmentField: 'industry',
  risk: { highBelow: 0.3, mediumBelow: 0.5, largeAmount: 50_000, staleAfterDays: 90 },
  coLeadMinSample: 10
};

export interface ModelMetrics {
  n: number;
  positives: number;
  baseRate: number; // training base rate, applied to the holdout
  auc: number;
  aucLow: number; // bootstrap 95% interval
  aucHigh: number;
  brier: number;
  brierBaseline: number;
  logLoss: number;
  logLossBaseline: number;
  ece: number;
  eceBaseline: number;
  calibration: { bin: number; meanPredicted: number; observedRate: number; n: number }[];
}
