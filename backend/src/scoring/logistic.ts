// L2-regularised logistic regression fitted by Newton's method (few features, many rows).
import { sigmoid } from './math.ts';

export interface LogisticFit {
  intercept: number;
  coefficients: number[];
  iterations: number;
}

/** Solves A x = b for a symmetric positive-definite A (k x k, row-major) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j] as number;
      for (let t = 0; t < j; t++) s -= (l[i * k + t] as number) * (l[j * k + t] as number);
      if (i === j) {
        if (!(s > 0)) throw new Error('logistic fit: Hessian is not positive definite');
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / (l[j * k + j] as number);
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i] as number;
    for (let t = 0; t < i; t++) s -= (l[i * k + t] as number) * (y[t] as number);
    y[i] = s / (l[i * k + i] as number);
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let t = i + 1; t < k; t++) s -= (l[t * k + i] as number) * (x[t] as number);
    x[i] = s / (l[i * k + i] as number);
  }
  return x;
}

/**
 * Fits P(y=1) = sigmoid(b0 + sum_j beta_j * X[row, columns[j]]) on the given rows.
 * X is row-major with `width` columns. The intercept is not penalised.
 */
export function fitLogistic(
  x: Float64Array,
  width: number,
  columns: number[],
  y: Uint8Array,
  rows: Uint32Array,
  opts: { l2?: number; maxIterations?: number; tolerance?: number } = {}
): LogisticFit {
  const l2 = opts.l2 ?? 1;
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-10;
  const d = columns.length;
  const k = d + 1;
  const theta = new Float64Array(k);
  // Start the intercept at the base rate's logit: fewer iterations, no overshoot.
  let pos = 0;
  for (const i of rows) pos += y[i] as number;
  const rate = Math.min(Math.max(pos / Math.max(rows.length, 1), 1e-6), 1 - 1e-6);
  theta[0] = Math.log(rate / (1 - rate));
  const hess = new Float64Array(k * k);
  const grad = new Float64Array(k);
  const xi = new Float64Array(k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    hess.fill(0);
    grad.fill(0);
    for (const i of rows) {
      xi[0] = 1;
      let z = theta[0] as number;
      for (let j = 0; j < d; j++) {
        const v = x[i * width + (columns[j] as number)] as number;
        xi[j + 1] = v;
        z += (theta[j + 1] as number) * v;
      }
      const p = sigmoid(z);
      const w = p * (1 - p);
      const r = (y[i] as number) - p;
      for (let a = 0; a < k; a++) {
        const va = xi[a] as number;
        grad[a]! += r * va;
        const wa = w * va;
        for (let b = 0; b <= a; b++) hess[a * k + b]! += wa * (xi[b] as number);
      }
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < a; b++) hess[b * k + a] = hess[a * k + b] as number;
      if (a > 0) {
        hess[a * k + a]! += l2;
        grad[a]! -= l2 * (theta[a] as number);
      }
      hess[a * k + a]! += 1e-9; // keeps the factorisation defined for constant columns
    }
    const step = solveSpd(hess, grad, k);
    let maxStep = 0;
    for (let a = 0; a < k; a++) {
      theta[a]! += step[a] as number;
      maxStep = Math.max(maxStep, Math.abs(step[a] as number));
    }
    if (maxStep < tolerance) {
      iterations++;
      break;
    }
  }
  return { intercept: theta[0] as number, coefficients: Array.from(theta.subarray(1)), iterations };
}
