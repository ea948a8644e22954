// As-of encodings: each categorical value becomes its shrunk win rate on the logit scale,
// relative to the team, computed only from deals closed BEFORE the moment of scoring.
//
//   team rate        p0 = (W + 1) / (N + 2)
//   main effect      x_f    = logit((w + m_f p0) / (n + m_f)) - logit(p0)
//   rep x segment    prior  = sigmoid(logit(p0) + x_rep + x_segment)
//                    x_fit  = logit((w + m_c prior) / (n + m_c)) - logit(prior)
//
// m (prior strength, in pseudo-deals) comes from empirical Bayes (method of moments). The same
// formulas serve training (an incremental sweep in time order, O(n log n)) and scoring (frozen
// tables), so a deal is encoded the same way in both.
import { dayNumber, logit, sigmoid } from './math.ts';
import type { Deal, EncodingTables, OrgScoringSettings, WinCount } from './types.ts';

export const CATEGORICAL_FIELDS = [
  'rep',
  'industry',
  'region',
  'productType',
  'leadSource'
] as const;
export type CategoricalField = (typeof CATEGORICAL_FIELDS)[number];
export type SegmentField = OrgScoringSettings['segmentField'];

/** Machine names of every feature, in encoded-vector order. */
export const FEATURE_NAMES = [
  'rep_overall',
  'industry',
  'region',
  'product_type',
  'lead_source',
  'rep_segment_fit',
  'amount'
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FIT_INDEX = 5;
export const AMOUNT_INDEX = 6;
export const ENCODED_WIDTH = 7;

/** Stand-in for a missing optional field. */
export const NONE = '(none)';

export function categoryOf(d: Deal, f: CategoricalField): string {
  switch (f) {
    case 'rep':
      return d.ownerId;
    case 'industry':
      return d.industry;
    case 'region':
      return d.region ?? NONE;
    case 'productType':
      return d.productType ?? NONE;
    case 'leadSource':
      return d.leadSource ?? NONE;
  }
}

export function fieldIndex(f: CategoricalField): number {
  return CATEGORICAL_FIELDS.indexOf(f);
}

/** Shrinkage strengths (pseudo-deals): one per categorical field, and `fit` for rep x segment. */
export type Strengths = Record<CategoricalField | 'fit', number>;

export const MIN_STRENGTH = 2;
export const MAX_STRENGTH = 10_000;

export function teamRate(wins: number, n: number): number {
  return (wins + 1) / (n + 2);
}

export function shrunkRate(wins: number, n: number, strength: number, prior: number): number {
  return (wins + strength * prior) / (n + strength);
}

/**
 * Empirical-Bayes prior strength for groups whose true rates scatter around known means:
 * Var(w_k) = n_k E[t(1-t)] + n_k^2 tau^2 gives tau^2 = sum((w - n pi)^2 - n pi(1-pi)) / sum(n^2 - n),
 * and a beta prior with variance pi(1-pi)/(m+1) gives m. Clamped to [MIN, MAX]; no spread -> MAX.
 */
export function estimateStrength(groups: { wins: number; n: number; prior: number }[]): number {
  let num = 0;
  let den = 0;
  let pw = 0;
  let nw = 0;
  for (const g of groups) {
    const e = g.wins - g.n * g.prior;
    num += e * e - g.n * g.prior * (1 - g.prior);
    den += g.n * g.n - g.n;
    pw += g.n * g.prior * (1 - g.prior);
    nw += g.n;
  }
  if (den <= 0 || nw <= 0) return MAX_STRENGTH;
  const tau2 = num / den;
  const pq = pw / nw;
  if (tau2 <= pq / (MAX_STRENGTH + 1)) return MAX_STRENGTH;
  return Math.min(MAX_STRENGTH, Math.max(MIN_STRENGTH, pq / tau2 - 1));
}

/** Strengths limited to [min, max] (e.g. the rules model and RSFS use a narrower range). */
export function clampStrengths(s: Strengths, max: number, min = MIN_STRENGTH): Strengths {
  const out = {} as Strengths;
  for (const k of Object.keys(s) as (keyof Strengths)[])
    out[k] = Math.min(max, Math.max(min, s[k]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Counts over integer-coded deals (fast path for training).

interface Coded {
  cats: Int32Array[]; // per field, the value's id
  cell: Int32Array; // rep id * segments + segment id
  won: Uint8Array;
  created: Int32Array; // day numbers
  closed: Int32Array; // day numbers (-1 if open)
}

class Dictionary {
  readonly maps: Map<string, number>[] = CATEGORICAL_FIELDS.map(() => new Map());
  id(field: number, value: string): number {
    const m = this.maps[field] as Map<string, number>;
    let v = m.get(value);
    if (v === undefined) {
      v = m.size;
      m.set(value, v);
    }
    return v;
  }
}

function codeDeals(deals: Deal[], dict: Dictionary): Coded {
  const n = deals.length;
  const cats = CATEGORICAL_FIELDS.map(() => new Int32Array(n));
  const won = new Uint8Array(n);
  const created = new Int32Array(n);
  const closed = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = deals[i] as Deal;
    for (let f = 0; f < CATEGORICAL_FIELDS.length; f++) {
      (cats[f] as Int32Array)[i] = dict.id(
        f,
        categoryOf(d, CATEGORICAL_FIELDS[f] as CategoricalField)
      );
    }
    won[i] = d.outcome === 'Won' ? 1 : 0;
    created[i] = dayNumber(d.createdDate);
    closed[i] = d.closedDate === null ? -1 : dayNumber(d.closedDate);
  }
  return { cats, cell: new Int32Array(n), won, created, closed };
}

class Counts {
  wins: Float64Array[];
  n: Float64Array[];
  cellWins: Float64Array;
  cellN: Float64Array;
  teamWins = 0;
  teamN = 0;
  constructor(
    sizes: number[],
    readonly segments: number,
    readonly segField: number
  ) {
    this.wins = sizes.map((s) => new Float64Array(s));
    this.n = sizes.map((s) => new Float64Array(s));
    const cells = (sizes[0] as number) * segments;
    this.cellWins = new Float64Array(cells);
    this.cellN = new Float64Array(cells);
  }
  add(c: Coded, i: number): void {
    const w = c.won[i] as number;
    for (let f = 0; f < this.wins.length; f++) {
      const k = (c.cats[f] as Int32Array)[i] as number;
      (this.wins[f] as Float64Array)[k]! += w;
      (this.n[f] as Float64Array)[k]! += 1;
    }
    const cell = c.cell[i] as number;
    this.cellWins[cell]! += w;
    this.cellN[cell]! += 1;
    this.teamWins += w;
    this.teamN += 1;
  }
  /** Writes the six encoded categorical features of row i (no amount) at out[offset..]. */
  encode(c: Coded, i: number, s: number[], out: Float64Array, offset: number): void {
    const p0 = teamRate(this.teamWins, this.teamN);
    const l0 = logit(p0);
    // A value with no closed deals is exactly 0 (the team rate), as in the frozen tables.
    for (let f = 0; f < this.wins.length; f++) {
      const k = (c.cats[f] as Int32Array)[i] as number;
      const n = (this.n[f] as Float64Array)[k] as number;
      const w = (this.wins[f] as Float64Array)[k] as number;
      out[offset + f] = n === 0 ? 0 : logit(shrunkRate(w, n, s[f] as number, p0)) - l0;
    }
    const priorLogit = l0 + (out[offset] as number) + (out[offset + this.segField] as number);
    const cell = c.cell[i] as number;
    const cn = this.cellN[cell] as number;
    out[offset + FIT_INDEX] =
      cn === 0
        ? 0
        : logit(
            shrunkRate(this.cellWins[cell] as number, cn, s[5] as number, sigmoid(priorLogit))
          ) - priorLogit;
  }
}

function strengthArray(s: Strengths): number[] {
  return [...CATEGORICAL_FIELDS.map((f) => s[f]), s.fit];
}

function prepare(history: Deal[], rows: Deal[], segmentField: SegmentField) {
  const dict = new Dictionary();
  const h = codeDeals(history, dict);
  const r = rows === history ? h : codeDeals(rows, dict);
  const segField = fieldIndex(segmentField);
  const segments = Math.max(1, (dict.maps[segField] as Map<string, number>).size);
  for (const c of r === h ? [h] : [h, r]) {
    const rep = c.cats[0] as Int32Array;
    const seg = c.cats[segField] as Int32Array;
    for (let i = 0; i < c.cell.length; i++)
      c.cell[i] = (rep[i] as number) * segments + (seg[i] as number);
  }
  const counts = new Counts(
    dict.maps.map((m) => Math.max(1, m.size)),
    segments,
    segField
  );
  return { h, r, counts };
}

/**
 * As-of encodings of `rows`: for each row, only deals of `history` closed strictly before the
 * row's created date count. Both are processed in time order, once: O(n log n).
 * Returns a row-major matrix rows.length x ENCODED_WIDTH with the amount column left at 0.
 */
export function encodeAsOf(
  history: Deal[],
  rows: Deal[],
  strength: Strengths,
  segmentField: SegmentField
): Float64Array {
  const { h, r, counts } = prepare(history, rows, segmentField);
  const closedIdx: number[] = [];
  for (let i = 0; i < h.closed.length; i++)
    if ((h.closed[i] as number) >= 0 && history[i]!.outcome) closedIdx.push(i);
  closedIdx.sort((a, b) => (h.closed[a] as number) - (h.closed[b] as number));
  const rowOrder = new Uint32Array(r.created.length);
  for (let i = 0; i < rowOrder.length; i++) rowOrder[i] = i;
  rowOrder.sort((a, b) => (r.created[a] as number) - (r.created[b] as number));
  const s = strengthArray(strength);
  const out = new Float64Array(rows.length * ENCODED_WIDTH);
  let next = 0;
  for (const i of rowOrder) {
    const day = r.created[i] as number;
    while (next < closedIdx.length && (h.closed[closedIdx[next] as number] as number) < day) {
      counts.add(h, closedIdx[next] as number);
      next++;
    }
    counts.encode(r, i, s, out, i * ENCODED_WIDTH);
  }
  return out;
}

/** Empirical-Bayes strengths from the final counts of `deals` (all must be closed). */
export function estimateStrengths(deals: Deal[], segmentField: SegmentField): Strengths {
  const { h, counts } = prepare(deals, deals, segmentField);
  for (let i = 0; i < deals.length; i++) counts.add(h, i);
  const p0 = teamRate(counts.teamWins, counts.teamN);
  const out = {} as Strengths;
  CATEGORICAL_FIELDS.forEach((f, fi) => {
    const groups = Array.from(counts.n[fi] as Float64Array, (n, k) => ({
      wins: (counts.wins[fi] as Float64Array)[k] as number,
      n,
      prior: p0
    }));
    out[f] = estimateStrength(groups);
  });
  // Cells scatter around the main-effects prediction (rep + segment).
  const segField = fieldIndex(segmentField);
  const l0 = logit(p0);
  const groups: { wins: number; n: number; prior: number }[] = [];
  const reps = (counts.n[0] as Float64Array).length;
  for (let rep = 0; rep < reps; rep++) {
    const xr = logit(shrunkRate(counts.wins[0]![rep]!, counts.n[0]![rep]!, out.rep, p0)) - l0;
    for (let seg = 0; seg < counts.segments; seg++) {
      const n = counts.cellN[rep * counts.segments + seg] as number;
      if (n === 0) continue;
      const m = out[segmentField];
      const xs =
        logit(shrunkRate(counts.wins[segField]![seg]!, counts.n[segField]![seg]!, m, p0)) - l0;
      groups.push({
        wins: counts.cellWins[rep * counts.segments + seg] as number,
        n,
        prior: sigmoid(l0 + xr + xs)
      });
    }
  }
  out.fit = estimateStrength(groups);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frozen tables (stored in the model) and their compiled, fast form for scoring.

const CELL_SEP = '\u0001';

/** Win counts of closed deals (closed strictly before `before`, when given), frozen as JSON. */
export function buildEncodingTables(
  history: Deal[],
  strength: Strengths,
  segmentField: SegmentField,
  before?: string
): EncodingTables {
  const limit = before === undefined ? Infinity : dayNumber(before);
  const fields: Record<string, Record<string, WinCount>> = {};
  for (const f of CATEGORICAL_FIELDS) fields[f] = {};
  const repSegment: Record<string, WinCount> = {};
  const team: WinCount = [0, 0];
  let through: string | null = null;
  const bump = (rec: Record<string, WinCount>, key: string, w: number) => {
    const c = rec[key];
    if (c) {
      c[0] += w;
      c[1] += 1;
    } else rec[key] = [w, 1];
  };
  for (const d of history) {
    if (d.outcome === null || d.closedDate === null) continue;
    if (dayNumber(d.closedDate) >= limit) continue;
    const w = d.outcome === 'Won' ? 1 : 0;
    for (const f of CATEGORICAL_FIELDS)
      bump(fields[f] as Record<string, WinCount>, categoryOf(d, f), w);
    bump(repSegment, `${d.ownerId}${CELL_SEP}${categoryOf(d, segmentField)}`, w);
    team[0] += w;
    team[1] += 1;
    if (through === null || d.closedDate > through) through = d.closedDate;
  }
  return { segmentField, team, fields, repSegment, strength: { ...strength }, through };
}

/** One encoded category: its feature value and what the label needs. */
export interface EncodedValue {
  x: number;
  wins: number;
  n: number;
  rate: number; // shrunk rate
  /** Plain-words label, filled in (once) by the scorer the first time it is shown. */
  label?: string;
}

export interface CompiledEncoder {
  segmentField: SegmentField;
  segmentIndex: number;
  teamRate: number;
  teamLogit: number;
  fields: Map<string, EncodedValue>[];
  /** For a value never seen: x = 0, n = 0, rate = team rate. */
  unseen: EncodedValue;
  /** rep -> segment -> rep x segment fit. */
  cells: Map<string, Map<string, EncodedValue>>;
  fitStrength: number;
}

export function compileEncoder(t: EncodingTables): CompiledEncoder {
  const p0 = teamRate(t.team[0], t.team[1]);
  const l0 = logit(p0);
  const fields = CATEGORICAL_FIELDS.map((f) => {
    const m = t.strength[f] ?? MAX_STRENGTH;
    const map = new Map<string, EncodedValue>();
    for (const [value, [w, n]] of Object.entries(t.fields[f] ?? {})) {
      const rate = shrunkRate(w, n, m, p0);
      map.set(value, { x: logit(rate) - l0, wins: w, n, rate });
    }
    return map;
  });
  const unseen: EncodedValue = { x: 0, wins: 0, n: 0, rate: p0 };
  const segmentIndex = fieldIndex(t.segmentField);
  const fitStrength = t.strength.fit ?? MAX_STRENGTH;
  const cells = new Map<string, Map<string, EncodedValue>>();
  for (const [key, [w, n]] of Object.entries(t.repSegment)) {
    const sep = key.indexOf(CELL_SEP);
    const rep = key.slice(0, sep);
    const seg = key.slice(sep + 1);
    const priorLogit =
      l0 + (fields[0]!.get(rep) ?? unseen).x + (fields[segmentIndex]!.get(seg) ?? unseen).x;
    const rate = shrunkRate(w, n, fitStrength, sigmoid(priorLogit));
    let bySeg = cells.get(rep);
    if (!bySeg) cells.set(rep, (bySeg = new Map()));
    bySeg.set(seg, { x: logit(rate) - priorLogit, wins: w, n, rate });
  }
  return {
    segmentField: t.segmentField,
    segmentIndex,
    teamRate: p0,
    teamLogit: l0,
    fields,
    unseen,
    cells,
    fitStrength
  };
}

/** The rep x segment fit of a pair never seen closed: x = 0 and the rate is the prior. */
export function unseenCell(enc: CompiledEncoder, rep: string, segment: string): EncodedValue {
  const priorLogit =
    enc.teamLogit +
    (enc.fields[0]!.get(rep) ?? enc.unseen).x +
    (enc.fields[enc.segmentIndex]!.get(segment) ?? enc.unseen).x;
  return { x: 0, wins: 0, n: 0, rate: sigmoid(priorLogit) };
}

/** Encoded categorical features of a deal with frozen tables (amount column left at 0). */
export function encodeWithTables(
  enc: CompiledEncoder,
  d: Deal,
  out: Float64Array,
  offset = 0
): void {
  for (let f = 0; f < CATEGORICAL_FIELDS.length; f++) {
    out[offset + f] = (
      enc.fields[f]!.get(categoryOf(d, CATEGORICAL_FIELDS[f] as CategoricalField)) ?? enc.unseen
    ).x;
  }
  const cell = enc.cells.get(d.ownerId)?.get(categoryOf(d, enc.segmentField));
  out[offset + FIT_INDEX] = cell ? cell.x : 0;
  out[offset + AMOUNT_INDEX] = 0;
}
