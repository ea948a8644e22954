// Holdout metrics: rank-based AUC (ties count one half), a seeded bootstrap interval for it,
// Brier score, log loss and expected calibration error (10 equal-width bins).
import { mulberry32 } from './random.ts';
import type { ModelMetrics } from './types.ts';

const EPS = 1e-15;

/** Indices of `scores` in ascending order. */
function ascendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
  return order;
}

/** Labels in ascending score order, and where each group of equal scores ends. */
interface Ranked {
  labels: Uint8Array;
  groupEnds: Uint32Array;
}

function rank(scores: ArrayLike<number>, labels: ArrayLike<number>): Ranked {
  const order = ascendingOrder(scores);
  const sorted = new Uint8Array(order.length);
  const ends: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const k = order[i] as number;
    sorted[i] = labels[k] === 1 ? 1 : 0;
    const next = order[i + 1];
    if (next === undefined || scores[next] !== scores[k]) ends.push(i + 1);
  }
  return { labels: sorted, groupEnds: Uint32Array.from(ends) };
}

/**
 * AUC over ranked examples with optional weights (counts, by rank position). Equal scores form
 * one group; a positive tied with a negative counts one half. O(n), sequential.
 */
function weightedAuc(r: Ranked, weights: Uint32Array | null): number {
  let negBelow = 0; // weighted negatives with a strictly lower score
  let pairs = 0;
  let pos = 0;
  let neg = 0;
  let start = 0;
  for (let gi = 0; gi < r.groupEnds.length; gi++) {
    const end = r.groupEnds[gi] as number;
    let gPos = 0;
    let gNeg = 0;
    for (let i = start; i < end; i++) {
      const w = weights ? (weights[i] as number) : 1;
      if (r.labels[i] === 1) gPos += w;
      else gNeg += w;
    }
    pairs += gPos * (negBelow + gNeg / 2);
    negBelow += gNeg;
    pos += gPos;
    neg += gNeg;
    start = end;
  }
  return pos === 0 || neg === 0 ? NaN : pairs / (pos * neg);
}

/** Area under the ROC curve; labels are 1 (won) or 0 (lost). NaN with only one class. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return weightedAuc(rank(scores, labels), null);
}

/**
 * Percentile bootstrap interval for the AUC: `resamples` resamples of the examples with
 * replacement, seeded. Examples are ranked once; a resample is a count per rank position
 * (drawing positions uniformly is drawing examples uniformly), so each resample is O(n).
 */
export function bootstrapAucInterval(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  opts: { resamples?: number; seed?: number; level?: number } = {}
): { low: number; high: number } {
  const resamples = opts.resamples ?? 200;
  const level = opts.level ?? 0.95;
  const rand = mulberry32(opts.seed ?? 1);
  const n = scores.length;
  const ranked = rank(scores, labels);
  const counts = new Uint32Array(n);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor(rand() * n)]! += 1;
    const v = weightedAuc(ranked, counts);
    if (!Number.isNaN(v)) values.push(v);
  }
  if (values.length === 0) return { low: NaN, high: NaN };
  values.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  const at = (q: number) =>
    values[Math.min(values.length - 1, Math.max(0, Math.floor(q * values.length)))] as number;
  return { low: at(tail), high: at(1 - tail) };
}

export function brier(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probs.length; i++) {
    const d = (probs[i] as number) - (labels[i] as number);
    s += d * d;
  }
  return s / probs.length;
}

export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = Math.min(Math.max(probs[i] as number, EPS), 1 - EPS);
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / probs.length;
}

export interface CalibrationBin {
  bin: number;
  meanPredicted: number;
  observedRate: number;
  n: number;
}

/** Ten equal-width probability bins (empty bins omitted) and the ECE: sum of n_b/N * |gap_b|. */
export function calibration(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10
): { ece: number; bins: CalibrationBin[] } {
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const cnt = new Float64Array(bins);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    sumP[b]! += p;
    sumY[b]! += labels[i] as number;
    cnt[b]! += 1;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = cnt[b] as number;
    if (c === 0) continue;
    const mp = (sumP[b] as number) / c;
    const or = (sumY[b] as number) / c;
    ece += (c / probs.length) * Math.abs(mp - or);
    out.push({ bin: b, meanPredicted: mp, observedRate: or, n: c });
  }
  return { ece, bins: out };
}

/**
 * Every holdout metric beside the base rate's: the base rate is the training win rate,
 * predicted for every holdout deal (its AUC is 0.5 by definition).
 */
export function holdoutMetrics(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  trainBaseRate: number,
  opts: { resamples?: number; seed?: number } = {}
): ModelMetrics {
  const n = probs.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] as number;
  const base = new Float64Array(n).fill(trainBaseRate);
  const interval = bootstrapAucInterval(probs, labels, opts);
  const cal = calibration(probs, labels);
  return {
    n,
    positives,
    baseRate: trainBaseRate,
    auc: auc(probs, labels),
    aucLow: interval.low,
    aucHigh: interval.high,
    brier: brier(probs, labels),
    brierBaseline: brier(base, labels),
    logLoss: logLoss(probs, labels),
    logLossBaseline: logLoss(base, labels),
    ece: cal.ece,
    eceBaseline: calibration(base, labels).ece,
    calibration: cal.bins
  };
}
