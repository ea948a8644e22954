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

// ---------------------------------------------------------------------------------------------
// Training, model and scoring-context types (added by the scoring core; all plain JSON).

/** Model families compared by out-of-time validation. */
export type ModelFamily = 'main_effects' | 'interactions' | 'gbm';
export type ModelKind = ModelFamily | 'rules';

export interface TrainOptions {
  /** Segment field and thresholds; DEFAULT_SCORING_SETTINGS when omitted. */
  settings?: OrgScoringSettings;
  /** Seed for the bootstrap interval (default 1). */
  seed?: number;
  /** Bootstrap resamples for the AUC interval (default 200). */
  bootstrapResamples?: number;
  /** Families to compare (default all). E.g. ['main_effects'] to measure what interactions add. */
  families?: ModelFamily[];
  /** Fewer closed deals than this (default 200) -> rules model, verdict 'insufficient_data'. */
  minClosed?: number;
  /** Fewer of either class than this (default 30) -> rules model, verdict 'insufficient_data'. */
  minPerClass?: number;
  /** Consecutive slices by created_date: oldest `train`, next `validation`, rest holdout. */
  split?: { train: number; validation: number };
  /** Include each holdout deal's id and calibrated probability in the outcome (for tests). */
  returnHoldout?: boolean;
}

export interface CandidateMetrics {
  family: ModelFamily;
  /** On the validation slice, after Platt calibration fitted on that slice. */
  validation: { n: number; auc: number; logLoss: number; brier: number };
  selected: boolean;
}

/** A win count over closed deals: [wins, n]. */
export type WinCount = [number, number];

/** Frozen as-of encoding tables: win counts per category, and the shrinkage strengths. */
export interface EncodingTables {
  segmentField: OrgScoringSettings['segmentField'];
  team: WinCount;
  /** Per categorical field (rep, industry, region, productType, leadSource), value -> count. */
  fields: Record<string, Record<string, WinCount>>;
  /** `${repId}\u0001${segment}` -> count. */
  repSegment: Record<string, WinCount>;
  /** Beta prior strength (pseudo-deals) per field and for the rep x segment cells. */
  strength: Record<string, number>;
  /** Closed deals counted (closed before `through`). */
  through: string | null;
}

export interface FeatureSpec {
  /** Feature names in coefficient order. */
  features: string[];
  segmentField: OrgScoringSettings['segmentField'];
  /** log(amount) is centred on `amountCenter` and divided by `amountScale`. */
  amountCenter: number;
  amountScale: number;
  notes: string[];
}

export interface GbmTree {
  /** Flattened nodes: feature index (-1 for a leaf), threshold, left, right, value. */
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

/** A trained model, plain JSON (stored in Postgres jsonb and reloaded). */
export interface TrainedModel {
  formatVersion: 1;
  kind: ModelKind;
  verdict: Verdict;
  trainedThrough: string | null;
  featureSpec: FeatureSpec;
  /**
   * Linear kinds: raw = intercept + sum(coefficients[j] * x[j]); every x[j] is 0 at the
   * reference deal (team rate, typical amount), so the baseline is the calibrated intercept.
   */
  intercept: number;
  coefficients: number[];
  /**
   * GBM kind: raw = intercept + sum of the trees' leaf values (coefficients is empty). Tree
   * feature j is featureSpec.features[j]; a row goes left when its value <= threshold.
   */
  trees?: GbmTree[];
  learningRate?: number;
  /** Platt scaling on the raw logit: calibrated = a * raw + b. null for rules. */
  calibration: { a: number; b: number } | null;
  encodings: EncodingTables;
  metrics: ModelMetrics | null;
}

export interface TrainOutcome {
  model: TrainedModel;
  metrics: ModelMetrics | null;
  verdict: Verdict;
  candidates: CandidateMetrics[];
  featureSpec: FeatureSpec;
  /** Holdout ids and calibrated probabilities, only with `returnHoldout`. */
  holdout?: { dealIds: string[]; probabilities: number[] };
  /** Why the verdict is what it is, in plain words. */
  summary: string;
}

/** RSFS for every (rep, segment) with closed deals, plus what is needed for new pairs. */
export interface RsfsTable {
  segmentField: OrgScoringSettings['segmentField'];
  teamRate: number;
  /** Team rate per segment value. */
  segmentRates: Record<string, WinCount>;
  /** Each rep's overall count. */
  repOverall: Record<string, WinCount>;
  /** segment -> repId -> result. */
  results: Record<string, Record<string, RsfsResult>>;
  /** segment -> { p25, p50 } of the reps' RSFS in that segment. */
  thresholds: Record<string, { p25: number; p50: number }>;
  /** Beta prior strengths (pseudo-deals): rep overall, segment, and rep x segment fit. */
  strength: { rep: number; segment: number; fit: number };
  /** Central probability of the [low, high] interval of each result (0.9). */
  intervalLevel: number;
  computedThrough: string | null;
}

/** Co-lead assignment state: persisted by the caller, same state -> same answer. */
export interface CoLeadState {
  /** Each rep's current open co-lead load (proposed or approved suggestions). */
  load: Record<string, number>;
  /** Round-robin cursor (breaks ties between equally loaded candidates). */
  cursor: number;
  /** dealId -> current primary co-lead: kept while still a candidate, so rescoring is stable. */
  assigned?: Record<string, string>;
}

export interface ScoringContext {
  rsfs: RsfsTable;
  settings: OrgScoringSettings;
  /** Today, YYYY-MM-DD (time is passed in; the core never reads the clock). */
  now: string;
  coLeadState: CoLeadState;
  /** Stored model version id to put on each result (default null). */
  modelVersion?: number | null;
}
