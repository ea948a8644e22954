// "What drives win rate": reads a stored model (scoring TrainedModel JSON) and says what it
// weighs most, with direction, in plain words. Pure code over the model JSON.
//
// Features are the scoring core's as-of encodings: each category's shrunk win rate on the logit
// scale relative to the team (x = 0 is the team average). For a linear model a category's
// effect on the calibrated logit is a * coef * x; a feature's weight is a * |coef| times the
// spread (deal-weighted standard deviation) of its x. Trees have no coefficients: their weight
// is how often they split on the feature, and category effects are the encoded rates.
import {
  compileEncoder,
  FEATURE_NAMES,
  CATEGORICAL_FIELDS,
  type CompiledEncoder,
  type EncodedValue
} from '../scoring/encoding.ts';
import { sigmoid } from '../scoring/math.ts';
import type { TrainedModel, Verdict } from '../scoring/types.ts';

export interface CategoryEffect {
  value: string;
  /** The category's win rate (shrunk toward the team's) and how many closed deals it is based on. */
  winRate: number;
  n: number;
  /** Effect on the calibrated logit (linear models) or the encoded value (trees). */
  effect: number;
  /** The same effect in probability points at the team's rate. */
  effectPoints: number;
  direction: 'raises' | 'lowers';
}

export interface Driver {
  feature: string;
  /** Relative weight, 0..1 (the strongest driver is 1). */
  weight: number;
  direction: 'raises' | 'lowers' | 'depends_on_value' | 'none';
  summary: string;
  /** Strongest categories on both sides (categorical features only). */
  effects: CategoryEffect[];
}

export interface DriversReport {
  modelVersion: number;
  kind: string;
  verdict: Verdict;
  teamWinRate: number;
  reliable: boolean;
  headline: string;
  drivers: Driver[];
}

const FIELD_OF_FEATURE: Record<string, string> = {
  rep_overall: 'rep',
  industry: 'industry',
  region: 'region',
  product_type: 'productType',
  lead_source: 'leadSource'
};

const LABEL: Record<string, string> = {
  rep_overall: 'which rep owns the deal',
  industry: 'industry',
  region: 'region',
  product_type: 'product type',
  lead_source: 'lead source',
  rep_segment_fit: "the owner's track record in the deal's segment (rep-segment fit)",
  amount: 'deal amount'
};

const pct = (p: number) => `${Math.round(p * 100)}%`;

function weightedSpread(values: EncodedValue[]): number {
  let n = 0;
  let mean = 0;
  for (const v of values) {
    n += v.n;
    mean += v.n * v.x;
  }
  if (n === 0) return 0;
  mean /= n;
  let s = 0;
  for (const v of values) s += v.n * (v.x - mean) ** 2;
  return Math.sqrt(s / n);
}

function valuesOf(enc: CompiledEncoder, feature: string): [string, EncodedValue][] {
  const field = FIELD_OF_FEATURE[feature];
  if (field) {
    const i = (CATEGORICAL_FIELDS as readonly string[]).indexOf(field);
    return [...(enc.fields[i]?.entries() ?? [])];
  }
  if (feature === 'rep_segment_fit') {
    const out: [string, EncodedValue][] = [];
    for (const [rep, bySeg] of enc.cells)
      for (const [seg, v] of bySeg) out.push([`${rep} in ${seg}`, v]);
    return out;
  }
  return [];
}

