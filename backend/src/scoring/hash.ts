// Stable hash of what would be stored or written back for a score: if it is unchanged, the
// caller stores no new score version. Numbers are rounded to what is shown or stored.
import { hash } from 'node:crypto';
import type { Factor, ScoreResult } from './types.ts';

/**
 * x rounded to 4 places, as `(Math.round(x * 1e4) / 1e4).toFixed(4)` prints it (the pinned
 * form), built from the integer count of 1e-4 units: toFixed costs about a microsecond per call
 * and a batch rescore makes a dozen calls per deal. Below 1e15 units the double nearest n / 1e4
 * is within 2e-5 of it, so toFixed(4) prints exactly n's digits; beyond that (and for NaN or
 * infinities) it is used as is.
 */
export function r4(x: number): string {
  const n = Math.round(x * 1e4);
  if (!(n > -1e15 && n < 1e15)) return (n / 1e4).toFixed(4);
  const a = n < 0 ? -n : n;
  const whole = Math.floor(a / 1e4);
  const frac = a - whole * 1e4;
  const digits =
    frac >= 1000 ? `${frac}` : frac >= 100 ? `0${frac}` : frac >= 10 ? `00${frac}` : `000${frac}`;
  // n is -0 for small negative x: toFixed prints no sign then, and neither does this.
  return `${n < 0 ? '-' : ''}${whole}.${digits}`;
}

function factors(list: Factor[]): string {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const f = list[i] as Factor;
    out += `${i === 0 ? '' : ';'}${f.feature}|${r4(f.contribution)}|${f.label}`;
  }
  return out;
}

export function resultHash(r: ScoreResult): string {
  const rsfs = r.rsfs
    ? `${r.rsfs.segment}|${r4(r.rsfs.rsfs)}|${r.rsfs.band}|${r.rsfs.n}|${r4(r.rsfs.low)}|${r4(r.rsfs.high)}`
    : '-';
  let coLeads = '';
  for (let i = 0; i < r.coLeads.length; i++) {
    const c = r.coLeads[i] as ScoreResult['coLeads'][number];
    coLeads +=
      `${i === 0 ? '' : ';'}${c.repId}|${c.rank}|${c.isPrimary ? 1 : 0}|${r4(c.winRate)}|` +
      `${c.sampleSize}|${c.reason}`;
  }
  // Fields joined by newlines (built directly rather than with an array join).
  const canonical =
    `${r.dealId}\n${r4(r.probability)}\n${r.riskBand}\n${r.confidence}\n${r.method}\n` +
    `${String(r.modelVersion ?? '-')}\n${factors(r.explanation.raising)}\n` +
    `${factors(r.explanation.lowering)}\n${rsfs}\n${coLeads}`;
  // One-shot hash(): the same digest as createHash('sha256'), at a fraction of the call cost
  // (it runs once per deal in every batch rescore).
  return hash('sha256', canonical, 'hex').slice(0, 32);
}
