// Plain-words labels for explanation factors. Built only for the factors shown (the top ones).
import { NONE } from './encoding.ts';

/** A rate as a whole percentage; never "0%" or "100%" for a rate strictly inside (0, 1). */
export function percent(rate: number): string {
  const p = Math.round(rate * 100);
  if (p <= 0) return '<1%';
  if (p >= 100) return '>99%';
  return `${p}%`;
}

/** A whole number with thousands separators (1,204), without locale lookups. */
export function formatInt(value: number): string {
  const n = Math.round(value);
  const s = String(Math.abs(n));
  // Digits in groups of three (the first group 1-3 long): a slice per group.
  const head = s.length % 3 || 3;
  let out = s.slice(0, head);
  for (let i = head; i < s.length; i += 3) out += `,${s.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}

/** Shown in `contributions` for factors outside the top lists (no per-deal string building). */
export const GENERIC_LABELS: Record<string, string> = {
  rep_overall: "Rep's overall win rate",
  industry: 'Industry win rate',
  region: 'Region win rate',
  product_type: 'Product win rate',
  lead_source: 'Lead source win rate',
  rep_segment_fit: "Rep's win rate in this segment",
  amount: 'Deal amount'
};

const FIELD_WORDS: Record<string, string> = {
  industry: 'industry',
  region: 'region',
  product_type: 'product',
  lead_source: 'lead source'
};

export function repOverallLabel(rep: string, rate: number, n: number, team: number): string {
  return `${rep} wins ${percent(rate)} of deals (n=${formatInt(n)}) vs ${percent(team)} for the team`;
}

export function categoryLabel(
  feature: string,
  value: string,
  rate: number,
  n: number,
  team: number
): string {
  const tail = `win ${percent(rate)} (n=${formatInt(n)}) vs ${percent(team)} overall`;
  if (value === NONE) return `Deals with no ${FIELD_WORDS[feature] ?? feature} ${tail}`;
  switch (feature) {
    case 'lead_source':
      return `${value} leads ${tail}`;
    case 'region':
      return `Deals in ${value} ${tail}`;
    case 'product_type':
      return `${value} product deals ${tail}`;
    default:
      return `${value} deals ${tail}`;
  }
}

export function fitLabel(
  rep: string,
  segment: string,
  rate: number,
  n: number,
  segmentRate: number
): string {
  return (
    `${rep} wins ${percent(rate)} of ${segment} deals (n=${formatInt(n)}) ` +
    `vs ${percent(segmentRate)} for the team`
  );
}

/** `typicalText` is formatInt(typical), passed when it is formatted once per model. */
export function amountLabel(
  amount: number,
  typical: number,
  typicalText = formatInt(typical)
): string {
  const rel = amount > typical ? 'above' : amount < typical ? 'below' : 'at';
  return `Amount ${formatInt(amount)} is ${rel} typical (${typicalText})`;
}
