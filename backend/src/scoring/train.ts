import type { Deal, TrainOptions, TrainOutcome } from './types.ts';

/**
 * Train on closed deals; picks the model family by out-of-time validation, calibrates it,
 * reports holdout metrics vs the base rate and a verdict. Too few closed deals -> a transparent
 * rules model with verdict 'insufficient_data'.
 */
export function trainModel(_closed: Deal[], _opts: TrainOptions = {}): TrainOutcome {
  throw new Error('not implemented');
}
