// RSFS (rep-segment fit score): a rep's win rate in a segment, shrunk by empirical Bayes toward
// what the rep's overall rate and the team's segment rate predict together (added on the logit
// scale), so small samples never show 0% or 100%. The interval is the central 90% of the beta
// posterior. Bands compare reps within a segment: RED below the 25th percentile of the reps'
// RSFS, YELLOW below the median, GREEN otherwise.
import { betaQuantile } from './beta.ts';
import {
  buildEncodingTables,
  compileEncoder,
  estimateStrengths,
  clampStrengths,
  type CompiledEncoder,
  type SegmentField
} from './encoding.ts';
import { percentileSorted } from './math.ts';
import type {
  Deal,
  EncodingTables,
  OrgScoringSettings,
  RsfsBand,
  RsfsResult,
  RsfsTable,
  WinCount
} from './types.ts';

export const RSFS_INTERVAL_LEVEL = 0.9;
/**
 * The empirical-Bayes spread estimate is itself uncertain; a prior worth more than 100 deals
 * would give intervals narrower than the data supports, so RSFS caps the strength there.
 */
export const RSFS_MAX_STRENGTH = 100;

export function rsfsBand(rsfs: number, t: { p25: number; p50: number } | undefined): RsfsBand {
  if (!t) return 'GREEN'; // no rep has closed deals in the segment: nothing to compare with
  if (rsfs < t.p25) return 'RED';
  if (rsfs < t.p50) return 'YELLOW';
  return 'GREEN';
}

/** Posterior interval of a shrunk rate: Beta(w + m*prior, n - w + m*(1 - prior)). */
export function rsfsInterval(
  wins: number,
  n: number,
  strength: number,
  prior: number,
  level = RSFS_INTERVAL_LEVEL
): { low: number; high: number } {
  const a = wins + strength * prior;
  const b = n - wins + strength * (1 - prior);
  const tail = (1 - level) / 2;
  return { low: betaQuantile(tail, a, b), high: betaQuantile(1 - tail, a, b) };
}

function assertClosed(closed: Deal[]): void {
  for (let i = 0; i < closed.length; i++) {
    const d = closed[i] as Deal;
    if (d.outcome !== 'Won' && d.outcome !== 'Lost') {
      throw new Error(`closed deal ${d.id} (index ${i}) has no outcome (Won or Lost)`);
    }
  }
}

/** RSFS per (rep, segment) from closed deals, shrunk by empirical Bayes, with bands. */
export function computeRsfsTable(closed: Deal[], settings: OrgScoringSettings): RsfsTable {
  assertClosed(closed);
  const segmentField: SegmentField = settings.segmentField;
  const strengths = clampStrengths(estimateStrengths(closed, segmentField), RSFS_MAX_STRENGTH);
  const tables = buildEncodingTables(closed, strengths, segmentField);
  const enc = compileEncoder(tables);
  const segmentRates: Record<string, WinCount> = {};
  for (const [k, v] of Object.entries(tables.fields[segmentField] ?? {}))
    segmentRates[k] = [v[0], v[1]];
  const repOverall: Record<string, WinCount> = {};
  for (const [k, v] of Object.entries(tables.fields.rep ?? {})) repOverall[k] = [v[0], v[1]];

  const results: Record<string, Record<string, RsfsResult>> = {};
  for (const [rep, bySeg] of enc.cells) {
    for (const [segment, cell] of bySeg) {
      const prior = priorOf(enc, rep, segment);
      const { low, high } = rsfsInterval(cell.wins, cell.n, enc.fitStrength, prior);
      (results[segment] ??= {})[rep] = {
        repId: rep,
        segmentField,
        segment,
        wins: cell.wins,
        n: cell.n,
        rawRate: cell.n > 0 ? cell.wins / cell.n : null,
        rsfs: cell.rate,
        low,
        high,
        band: 'GREEN',
        teamRate: (enc.fields[enc.segmentIndex]!.get(segment) ?? enc.unseen).rate,
        repOverallRate: (enc.fields[0]!.get(rep) ?? enc.unseen).rate
      };
    }
  }
  const thresholds: Record<string, { p25: number; p50: number }> = {};
  for (const [segment, byRep] of Object.entries(results)) {
    const sorted = Object.values(byRep)
      .map((r) => r.rsfs)
      .sort((a, b) => a - b);
    const t = { p25: percentileSorted(sorted, 0.25), p50: percentileSorted(sorted, 0.5) };
    thresholds[segment] = t;
    for (const r of Object.values(byRep)) r.band = rsfsBand(r.rsfs, t);
  }
  return {
    segmentField,
    teamRate: enc.teamRate,
    segmentRates,
    repOverall,
    results,
    thresholds,
    strength: { rep: strengths.rep, segment: strengths[segmentField], fit: strengths.fit },
    intervalLevel: RSFS_INTERVAL_LEVEL,
    computedThrough: tables.through
  };
}

