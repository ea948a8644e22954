import type { Deal } from '../scoring/types.ts';

export interface GenerateOptions {
  deals: number;
  seed: number;
  /** Fraction of deals that are still open (outcome and closed date null). Default 0. */
  openFraction?: number;
  /** First created date, YYYY-MM-DD. Default 2023-01-01; deals span about two years. */
  startDate?: string;
}

export type GeneratedDeal = Deal & { managerId: string | null; salesCycleDays: number | null };

export interface GeneratedData {
  deals: GeneratedDeal[];
  /** The planted win probability of each deal, by deal id. */
  trueProbability: Map<string, number>;
  /** The date the data ends ("today" for the open deals). */
  endDate: string;
}

export const CANONICAL_CSV_HEADER =
  'deal_id,created_date,closed_date,sales_rep_id,industry,region,product_type,lead_source,deal_stage,deal_amount,sales_cycle_days,outcome,manager_id';

/** Sample deals with a planted, known win probability. Seeded: same options, same deals. */
export function generateDeals(_opts: GenerateOptions): GeneratedData {
  throw new Error('not implemented');
}

/** Canonical CSV lines (header first) for generated deals; pure, the caller writes them. */
export function dealsToCsvLines(_deals: GeneratedDeal[]): string[] {
  throw new Error('not implemented');
}
