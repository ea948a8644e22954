import type { ScoreResult } from './types.ts';

/** Stable hash of what would be stored or written back for a score. */
export function resultHash(_r: ScoreResult): string {
  throw new Error('not implemented');
}
