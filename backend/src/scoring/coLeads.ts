// Co-lead suggestions for deals whose owner's RSFS band is RED: the three other reps with the
// best RSFS in the segment (at least `minSample` closed deals there, and better than the owner),
// ranked by RSFS (ties by rep id). One is chosen: the candidate with the lowest current co-lead
// load; among equally loaded ones, the first at or after the round-robin cursor's position
// (cursor mod the number of candidates, scanning cyclically). The cursor advances per choice. The others stay as
// alternatives. A deal keeps its current primary while that rep is still a candidate, so
// rescoring the same deal with the same data gives the same answer and does not add load.
import { formatInt, percent } from './labels.ts';
import type { CoLeadCandidate, CoLeadState, RsfsResult, RsfsTable } from './types.ts';

export const MAX_CO_LEADS = 3;

/** Reps eligible as co-leads in each segment, best RSFS first (cached per table and sample). */
const eligibleCache = new WeakMap<RsfsTable, Map<number, Map<string, RsfsResult[]>>>();

function eligibleIn(table: RsfsTable, segment: string, minSample: number): RsfsResult[] {
  let bySample = eligibleCache.get(table);
  if (!bySample) eligibleCache.set(table, (bySample = new Map()));
  let bySegment = bySample.get(minSample);
  if (!bySegment) bySample.set(minSample, (bySegment = new Map()));
  let list = bySegment.get(segment);
  if (!list) {
    list = Object.values(table.results[segment] ?? {})
      .filter((r) => r.n >= minSample)
      .sort((a, b) => b.rsfs - a.rsfs || (a.repId < b.repId ? -1 : a.repId > b.repId ? 1 : 0));
    bySegment.set(segment, list);
  }
  return list;
}

/** The top candidates for a deal owned by `owner` (other reps, better RSFS, enough sample). */
export function coLeadCandidates(
  table: RsfsTable,
  owner: RsfsResult,
  minSample: number
): RsfsResult[] {
  const out: RsfsResult[] = [];
  for (const r of eligibleIn(table, owner.segment, minSample)) {
    if (r.rsfs <= owner.rsfs) break;
    if (r.repId === owner.repId) continue;
    out.push(r);
    if (out.length === MAX_CO_LEADS) break;
  }
  return out;
}

/** Copy-on-write view of the co-lead state: the caller's state is never modified. */
export class CoLeadLedger {
  private load: Record<string, number>;
  private assigned: Record<string, string>;
  private cursor: number;
  private copied = false;

  constructor(private readonly initial: CoLeadState) {
    this.load = initial.load;
    this.assigned = initial.assigned ?? {};
    this.cursor = initial.cursor;
  }

  private writable(): void {
    if (this.copied) return;
    this.load = { ...this.load };
    this.assigned = { ...this.assigned };
    this.copied = true;
  }

  loadOf(rep: string): number {
    return this.load[rep] ?? 0;
  }

  /** Picks the primary among candidates (index into them) and records the assignment. */
  choose(dealId: string, candidates: RsfsResult[]): number {
    const current = this.assigned[dealId];
    if (current !== undefined) {
      const kept = candidates.findIndex((c) => c.repId === current);
      if (kept >= 0) return kept;
      this.release(dealId);
    }
    let lowest = Infinity;
    for (const c of candidates) lowest = Math.min(lowest, this.loadOf(c.repId));
    // Scan from the cursor's position, cyclically: the first least-loaded candidate wins.
    const start = this.cursor % candidates.length;
    let pick = start;
    for (let off = 0; off < candidates.length; off++) {
      const i = (start + off) % candidates.length;
      if (this.loadOf((candidates[i] as RsfsResult).repId) === lowest) {
        pick = i;
        break;
      }
    }
    const rep = (candidates[pick] as RsfsResult).repId;
    this.writable();
    this.cursor += 1;
    this.load[rep] = this.loadOf(rep) + 1;
    this.assigned[dealId] = rep;
    return pick;
  }

  /** The deal no longer needs a co-lead (or needs another one): its primary's load drops. */
  release(dealId: string): void {
    const current = this.assigned[dealId];
    if (current === undefined) return;
    this.writable();
    delete this.assigned[dealId];
    this.load[current] = Math.max(0, this.loadOf(current) - 1);
  }

  state(): CoLeadState {
    if (!this.copied) return this.initial;
    return { load: this.load, cursor: this.cursor, assigned: this.assigned };
  }
}

function reasonOf(c: RsfsResult, owner: RsfsResult, rank: number, primary: boolean): string {
  const fit =
    `${c.repId} wins ${percent(c.rsfs)} of ${c.segment} deals (n=${formatInt(c.n)}) ` +
    `vs ${percent(owner.rsfs)} for ${owner.repId}`;
  return primary
    ? `${fit}; chosen among the top ${MAX_CO_LEADS} by current co-lead load (round robin)`
    : `${fit}; alternative, rank ${rank} by fit in ${c.segment}`;
}

/** Per owner (table entry): the candidates and their reasons, built once. */
interface OwnerPlan {
  minSample: number;
  candidates: RsfsResult[];
  primaryReasons: string[];
  alternativeReasons: string[];
}
const plans = new WeakMap<RsfsResult, OwnerPlan>();

function planFor(table: RsfsTable, owner: RsfsResult, minSample: number): OwnerPlan {
  const cached = plans.get(owner);
  if (cached && cached.minSample === minSample) return cached;
  const candidates = coLeadCandidates(table, owner, minSample);
  const plan: OwnerPlan = {
    minSample,
    candidates,
    primaryReasons: candidates.map((c, i) => reasonOf(c, owner, i + 1, true)),
    alternativeReasons: candidates.map((c, i) => reasonOf(c, owner, i + 1, false))
  };
  plans.set(owner, plan);
  return plan;
}

/** Co-lead suggestions for one deal (empty unless the owner's band is RED). */
export function suggestCoLeads(
  ledger: CoLeadLedger,
  table: RsfsTable,
  dealId: string,
  owner: RsfsResult,
  minSample: number
): CoLeadCandidate[] {
  if (owner.band !== 'RED') {
    ledger.release(dealId);
    return [];
  }
  const plan = planFor(table, owner, minSample);
  const candidates = plan.candidates;
  if (candidates.length === 0) {
    ledger.release(dealId);
    return [];
  }
  const primary = ledger.choose(dealId, candidates);
  return candidates.map((c, i) => ({
    repId: c.repId,
    segment: c.segment,
    winRate: c.rsfs,
    sampleSize: c.n,
    rank: i + 1,
    isPrimary: i === primary,
    reason: (i === primary ? plan.primaryReasons[i] : plan.alternativeReasons[i]) as string
  }));
}
