import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  auc,
  bootstrapAucInterval,
  brier,
  calibration,
  holdoutMetrics,
  logLoss
} from './metrics.ts';
import { mulberry32 } from './random.ts';

/** AUC by counting every (positive, negative) pair: the definition, O(n^2). */
function pairAuc(scores: number[], labels: number[]): number {
  let pairs = 0;
  let wins = 0;
  scores.forEach((s, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((t, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('auc', () => {
  test('matches a hand-computed example', () => {
    // Positives 0.35 and 0.8; negatives 0.1 and 0.4: 3 of the 4 pairs are ordered right.
    assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  });

  test('counts a tie between a positive and a negative as one half', () => {
    // Pairs: (0.5, 0.5) tie = 0.5, (0.5, 0.2) = 1, (0.9, 0.5) = 1, (0.9, 0.2) = 1 -> 3.5 / 4.
    assert.equal(auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]), 0.875);
  });

  test('is 1 for a perfect ranking, 0 for a reversed one, NaN with one class', () => {
    assert.equal(auc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
    assert.equal(auc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
    assert.ok(Number.isNaN(auc([0.1, 0.2], [1, 1])));
  });

  test('equals the pair-counting definition on random data with ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean()), {
          minLength: 2,
          maxLength: 60
        }),
        (rows) => {
          const scores = rows.map((r) => r[0] / 6);
          const labels = rows.map((r) => (r[1] ? 1 : 0));
          if (!labels.includes(1) || !labels.includes(0)) return;
          assert.ok(Math.abs(auc(scores, labels) - pairAuc(scores, labels)) < 1e-12);
        }
      )
    );
  });
});

describe('bootstrapAucInterval', () => {
  const rand = mulberry32(5);
  const labels = Array.from({ length: 2000 }, () => (rand() < 0.4 ? 1 : 0));
  const scores = labels.map((y) => rand() + 0.3 * y);

  test('contains the point estimate and is seeded (same seed, same interval)', () => {
    const point = auc(scores, labels);
    const a = bootstrapAucInterval(scores, labels, { resamples: 200, seed: 3 });
    const b = bootstrapAucInterval(scores, labels, { resamples: 200, seed: 3 });
    assert.deepEqual(a, b);
    assert.ok(a.low < point && point < a.high, `${a.low} < ${point} < ${a.high}`);
  });

  test('narrows with more data', () => {
    const small = bootstrapAucInterval(scores.slice(0, 200), labels.slice(0, 200), { seed: 1 });
    const large = bootstrapAucInterval(scores, labels, { seed: 1 });
    assert.ok(large.high - large.low < small.high - small.low);
  });
});

describe('brier, log loss and calibration', () => {
  test('Brier and log loss match hand-computed values', () => {
    assert.ok(Math.abs(brier([0.8, 0.3], [1, 0]) - 0.065) < 1e-15);
    assert.ok(Math.abs(logLoss([0.8, 0.3], [1, 0]) + (Math.log(0.8) + Math.log(0.7)) / 2) < 1e-15);
  });

  test('ECE weights each bin gap by its share of deals', () => {
    // Bin 1: predicted 0.1, observed 0.5 (gap 0.4); bin 9: predicted 0.9, observed 1 (gap 0.1).
    const c = calibration([0.1, 0.1, 0.9, 0.9], [0, 1, 1, 1]);
    assert.ok(Math.abs(c.ece - 0.25) < 1e-12);
    assert.deepEqual(
      c.bins.map((b) => [b.bin, b.n]),
      [
        [1, 2],
        [9, 2]
      ]
    );
  });

  test('holdout metrics put every figure beside the constant base-rate prediction', () => {
    const probs = [0.9, 0.8, 0.2, 0.1];
    const labels = [1, 1, 0, 0];
    const m = holdoutMetrics(probs, labels, 0.25, { resamples: 50, seed: 1 });
    assert.equal(m.auc, 1);
    assert.equal(m.baseRate, 0.25);
    assert.equal(m.brierBaseline, brier([0.25, 0.25, 0.25, 0.25], labels));
    assert.equal(m.logLossBaseline, logLoss([0.25, 0.25, 0.25, 0.25], labels));
    assert.ok(Math.abs(m.eceBaseline - 0.25) < 1e-12); // predicted 0.25, observed 0.5
    assert.ok(m.brier < m.brierBaseline);
  });
});
