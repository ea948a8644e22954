// Sample deals with a planted, known win probability, so a model can be compared with the best
// possible (the AUC of the true probabilities). Pure and seeded: same options, same deals.
//
// Planted logit = base + rep skill + rep x industry fit (strong interaction) + lead source
//               + amount effect (linear in log amount) + small region / product / industry terms.
// outcome ~ Bernoulli(sigmoid(logit)). Sales cycle is independent of the outcome.
import { dateFromDayNumber, dayNumber, sigmoid } from '../scoring/math.ts';
import { mulberry32, normal, type Random } from '../scoring/random.ts';
import type { Deal } from '../scoring/types.ts';

export interface GenerateOptions {
  deals: number;
  seed: number;
  /** Fraction of deals that are still open (outcome and closed date null). Default 0. */
  openFraction?: number;
  /** First created date, YYYY-MM-DD. Default 2023-01-01; deals span two years. */
  startDate?: string;
  /** Number of reps (default 25; 5 managers). */
  reps?: number;
  /** Standard deviation of the rep x industry fit on the logit (default 0.7). */
  interactionStrength?: number;
}

export type GeneratedDeal = Deal & { managerId: string | null; salesCycleDays: number | null };

export interface GeneratedData {
  deals: GeneratedDeal[];
  /** The planted win probability of each deal, by deal id. */
  trueProbability: Map<string, number>;
  /** The last day of the data ("today" for the open deals). */
  endDate: string;
}

export const INDUSTRIES = ['SaaS', 'FinTech', 'HealthTech', 'EdTech', 'Ecommerce'] as const;
export const REGIONS = ['North America', 'Europe', 'APAC', 'India'] as const;
export const PRODUCTS = ['Core', 'Pro', 'Enterprise'] as const;
export const LEAD_SOURCES = ['Inbound', 'Referral', 'Outbound', 'Partner'] as const;
const OPEN_STAGES = ['Prospecting', 'Qualification', 'Proposal', 'Negotiation'] as const;

// Fixed, readable planted effects (logit scale); rep skill and fit are drawn from the seed.
const LEAD_EFFECT = [0.2, 0.55, -0.45, 0.0];
const REGION_EFFECT = [0.08, 0.0, -0.06, -0.1];
const PRODUCT_EFFECT = [0.1, 0.0, -0.12];
const INDUSTRY_EFFECT = [0.1, -0.15, 0.0, 0.12, -0.05];
const PRODUCT_MEDIAN_AMOUNT = [8_000, 20_000, 60_000];
const AMOUNT_EFFECT_PER_LOG = -0.35; // per unit of ln(amount / 20,000)
const BASE_LOGIT = -0.5;
const SPAN_DAYS = 730;
const OPEN_WINDOW_DAYS = 120;

export const CANONICAL_CSV_HEADER =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome,manager_id';

function pickWeighted(rand: Random, cumulative: Float64Array): number {
  const total = cumulative[cumulative.length - 1] as number;
  const u = rand() * total;
  let i = 0;
  while (i < cumulative.length - 1 && (cumulative[i] as number) <= u) i++;
  return i;
}

function cumulate(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  weights.forEach((w, i) => {
    s += w;
    out[i] = s;
  });
  return out;
}

