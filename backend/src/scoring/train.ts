// Training: as-of encodings -> candidate families fitted on the oldest slice -> the family with
// the best calibrated log loss on the next slice -> Platt scaling on that slice -> honest
// metrics on the newest slice (never seen by fitting, selection or calibration).
//
// Slices are consecutive by created_date: oldest 60% train, next 20% validation (selection and
// calibration), newest 20% holdout. The production model keeps these coefficients and this
// calibration (so the reported metrics describe it exactly); only its encoding tables are
// refreshed to every closed deal, as scoring needs today's rates.
//
// What the features may use (no leakage): every encoding for a deal counts only deals closed
// strictly before its created date. deal_stage is not used: on a closed deal it is the final
// stage, unknown when the deal was open. Age and sales_cycle_days are not used either: for a
// closed deal they are only known at close (cycle length correlates with the outcome), and the
// age at which an open deal would have been scored is not recorded; age drives the risk band.
import {
  AMOUNT_INDEX,
  ENCODED_WIDTH,
  FEATURE_NAMES,
  FIT_INDEX,
  buildEncodingTables,
  clampStrengths,
  encodeAsOf,
  estimateStrengths,
  fieldIndex,
  type FeatureName,
  type SegmentField
} from './encoding.ts';
import { fitGbm, gbmRaw, type GbmFit } from './gbm.ts';
import { fitLogistic } from './logistic.ts';
import { logit, sigmoid } from './math.ts';
import { auc, brier, holdoutMetrics, logLoss } from './metrics.ts';
import {
  DEFAULT_SCORING_SETTINGS,
  type CandidateMetrics,
  type Deal,
  type FeatureSpec,
  type ModelFamily,
  type ModelMetrics,
  type TrainOptions,
  type TrainOutcome,
  type TrainedModel,
  type Verdict
} from './types.ts';

const ALL_FAMILIES: ModelFamily[] = ['main_effects', 'interactions', 'gbm'];
const GBM_MAX_ROWS = 60_000;
/** Log-loss margin (about 0.15% of a typical log loss) a richer family must win by. */
export const FAMILY_MARGIN = 0.001;
/** Prior strength range for the rules model: few deals make the EB estimate unstable. */
const RULES_MIN_STRENGTH = 10;
const RULES_MAX_STRENGTH = 100;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validateClosed(closed: Deal[]): void {
  for (let i = 0; i < closed.length; i++) {
    const d = closed[i] as Deal;
    const where = `closed deal ${d?.id ?? '?'} (index ${i})`;
    if (d.outcome !== 'Won' && d.outcome !== 'Lost')
      throw new Error(`${where}: outcome must be Won or Lost`);
    if (!DATE.test(d.createdDate))
      throw new Error(`${where}: createdDate "${d.createdDate}" is not YYYY-MM-DD`);
    if (d.closedDate === null || !DATE.test(d.closedDate)) {
      throw new Error(`${where}: closedDate "${d.closedDate}" is not YYYY-MM-DD`);
    }
    if (d.closedDate < d.createdDate) throw new Error(`${where}: closedDate is before createdDate`);
    if (!(d.amount > 0) || !Number.isFinite(d.amount))
      throw new Error(`${where}: amount must be > 0`);
  }
}

/** Feature columns (indices into the encoded vector) of each family. */
export function familyColumns(family: ModelFamily): number[] {
  // The GBM gets every feature, the rep x segment fit included.
  const main = [0, 1, 2, 3, 4, AMOUNT_INDEX];
  return family === 'main_effects' ? main : [0, 1, 2, 3, 4, FIT_INDEX, AMOUNT_INDEX];
}

type Fitted =
  | { kind: 'linear'; fit: { intercept: number; coefficients: number[] } }
  | { kind: 'gbm'; fit: GbmFit };

