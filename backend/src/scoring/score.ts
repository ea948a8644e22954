import type { CoLeadState, Deal, ScoreResult, ScoringContext, TrainedModel } from './types.ts';

/** Score deals; ctx.coLeadState is not modified (use scoreDealsWithState to get the next one). */
export function scoreDeals(
  model: TrainedModel | null,
  ctx: ScoringContext,
  deals: Deal[]
): ScoreResult[] {
  return scoreDealsWithState(model, ctx, deals).results;
}

/** Score deals and return the co-lead state after the batch's assignments (persist it). */
export function scoreDealsWithState(
  _model: TrainedModel | null,
  _ctx: ScoringContext,
  _deals: Deal[]
): { results: ScoreResult[]; coLeadState: CoLeadState } {
  throw new Error('not implemented');
}