/** Sample deals with a planted, known win probability. Seeded: same options, same deals. */
export function generateDeals(opts: GenerateOptions): GeneratedData {
  const n = opts.deals;
  if (!Number.isInteger(n) || n < 0) throw new Error(`deals must be a whole number >= 0, got ${n}`);
  const openFraction = opts.openFraction ?? 0;
  if (!(openFraction >= 0 && openFraction <= 1)) {
    throw new Error(`openFraction must be within 0..1, got ${openFraction}`);
  }
  const startDate = opts.startDate ?? '2023-01-01';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate)) {
    throw new Error(`startDate must be YYYY-MM-DD, got "${startDate}"`);
  }
  const repCount = opts.reps ?? 25;
  if (!Number.isInteger(repCount) || repCount < 1) {
    throw new Error(`reps must be a whole number >= 1, got ${repCount}`);
  }
  const fitSd = opts.interactionStrength ?? 0.7;
  const rand = mulberry32(opts.seed);

  // Reps: skill, industry fit, how busy they are, which industries they work in, their manager.
  const repIds = Array.from({ length: repCount }, (_, i) => `rep_${i + 1}`);
  const managerIds = repIds.map((_, i) => `mgr_${(i % 5) + 1}`);
  const skill = repIds.map(() => 0.35 * normal(rand));
  const fit = repIds.map(() => INDUSTRIES.map(() => fitSd * normal(rand)));
  const repCumulative = cumulate(repIds.map(() => 0.6 + 0.8 * rand()));
  const repIndustryCumulative = repIds.map(() => cumulate(INDUSTRIES.map(() => 0.4 + rand())));
  const regionCumulative = cumulate([0.3, 0.25, 0.25, 0.2]);
  const productCumulative = cumulate([0.4, 0.35, 0.25]);
  const leadCumulative = cumulate([0.3, 0.2, 0.3, 0.2]);

  const start = dayNumber(startDate);
  const end = start + SPAN_DAYS;
  const dateCache = new Map<number, string>();
  const dateOf = (day: number): string => {
    let s = dateCache.get(day);
    if (s === undefined) {
      s = dateFromDayNumber(day);
      dateCache.set(day, s);
    }
    return s;
  };

  const deals: GeneratedDeal[] = new Array(n);
  const trueProbability = new Map<string, number>();
  const width = Math.max(7, String(n).length);
  for (let i = 0; i < n; i++) {
    const rep = pickWeighted(rand, repCumulative);
    const ind = pickWeighted(rand, repIndustryCumulative[rep] as Float64Array);
    const region = pickWeighted(rand, regionCumulative);
    const product = pickWeighted(rand, productCumulative);
    const lead = pickWeighted(rand, leadCumulative);
    const amount = Math.max(
      500,
      Math.round((PRODUCT_MEDIAN_AMOUNT[product] as number) * Math.exp(0.7 * normal(rand)))
    );
    const z =
      BASE_LOGIT +
      (skill[rep] as number) +
      ((fit[rep] as number[])[ind] as number) +
      (LEAD_EFFECT[lead] as number) +
      AMOUNT_EFFECT_PER_LOG * Math.log(amount / 20_000) +
      (REGION_EFFECT[region] as number) +
      (PRODUCT_EFFECT[product] as number) +
      (INDUSTRY_EFFECT[ind] as number);
    const p = sigmoid(z);
    const id = `D${String(i + 1).padStart(width, '0')}`;
    const isOpen = rand() < openFraction;
    let createdDay: number;
    let closedDate: string | null = null;
    let cycle: number | null = null;
    let outcome: Deal['outcome'] = null;
    let stage: string;
    if (isOpen) {
      createdDay = end - Math.floor(rand() * OPEN_WINDOW_DAYS);
      stage = OPEN_STAGES[Math.floor(rand() * OPEN_STAGES.length)] as string;
    } else {
      cycle = Math.min(240, Math.max(3, Math.round(40 * Math.exp(0.6 * normal(rand)))));
      createdDay = start + Math.floor(rand() * (SPAN_DAYS - cycle + 1));
      closedDate = dateOf(createdDay + cycle);
      outcome = rand() < p ? 'Won' : 'Lost';
      stage = outcome === 'Won' ? 'Closed Won' : 'Closed Lost';
    }
    deals[i] = {
      id,
      ownerId: repIds[rep] as string,
      managerId: managerIds[rep] as string,
      industry: INDUSTRIES[ind] as string,
      region: REGIONS[region] as string,
      productType: PRODUCTS[product] as string,
      leadSource: LEAD_SOURCES[lead] as string,
      stage,
      amount,
      createdDate: dateOf(createdDay),
      closedDate,
      salesCycleDays: cycle,
      outcome
    };
    trueProbability.set(id, p);
  }
  return { deals, trueProbability, endDate: dateOf(end) };
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One canonical CSV line (no line ending) for a generated deal, in CANONICAL_CSV_HEADER order. */
export function dealToCsvLine(d: GeneratedDeal): string {
  return (
    `${csvField(d.id)},${d.createdDate},${d.closedDate ?? ''},${csvField(d.ownerId)},` +
    `${csvField(d.industry)},${csvField(d.region)},${csvField(d.productType)},` +
    `${csvField(d.leadSource)},${csvField(d.stage)},${d.amount},${d.salesCycleDays ?? ''},` +
    `${d.outcome ?? ''},${csvField(d.managerId)}`
  );
}

/** Canonical CSV lines (header first, no line endings) for generated deals; the caller writes them. */
export function dealsToCsvLines(deals: GeneratedDeal[]): string[] {
  const lines = new Array<string>(deals.length + 1);
  lines[0] = CANONICAL_CSV_HEADER;
  for (let i = 0; i < deals.length; i++) lines[i + 1] = dealToCsvLine(deals[i] as GeneratedDeal);
  return lines;
}
