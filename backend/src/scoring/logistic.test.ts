import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic, solveSpd } from './logistic.ts';
import { sigmoid } from './math.ts';
import { mulberry32, normal } from './random.ts';

test('solveSpd solves a symmetric positive-definite system', () => {
  // [[4, 2], [2, 3]] x = [2, 1] -> x = [0.5, 0].
  const x = solveSpd(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1), 2);
  assert.ok(Math.abs((x[0] as number) - 0.5) < 1e-12 && Math.abs(x[1] as number) < 1e-12);
});

test('fitLogistic recovers planted coefficients, using only the chosen columns and rows', () => {
  const rand = mulberry32(4);
  const n = 40_000;
  const width = 3;
  const x = new Float64Array(n * width);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = normal(rand);
    const b = normal(rand);
    x[i * width] = a;
    x[i * width + 1] = 99; // an ignored column
    x[i * width + 2] = b;
    y[i] = rand() < sigmoid(-0.5 + 1.2 * a - 0.7 * b) ? 1 : 0;
  }
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const fit = fitLogistic(x, width, [0, 2], y, rows);
  assert.ok(Math.abs(fit.intercept + 0.5) < 0.06, `intercept ${fit.intercept}`);
  assert.ok(Math.abs((fit.coefficients[0] as number) - 1.2) < 0.06, `${fit.coefficients}`);
  assert.ok(Math.abs((fit.coefficients[1] as number) + 0.7) < 0.06, `${fit.coefficients}`);
  assert.ok(fit.iterations < 20);
});