function fitFamily(
  family: ModelFamily,
  x: Float64Array,
  columns: number[],
  y: Uint8Array,
  rows: Uint32Array
): Fitted {
  if (family === 'gbm') {
    // A small GBM: at most GBM_MAX_ROWS training rows (every k-th, spread over the whole slice),
    // which is plenty for seven features and keeps training on 1M deals well under a minute.
    const step = Math.ceil(rows.length / GBM_MAX_ROWS);
    const sample = step > 1 ? rows.filter((_, r) => r % step === 0) : rows;
    const minLeaf = Math.max(20, Math.floor(sample.length / 2000));
    return { kind: 'gbm', fit: fitGbm(x, ENCODED_WIDTH, columns, y, sample, { minLeaf }) };
  }
  return { kind: 'linear', fit: fitLogistic(x, ENCODED_WIDTH, columns, y, rows) };
}

function predictRaw(
  f: Fitted,
  x: Float64Array,
  columns: number[],
  rows: Uint32Array
): Float64Array {
  if (f.kind === 'linear') return rawLogits(x, columns, f.fit, rows);
  const out = new Float64Array(rows.length);
  rows.forEach((i, r) => {
    out[r] = gbmRaw(f.fit, x, i * ENCODED_WIDTH, columns);
  });
  return out;
}

const FEATURE_NOTES = [
  'Encodings count only deals closed strictly before the scored deal was created (as-of).',
  'Categorical encodings: logit of the empirical-Bayes shrunk win rate minus the team logit.',
  "rep_segment_fit: the rep's shrunk rate in the segment relative to rep overall + segment.",
  'amount: (ln(amount) - amountCenter) / amountScale, centre and scale from the training slice.',
  'Not used: deal_stage (final stage on closed deals: leakage), age and sales_cycle_days.'
];

function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function sliceRows(from: number, to: number): Uint32Array {
  const rows = new Uint32Array(Math.max(0, to - from));
  for (let i = 0; i < rows.length; i++) rows[i] = from + i;
  return rows;
}

function rawLogits(
  x: Float64Array,
  columns: number[],
  fit: { intercept: number; coefficients: number[] },
  rows: Uint32Array
): Float64Array {
  const out = new Float64Array(rows.length);
  rows.forEach((i, r) => {
    let z = fit.intercept;
    for (let j = 0; j < columns.length; j++) {
      z +=
        (fit.coefficients[j] as number) * (x[i * ENCODED_WIDTH + (columns[j] as number)] as number);
    }
    out[r] = z;
  });
  return out;
}

function labelsOf(y: Uint8Array, rows: Uint32Array): Uint8Array {
  return Uint8Array.from(rows, (i) => y[i] as number);
}

/** Platt scaling: calibrated logit = a * raw + b, fitted by logistic regression on raw. */
function fitPlatt(raw: Float64Array, labels: Uint8Array): { a: number; b: number } {
  const rows = sliceRows(0, raw.length);
  const fit = fitLogistic(raw, 1, [0], labels, rows, { l2: 0 });
  return { a: fit.coefficients[0] as number, b: fit.intercept };
}

function calibrated(raw: Float64Array, c: { a: number; b: number }): Float64Array {
  return raw.map((z) => sigmoid(c.a * z + c.b));
}

/**
 * Verdict 'signal' only when all hold on the holdout: the lower end of the AUC's 95% bootstrap
 * interval is above 0.5, and both the Brier score and the log loss are strictly below those of
 * predicting the training base rate for every deal.
 */
