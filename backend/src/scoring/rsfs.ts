import type { Deal, OrgScoringSettings, RsfsTable } from './types.ts';

/** RSFS per (rep, segment) from closed deals, shrunk by empirical Bayes, with bands. */
export function computeRsfsTable(_closed: Deal[], _settings: OrgScoringSettings): RsfsTable {
  throw new Error('not implemented');
}
