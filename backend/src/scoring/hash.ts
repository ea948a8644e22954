// Stable hash of what would be stored or written back for a score: if it is unchanged, the
// caller stores no new score version. Numbers are rounded to what is shown or stored.
import { hash } from 'node:crypto';
import type { Factor, ScoreResult } from './types.ts';

function r4(x: number): string {
  return (Math.round(x * 1e4) / 1e4).toFixed(4);
}

function factors(list: Factor[]): string {
  return list.map((f) => `${f.feature}|${r4(f.contribution)}|${f.label}`).join(';');
}

export function resultHash(r: ScoreResult): string {
  const rsfs = r.rsfs
    ? `${r.rsfs.segment}|${r4(r.rsfs.rsfs)}|${r.rsfs.band}|${r.rsfs.n}|${r4(r.rsfs.low)}|${r4(r.rsfs.high)}`
    : '-';
  const coLeads = r.coLeads
    .map(
      (c) =>
        `${c.repId}|${c.rank}|${c.isPrimary ? 1 : 0}|${r4(c.winRate)}|${c.sampleSize}|${c.reason}`
    )
    .join(';');
  const canonical = [
    r.dealId,
    r4(r.probability),
    r.riskBand,
    r.confidence,
    r.method,
    String(r.modelVersion ?? '-'),
    factors(r.explanation.raising),
    factors(r.explanation.lowering),
    rsfs,
    coLeads
  ].join('\n');
  // One-shot hash(): the same digest as createHash('sha256'), at a fraction of the call cost
  // (it runs once per deal in every batch rescore).
  return hash('sha256', canonical, 'hex').slice(0, 32);
}
