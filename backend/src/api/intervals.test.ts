import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newcombeDifference, wilson } from './intervals.ts';

const close = (a: number, b: number, tol = 1e-4) =>
  assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('Wilson interval matches Newcombe (1998) worked examples', () => {
  // Newcombe, Stat Med 17:857-872, Table II: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
  const a = wilson(81, 263)!;
  close(a.low, 0.2553);
  close(a.high, 0.3662);
  const b = wilson(15, 148)!;
  close(b.low, 0.0624);
  close(b.high, 0.1605);
  // 0/20 still has a non-degenerate upper bound; n = 0 has no interval.
  const zero = wilson(0, 20)!;
  assert.equal(zero.low, 0);
  close(zero.high, 0.1611);
  assert.equal(wilson(0, 0), null);
});

test('Newcombe hybrid score interval for a difference matches the published example', () => {
  // Newcombe, Stat Med 17:873-890, example (a): 56/70 - 48/80 -> 0.0524 to 0.3339 (method 10).
  const d = newcombeDifference(56, 70, 48, 80)!;
  close(d.difference, 0.2);
  close(d.low, 0.0524);
  close(d.high, 0.3339);
  // example (h): 10/10 - 0/10 -> 0.6075 to 1.0000
  const h = newcombeDifference(10, 10, 0, 10)!;
  close(h.low, 0.6075);
  close(h.high, 1);
  assert.equal(newcombeDifference(1, 2, 0, 0), null);
});
