// Scoring: encode a deal with the model's frozen tables, add up the calibrated contributions
// (exact: baseline + sum of contributions is the logit), explain the top factors in plain
// words, band the risk, look up the owner's RSFS and suggest co-leads.
// Hot path: the model is compiled once (cached per model object); per deal only small arrays and
// the labels of the shown factors are built.
import { CoLeadLedger, suggestCoLeads } from './coLeads.ts';
import { gbmBaseline, gbmCredits } from './gbm.ts';
import {
  AMOUNT_INDEX,
  CATEGORICAL_FIELDS,
  ENCODED_WIDTH,
  FEATURE_NAMES,
  FIT_INDEX,
  categoryOf,
  compileEncoder,
  unseenCell,
  type CategoricalField,
  type CompiledEncoder,
  type EncodedValue
} from './encoding.ts';
import {
  GENERIC_LABELS,
  amountLabel,
  categoryLabel,
  fitLabel,
  formatInt,
  repOverallLabel
} from './labels.ts';
import { dayNumber, sigmoid } from './math.ts';
import { riskBand } from './risk.ts';
import { lookupRsfs, rsfsEncodingTables } from './rsfs.ts';
import type {
  CoLeadState,
  Deal,
  Factor,
  FeatureSpec,
  GbmTree,
  RsfsResult,
  RsfsTable,
  ScoreResult,
  ScoringContext,
  TrainedModel
} from './types.ts';