export function verdictOf(m: ModelMetrics): Verdict {
  const ok = m.aucLow > 0.5 && m.brier < m.brierBaseline && m.logLoss < m.logLossBaseline;
  return ok ? 'signal' : 'no_reliable_signal';
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function summaryOf(m: ModelMetrics, verdict: Verdict, family: ModelFamily): string {
  const verdictText =
    verdict === 'signal'
      ? 'the model beats the base rate on later deals'
      : 'no reliable signal: the model does not beat the base rate on later deals, scores are low confidence';
  return (
    `${family} model, holdout of ${m.n} later deals (win rate ${pct(m.positives / m.n)}): ` +
    `AUC ${m.auc.toFixed(3)} (95% CI ${m.aucLow.toFixed(3)}-${m.aucHigh.toFixed(3)}) vs 0.500 for the base rate; ` +
    `Brier ${m.brier.toFixed(4)} vs ${m.brierBaseline.toFixed(4)}; ` +
    `log loss ${m.logLoss.toFixed(4)} vs ${m.logLossBaseline.toFixed(4)}; ` +
    `ECE ${m.ece.toFixed(4)} vs ${m.eceBaseline.toFixed(4)}. Verdict: ${verdictText}.`
  );
}

function featureSpecOf(
  features: FeatureName[],
  segmentField: SegmentField,
  amountCenter: number,
  amountScale: number
): FeatureSpec {
  return { features: [...features], segmentField, amountCenter, amountScale, notes: FEATURE_NOTES };
}

function latestClosed(closed: Deal[]): string | null {
  let through: string | null = null;
  for (const d of closed)
    if (d.closedDate !== null && (through === null || d.closedDate > through))
      through = d.closedDate;
  return through;
}

/**
 * The transparent rules model: logit = team logit + rep effect + segment effect + rep x segment
 * fit + lead source effect, each the shrunk as-of rate's logit difference (coefficients 1).
 */
export function rulesModel(closed: Deal[], segmentField: SegmentField): TrainedModel {
  const strengths = clampStrengths(
    estimateStrengths(closed, segmentField),
    RULES_MAX_STRENGTH,
    RULES_MIN_STRENGTH
  );
  const encodings = buildEncodingTables(closed, strengths, segmentField);
  const names: FeatureName[] = [
    'rep_overall',
    FEATURE_NAMES[fieldIndex(segmentField)] as FeatureName,
    'rep_segment_fit'
  ];
  if (segmentField !== 'leadSource') names.push('lead_source');
  const wins = encodings.team[0];
  const n = encodings.team[1];
  return {
    formatVersion: 1,
    kind: 'rules',
    verdict: 'insufficient_data',
    trainedThrough: encodings.through,
    featureSpec: featureSpecOf(names, segmentField, 0, 1),
    intercept: logit((wins + 1) / (n + 2)),
    coefficients: names.map(() => 1),
    calibration: null,
    encodings,
    metrics: null
  };
}

/**
 * Train on closed deals; picks the model family by out-of-time validation, calibrates it,
 * reports holdout metrics vs the base rate and a verdict. Too few closed deals -> a transparent
 * rules model with verdict 'insufficient_data'.
 */
export function trainModel(closed: Deal[], opts: TrainOptions = {}): TrainOutcome {
  validateClosed(closed);
  const settings = opts.settings ?? DEFAULT_SCORING_SETTINGS;
  const segmentField = settings.segmentField;
  const minClosed = opts.minClosed ?? 200;
  const minPerClass = opts.minPerClass ?? 30;
  const split = opts.split ?? { train: 0.6, validation: 0.2 };
  if (!(split.train > 0 && split.validation > 0 && split.train + split.validation < 1)) {
    throw new Error(`split must have train > 0, validation > 0 and train + validation < 1`);
  }
  const families = opts.families ?? ALL_FAMILIES;
  if (families.length === 0) throw new Error('families must name at least one model family');

  let wins = 0;
  for (const d of closed) if (d.outcome === 'Won') wins++;
  const losses = closed.length - wins;
  if (closed.length < minClosed || wins < minPerClass || losses < minPerClass) {
    const model = rulesModel(closed, segmentField);
    return {
      model,
      metrics: null,
      verdict: 'insufficient_data',
      candidates: [],
      featureSpec: model.featureSpec,
      summary:
        `Too few closed deals to train and test a model (${closed.length} closed, ${wins} won, ` +
        `${losses} lost; need ${minClosed} with ${minPerClass} of each): rules score from ` +
        `shrunk rep, segment and lead-source win rates, low confidence.`
    };
  }

  // Consecutive time slices by created date (ties by id, so the split is deterministic).
  const sorted = [...closed].sort((a, b) =>
    a.createdDate < b.createdDate
      ? -1
      : a.createdDate > b.createdDate
        ? 1
        : a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0
  );
  const n = sorted.length;
  const nTrain = Math.floor(n * split.train);
  const nVal = Math.floor(n * split.validation);
  const trainRows = sliceRows(0, nTrain);
  const valRows = sliceRows(nTrain, nTrain + nVal);
  const holdRows = sliceRows(nTrain + nVal, n);

  // Shrinkage strengths from the training slice only; encodings as-of each deal's created date.
  const strengths = estimateStrengths(sorted.slice(0, nTrain), segmentField);
  const x = encodeAsOf(sorted, sorted, strengths, segmentField);
  const logAmount = Float64Array.from(sorted, (d) => Math.log(d.amount));
  const amountCenter = median(logAmount.subarray(0, nTrain));
  let ss = 0;
  for (let i = 0; i < nTrain; i++) ss += ((logAmount[i] as number) - amountCenter) ** 2;
  const amountScale = Math.sqrt(ss / Math.max(1, nTrain)) || 1;
  for (let i = 0; i < n; i++)
    x[i * ENCODED_WIDTH + AMOUNT_INDEX] = ((logAmount[i] as number) - amountCenter) / amountScale;
  const y = Uint8Array.from(sorted, (d) => (d.outcome === 'Won' ? 1 : 0));
  const yVal = labelsOf(y, valRows);
  const yHold = labelsOf(y, holdRows);
  let trainWins = 0;
  for (const i of trainRows) trainWins += y[i] as number;
  const trainBaseRate = trainWins / nTrain;

  // Candidates: fit on train, calibrate and compare on validation.
  const fitted = families.map((family) => {
    const columns = familyColumns(family);
    const fit = fitFamily(family, x, columns, y, trainRows);
    const raw = predictRaw(fit, x, columns, valRows);
    const platt = fitPlatt(raw, yVal);
    const probs = calibrated(raw, platt);
    const validation = {
      n: valRows.length,
      auc: auc(probs, yVal),
      logLoss: logLoss(probs, yVal),
      brier: brier(probs, yVal)
    };
    return { family, columns, fit, platt, validation };
  });
  // Lowest validation log loss; a family listed later (richer) must win by more than
  // FAMILY_MARGIN to be preferred, so chance differences keep the simpler, clearer model.
  let best = fitted[0] as (typeof fitted)[number];
  for (const c of fitted.slice(1))
    if (c.validation.logLoss < best.validation.logLoss - FAMILY_MARGIN) best = c;
  const candidates: CandidateMetrics[] = fitted.map((c) => ({
    family: c.family,
    validation: c.validation,
    selected: c === best
  }));

  const holdProbs = calibrated(predictRaw(best.fit, x, best.columns, holdRows), best.platt);
  const metrics = holdoutMetrics(holdProbs, yHold, trainBaseRate, {
    resamples: opts.bootstrapResamples ?? 200,
    seed: opts.seed ?? 1
  });
  const verdict = verdictOf(metrics);
  const features = best.columns.map((c) => FEATURE_NAMES[c] as FeatureName);
  const featureSpec = featureSpecOf(features, segmentField, amountCenter, amountScale);
  const model: TrainedModel = {
    formatVersion: 1,
    kind: best.family,
    verdict,
    trainedThrough: latestClosed(sorted),
    featureSpec,
    ...(best.fit.kind === 'linear'
      ? { intercept: best.fit.fit.intercept, coefficients: best.fit.fit.coefficients }
      : {
          intercept: best.fit.fit.init,
          coefficients: [],
          trees: best.fit.fit.trees,
          learningRate: best.fit.fit.learningRate
        }),
    calibration: best.platt,
    encodings: buildEncodingTables(sorted, strengths, segmentField),
    metrics
  };
  const outcome: TrainOutcome = {
    model,
    metrics,
    verdict,
    candidates,
    featureSpec,
    summary: summaryOf(metrics, verdict, best.family)
  };
  if (opts.returnHoldout) {
    outcome.holdout = {
      dealIds: Array.from(holdRows, (i) => (sorted[i] as Deal).id),
      probabilities: Array.from(holdProbs)
    };
  }
  return outcome;
}