/** Builds the plain-words report for one stored model version. */
export function winRateDrivers(
  model: TrainedModel,
  modelVersion: number,
  opts: { topEffects?: number; minSample?: number } = {}
): DriversReport {
  const topEffects = opts.topEffects ?? 3;
  const minSample = opts.minSample ?? 10;
  const enc = compileEncoder(model.encodings);
  const p0 = enc.teamRate;
  const a = model.calibration?.a ?? 1;
  const features = model.featureSpec.features;
  const linear = model.kind !== 'gbm' && model.coefficients.length === features.length;

  // Tree models: how often each feature is split on.
  const splits = new Array<number>(features.length).fill(0);
  if (!linear)
    for (const t of model.trees ?? [])
      for (const f of t.feature) if (f >= 0 && f < splits.length) splits[f]! += 1;

  const raw = features.map((feature, j) => {
    const coef = linear ? (model.coefficients[j] ?? 0) * a : 0;
    const values = valuesOf(enc, feature).filter(([, v]) => v.n >= minSample);
    const encoded = values.map(([, v]) => v);
    const importance = linear
      ? Math.abs(coef) * (encoded.length ? weightedSpread(encoded) : feature === 'amount' ? 1 : 0)
      : (splits[j] ?? 0);
    const effects: CategoryEffect[] = values
      .map(([value, v]) => {
        const effect = linear ? coef * v.x : v.x;
        return {
          value,
          winRate: v.rate,
          n: v.n,
          effect,
          effectPoints: sigmoid(enc.teamLogit + effect) - p0,
          direction: (effect >= 0 ? 'raises' : 'lowers') as 'raises' | 'lowers'
        };
      })
      .sort((x, y) => y.effect - x.effect);
    const best = effects.filter((e) => e.effect > 0).slice(0, topEffects);
    const worst = effects
      .filter((e) => e.effect < 0)
      .slice(-topEffects)
      .reverse();
    return { feature, coef, importance, effects: [...best, ...worst] };
  });

  const maxImportance = Math.max(0, ...raw.map((r) => r.importance));
  const drivers: Driver[] = raw
    .map((r) => {
      const label = LABEL[r.feature] ?? r.feature.replace(/_/g, ' ');
      const weight = maxImportance > 0 ? r.importance / maxImportance : 0;
      let direction: Driver['direction'];
      let summary: string;
      if (r.importance === 0) {
        direction = 'none';
        summary = `The model gives ${label} no weight.`;
      } else if (r.feature === 'amount' && linear) {
        direction = r.coef > 0 ? 'raises' : 'lowers';
        summary = `Larger deals are ${r.coef > 0 ? 'more' : 'less'} likely to be won.`;
      } else if (r.effects.length === 0) {
        direction = linear ? (r.coef > 0 ? 'raises' : 'lowers') : 'depends_on_value';
        summary = linear
          ? `A higher ${label} ${r.coef > 0 ? 'raises' : 'lowers'} the win probability.`
          : `The model splits on ${label} ${r.importance} times.`;
      } else {
        direction = 'depends_on_value';
        const top = r.effects[0]!;
        const bottom = r.effects[r.effects.length - 1]!;
        const parts: string[] = [];
        if (top.effect > 0) parts.push(`${top.value} wins ${pct(top.winRate)} (n=${top.n})`);
        if (bottom.effect < 0)
          parts.push(`${bottom.value} wins ${pct(bottom.winRate)} (n=${bottom.n})`);
        summary = `Depends on ${label}: ${parts.join('; ')}, against ${pct(p0)} for the team.`;
      }
      return { feature: r.feature, weight, direction, summary, effects: r.effects };
    })
    .sort((x, y) => y.weight - x.weight);

  const reliable = model.verdict === 'signal';
  const strongest = drivers.find((d) => d.weight > 0);
  const headline = !reliable
    ? model.verdict === 'insufficient_data'
      ? 'Not enough closed deals to learn what drives win rate; scores use simple rules and are low confidence.'
      : 'On deals it did not train on, the model does not beat the team base rate: none of these factors is a reliable driver. Treat them as weak hints.'
    : strongest
      ? `The model weighs ${LABEL[strongest.feature] ?? strongest.feature} most.`
      : 'The model weighs no factor strongly.';
  return {
    modelVersion,
    kind: model.kind,
    verdict: model.verdict,
    teamWinRate: p0,
    reliable,
    headline,
    drivers
  };
}

/** Feature names the scoring core uses (for documentation in the OpenAPI description). */
export const KNOWN_FEATURES: readonly string[] = FEATURE_NAMES;