interface CompiledModel {
  model: TrainedModel;
  encoder: CompiledEncoder;
  /** Index into the encoded vector of each model feature. */
  columns: number[];
  names: string[];
  genericLabels: string[];
  /** Linear: calibrated coefficients, contribution_j = effective_j * x_j. */
  effective: number[];
  /** GBM: trees (contribution_j = a * path credits of feature j) and the calibration slope. */
  trees: GbmTree[] | null;
  slope: number;
  baseline: number;
  amountCenter: number;
  amountScale: number;
  typicalAmount: number;
  /** typicalAmount as the amount label prints it (formatted once, not per deal). */
  typicalAmountText: string;
  method: 'model' | 'rules';
  confidence: 'normal' | 'low';
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const compiledModels = new WeakMap<TrainedModel, CompiledModel>();
const rulesFromRsfs = new WeakMap<RsfsTable, TrainedModel>();
const rsfsEncoders = new WeakMap<RsfsTable, CompiledEncoder>();

function checkModel(model: TrainedModel): void {
  if (model.formatVersion !== 1) {
    throw new Error(`model formatVersion ${String(model.formatVersion)} is not supported (1)`);
  }
  const n = model.featureSpec?.features?.length;
  if (n === undefined) throw new Error('model has no feature list');
  if (model.kind === 'gbm') {
    if (!Array.isArray(model.trees)) throw new Error('gbm model has no trees');
    for (const t of model.trees) {
      if (t.feature.some((j) => j >= n)) throw new Error('gbm tree uses a feature out of range');
    }
  } else if (model.coefficients?.length !== n) {
    throw new Error('model has a different number of features and coefficients');
  }
  for (const f of model.featureSpec.features) {
    if (!(FEATURE_NAMES as readonly string[]).includes(f)) {
      throw new Error(`model uses unknown feature "${f}"`);
    }
  }
}

function compile(model: TrainedModel): CompiledModel {
  const cached = compiledModels.get(model);
  if (cached) return cached;
  checkModel(model);
  const spec: FeatureSpec = model.featureSpec;
  const a = model.calibration?.a ?? 1;
  const b = model.calibration?.b ?? 0;
  const columns = spec.features.map((f) => (FEATURE_NAMES as readonly string[]).indexOf(f));
  const compiled: CompiledModel = {
    model,
    encoder: compileEncoder(model.encodings),
    columns,
    names: [...spec.features],
    genericLabels: spec.features.map((f) => GENERIC_LABELS[f] ?? f),
    effective: model.kind === 'gbm' ? [] : model.coefficients.map((c) => a * c),
    trees: model.kind === 'gbm' ? (model.trees ?? []) : null,
    slope: a,
    baseline:
      model.kind === 'gbm'
        ? a * gbmBaseline({ init: model.intercept, trees: model.trees ?? [] }) + b
        : a * model.intercept + b,
    amountCenter: spec.amountCenter,
    amountScale: spec.amountScale || 1,
    typicalAmount: Math.exp(spec.amountCenter),
    typicalAmountText: formatInt(Math.exp(spec.amountCenter)),
    method: model.kind === 'rules' ? 'rules' : 'model',
    confidence: model.verdict === 'signal' ? 'normal' : 'low'
  };
  compiledModels.set(model, compiled);
  return compiled;
}

/** The rules model used when there is no trained model: rep, segment and fit from the RSFS table. */
export function rulesModelFromRsfs(t: RsfsTable): TrainedModel {
  const cached = rulesFromRsfs.get(t);
  if (cached) return cached;
  const encodings = rsfsEncodingTables(t);
  const segmentFeature = FEATURE_NAMES[CATEGORICAL_FIELDS.indexOf(t.segmentField)] as string;
  const features = ['rep_overall', segmentFeature, 'rep_segment_fit'];
  const [wins, n] = encodings.team;
  const model: TrainedModel = {
    formatVersion: 1,
    kind: 'rules',
    verdict: 'insufficient_data',
    trainedThrough: t.computedThrough,
    featureSpec: {
      features,
      segmentField: t.segmentField,
      amountCenter: 0,
      amountScale: 1,
      notes: ['Rules score from the RSFS table: team rate + rep + segment + rep x segment fit.']
    },
    intercept: Math.log((wins + 1) / (n - wins + 1)),
    coefficients: features.map(() => 1),
    calibration: null,
    encodings,
    metrics: null
  };
  rulesFromRsfs.set(t, model);
  return model;
}

function rsfsEncoder(t: RsfsTable): CompiledEncoder {
  let enc = rsfsEncoders.get(t);
  if (!enc) rsfsEncoders.set(t, (enc = compileEncoder(rsfsEncodingTables(t))));
  return enc;
}

/**
 * Label of one factor, in plain words. Category and fit labels depend only on the frozen counts,
 * so each is built once per compiled model and kept on its encoded value.
 */
function labelOf(
  cm: CompiledModel,
  j: number,
  deal: Deal,
  values: EncodedValue[],
  fit: EncodedValue
): string {
  const enc = cm.encoder;
  const column = cm.columns[j] as number;
  if (column === AMOUNT_INDEX) {
    return amountLabel(deal.amount, cm.typicalAmount, cm.typicalAmountText);
  }
  if (column === FIT_INDEX) {
    if (fit.label !== undefined) return fit.label;
    const segmentValue = values[enc.segmentIndex] as EncodedValue;
    return (fit.label = fitLabel(
      deal.ownerId,
      categoryOf(deal, enc.segmentField),
      fit.rate,
      fit.n,
      segmentValue.rate
    ));
  }
  const v = values[column] as EncodedValue;
  if (v.label !== undefined) return v.label;
  const field = CATEGORICAL_FIELDS[column] as CategoricalField;
  const label =
    column === 0
      ? repOverallLabel(deal.ownerId, v.rate, v.n, enc.teamRate)
      : categoryLabel(cm.names[j] as string, categoryOf(deal, field), v.rate, v.n, enc.teamRate);
  if (v !== enc.unseen) v.label = label; // the unseen value is shared by every field
  return label;
}

/** Top 3 factors with contributions of the given sign, largest magnitude first. */
function top3(factors: Factor[], sign: 1 | -1): Factor[] {
  let a: Factor | undefined;
  let b: Factor | undefined;
  let c: Factor | undefined;
  for (let i = 0; i < factors.length; i++) {
    const f = factors[i] as Factor;
    const v = sign * f.contribution;
    if (v <= 0) continue;
    if (a === undefined || v > sign * a.contribution) {
      c = b;
      b = a;
      a = f;
    } else if (b === undefined || v > sign * b.contribution) {
      c = b;
      b = f;
    } else if (c === undefined || v > sign * c.contribution) c = f;
  }
  if (a === undefined) return [];
  if (b === undefined) return [a];
  if (c === undefined) return [a, b];
  return [a, b, c];
}

/** Score deals; ctx.coLeadState is not modified (use scoreDealsWithState to get the next one). */
export function scoreDeals(
  model: TrainedModel | null,
  ctx: ScoringContext,
  deals: Deal[]
): ScoreResult[] {
  return scoreDealsWithState(model, ctx, deals).results;
}

/** Score deals and return the co-lead state after the batch's assignments (persist it). */
export function scoreDealsWithState(
  model: TrainedModel | null,
  ctx: ScoringContext,
  deals: Deal[]
): { results: ScoreResult[]; coLeadState: CoLeadState } {
  if (!DATE.test(ctx.now)) {
    throw new Error(`ctx.now must be a YYYY-MM-DD date, got "${ctx.now}"`);
  }
  const cm = compile(model ?? rulesModelFromRsfs(ctx.rsfs));
  const enc = cm.encoder;
  const table = ctx.rsfs;
  const tableEncoder = rsfsEncoder(table);
  const ledger = new CoLeadLedger(ctx.coLeadState);
  const risk = ctx.settings.risk;
  const minSample = ctx.settings.coLeadMinSample;
  const modelVersion = ctx.modelVersion ?? null;
  const today = dayNumber(ctx.now);
  const days = new Map<string, number>();
  const dayOf = (date: string, dealId: string): number => {
    let d = days.get(date);
    if (d === undefined) {
      if (!DATE.test(date)) throw new Error(`deal ${dealId}: date "${date}" is not YYYY-MM-DD`);
      days.set(date, (d = dayNumber(date)));
    }
    return d;
  };
  const values: EncodedValue[] = new Array(CATEGORICAL_FIELDS.length);
  const x = new Float64Array(ENCODED_WIDTH);
  const k = cm.columns.length;
  const credits = new Float64Array(k);
  const results: ScoreResult[] = new Array(deals.length);

  for (let i = 0; i < deals.length; i++) {
    const deal = deals[i] as Deal;
    if (!(deal.amount > 0) || !Number.isFinite(deal.amount)) {
      throw new Error(`deal ${deal.id}: amount must be a number > 0, got ${deal.amount}`);
    }
    // Encode with the frozen tables.
    for (let f = 0; f < CATEGORICAL_FIELDS.length; f++) {
      const v =
        enc.fields[f]!.get(categoryOf(deal, CATEGORICAL_FIELDS[f] as CategoricalField)) ??
        enc.unseen;
      values[f] = v;
      x[f] = v.x;
    }
    const segment = categoryOf(deal, enc.segmentField);
    const fit = enc.cells.get(deal.ownerId)?.get(segment) ?? unseenCell(enc, deal.ownerId, segment);
    x[FIT_INDEX] = fit.x;
    x[AMOUNT_INDEX] = (Math.log(deal.amount) - cm.amountCenter) / cm.amountScale;

    // Exact additive explanation on the calibrated logit.
    const contributions: Factor[] = new Array(k);
    let z = cm.baseline;
    if (cm.trees) gbmCredits(cm.trees, x, 0, cm.columns, credits);
    for (let j = 0; j < k; j++) {
      const c = cm.trees
        ? cm.slope * (credits[j] as number)
        : (cm.effective[j] as number) * (x[cm.columns[j] as number] as number);
      z += c;
      contributions[j] = {
        feature: cm.names[j] as string,
        label: cm.genericLabels[j] as string,
        contribution: c
      };
    }
    const raising = top3(contributions, 1);
    const lowering = top3(contributions, -1);
    for (let j = 0; j < k; j++) {
      const f = contributions[j] as Factor;
      if (raising.includes(f) || lowering.includes(f)) f.label = labelOf(cm, j, deal, values, fit);
    }
    const probability = sigmoid(z);

    const end = deal.closedDate === null ? today : dayOf(deal.closedDate, deal.id);
    const age = Math.max(0, end - dayOf(deal.createdDate, deal.id));

    const rsfsSegment = categoryOf(deal, table.segmentField);
    const rsfs: RsfsResult = lookupRsfs(table, tableEncoder, deal.ownerId, rsfsSegment);
    // Co-leads only for open deals; a closed deal frees its co-lead slot.
    let coLeads: ScoreResult['coLeads'] = [];
    if (deal.outcome === null) coLeads = suggestCoLeads(ledger, table, deal.id, rsfs, minSample);
    else ledger.release(deal.id);

    results[i] = {
      dealId: deal.id,
      probability,
      logit: z,
      riskBand: riskBand(probability, deal.amount, age, risk),
      confidence: cm.confidence,
      method: cm.method,
      explanation: { baseline: cm.baseline, contributions, raising, lowering },
      rsfs,
      coLeads,
      modelVersion
    };
  }
  return { results, coLeadState: ledger.state() };
}