function priorOf(enc: CompiledEncoder, rep: string, segment: string): number {
  const x =
    enc.teamLogit +
    (enc.fields[0]!.get(rep) ?? enc.unseen).x +
    (enc.fields[enc.segmentIndex]!.get(segment) ?? enc.unseen).x;
  return 1 / (1 + Math.exp(-x));
}

/** Frozen encoding tables equivalent to an RSFS table (rep, segment and fit only). */
export function rsfsEncodingTables(t: RsfsTable): EncodingTables {
  const repSegment: Record<string, WinCount> = {};
  for (const [segment, byRep] of Object.entries(t.results)) {
    for (const [rep, r] of Object.entries(byRep))
      repSegment[`${rep}\u0001${segment}`] = [r.wins, r.n];
  }
  let wins = 0;
  let n = 0;
  for (const [w, c] of Object.values(t.repOverall)) {
    wins += w;
    n += c;
  }
  return {
    segmentField: t.segmentField,
    team: [wins, n] as WinCount,
    fields: { rep: t.repOverall, [t.segmentField]: t.segmentRates },
    repSegment,
    strength: { rep: t.strength.rep, [t.segmentField]: t.strength.segment, fit: t.strength.fit },
    through: t.computedThrough
  };
}

const priorResults = new WeakMap<RsfsTable, Map<string, RsfsResult>>();

/**
 * The RSFS of a (rep, segment) pair: from the table, or for a pair with no closed deals, the
 * prior (n = 0) banded against the segment's reps (computed once per table and pair).
 */
export function lookupRsfs(
  t: RsfsTable,
  enc: CompiledEncoder,
  rep: string,
  segment: string
): RsfsResult {
  const found = t.results[segment]?.[rep];
  if (found) return found;
  let cache = priorResults.get(t);
  if (!cache) priorResults.set(t, (cache = new Map()));
  const key = `${rep}\u0001${segment}`;
  let result = cache.get(key);
  if (!result) cache.set(key, (result = priorRsfs(t, enc, rep, segment)));
  return result;
}

/** A pair never seen closed: the prior itself, n = 0, banded against the segment's reps. */
function priorRsfs(t: RsfsTable, enc: CompiledEncoder, rep: string, segment: string): RsfsResult {
  const prior = priorOf(enc, rep, segment);
  const { low, high } = rsfsInterval(0, 0, t.strength.fit, prior);
  return {
    repId: rep,
    segmentField: t.segmentField,
    segment,
    wins: 0,
    n: 0,
    rawRate: null,
    rsfs: prior,
    low,
    high,
    band: rsfsBand(prior, t.thresholds[segment]),
    teamRate: (enc.fields[enc.segmentIndex]!.get(segment) ?? enc.unseen).rate,
    repOverallRate: (enc.fields[0]!.get(rep) ?? enc.unseen).rate
  };
}
