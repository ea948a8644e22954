// Public API of the scoring core. Pure functions over plain data: no I/O, no clock.
//
//   trainModel(closed, opts)            -> TrainOutcome (model JSON, holdout metrics, verdict)
//   computeRsfsTable(closed, settings)  -> RsfsTable (RSFS per rep x segment, bands)
//   scoreDeals(model, ctx, deals)       -> ScoreResult[] (probability, risk, explanation, RSFS, co-leads)
//   scoreDealsWithState(...)            -> { results, coLeadState } (the state to persist)
//   resultHash(result)                  -> stable hash of what would be stored
//   matchesStoredHash(result, h, stored) -> whether a stored digest (either scheme) describes it
//   generateDeals(opts)                 -> planted sample deals with their true probabilities
export { trainModel } from './train.ts';
export { computeRsfsTable } from './rsfs.ts';
export { scoreDeals, scoreDealsWithState } from './score.ts';
export { matchesStoredHash, resultHash } from './hash.ts';
export {
  generateDeals,
  dealsToCsvLines,
  dealToCsvLine,
  CANONICAL_CSV_HEADER
} from '../sample/generate.ts';
export type { GenerateOptions, GeneratedDeal, GeneratedData } from '../sample/generate.ts';
export * from './types.ts';
export { riskBand } from './risk.ts';
export { verdictOf, FAMILY_MARGIN } from './train.ts';
export { rulesModelFromRsfs } from './score.ts';
