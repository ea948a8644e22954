import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGbm, gbmBaseline, gbmCredits, gbmRaw } from './gbm.ts';
import { fitLogistic } from './logistic.ts';
import { sigmoid } from './math.ts';
import { auc } from './metrics.ts';
import { mulberry32, normal } from './random.ts';

// y depends on |a| (not monotone: a logistic model on a cannot see it) and on b linearly.
const rand = mulberry32(8);
const n = 20_000;
const width = 2;
const x = new Float64Array(n * width);
const y = new Uint8Array(n);
for (let i = 0; i < n; i++) {
  const a = normal(rand);
  const b = normal(rand);
  x[i * width] = a;
  x[i * width + 1] = b;
  y[i] = rand() < sigmoid(1.5 * (Math.abs(a) > 1 ? 1 : -1) + 0.8 * b) ? 1 : 0;
}
const train = Uint32Array.from({ length: n / 2 }, (_, i) => i);
const test_ = Uint32Array.from({ length: n / 2 }, (_, i) => n / 2 + i);
const fit = fitGbm(x, width, [0, 1], y, train, { minLeaf: 50 });
const cols = [0, 1];

test('learns a non-monotone effect a logistic model cannot (held-out rows)', () => {
  const labels = Array.from(test_, (i) => y[i] as number);
  const gbm = Array.from(test_, (i) => gbmRaw(fit, x, i * width, cols));
  const lin = fitLogistic(x, width, [0, 1], y, train);
  const linear = Array.from(
    test_,
    (i) =>
      lin.intercept +
      (lin.coefficients[0] as number) * (x[i * width] as number) +
      (lin.coefficients[1] as number) * (x[i * width + 1] as number)
  );
  assert.ok(
    auc(gbm, labels) > auc(linear, labels) + 0.05,
    `${auc(gbm, labels)} vs ${auc(linear, labels)}`
  );
});

test('path credits add up exactly: baseline + credits = raw logit', () => {
  const credits = new Float64Array(width);
  const base = gbmBaseline(fit);
  for (let i = 0; i < 500; i++) {
    gbmCredits(fit.trees, x, i * width, cols, credits);
    const sum = base + (credits[0] as number) + (credits[1] as number);
    assert.ok(Math.abs(sum - gbmRaw(fit, x, i * width, cols)) < 1e-9);
  }
});

test('is deterministic and plain JSON', () => {
  const again = fitGbm(x, width, [0, 1], y, train, { minLeaf: 50 });
  assert.deepEqual(again, fit);
  assert.deepEqual(JSON.parse(JSON.stringify(fit)), fit);
});
