// A small gradient-boosted tree model (logistic loss, Newton leaf values, histogram splits),
// for the model-family comparison. Explanations stay exact: each tree's prediction is split
// along the deal's path (Saabas): the root value goes to the baseline and every step from a
// node to its child is credited to the node's split feature, so baseline + credits = logit.
import { sigmoid } from './math.ts';
import type { GbmTree } from './types.ts';

export interface GbmOptions {
  trees?: number;
  depth?: number;
  learningRate?: number;
  bins?: number;
  minLeaf?: number;
  l2?: number;
}

export interface GbmFit {
  init: number;
  trees: GbmTree[];
  learningRate: number;
}

/** Split thresholds per column: up to bins-1 distinct quantiles of the training values. */
function thresholdsOf(values: Float64Array, bins: number): number[] {
  const step = Math.max(1, Math.floor(values.length / 20_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) sample.push(values[i] as number);
  sample.sort((a, b) => a - b);
  const out: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = sample[Math.floor((b * sample.length) / bins)];
    if (v !== undefined && (out.length === 0 || v > (out[out.length - 1] as number))) out.push(v);
  }
  return out;
}

function binOf(t: number[], v: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= (t[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo; // values <= t[b] fall in bins 0..b
}

/**
 * Fits trees on X[row, columns[j]] (row-major, `width` columns) for the given rows. Tree
 * features are indices into `columns` (0..columns.length-1), thresholds are raw values.
 */
export function fitGbm(
  x: Float64Array,
  width: number,
  columns: number[],
  y: Uint8Array,
  rows: Uint32Array,
  opts: GbmOptions = {}
): GbmFit {
  const nTrees = opts.trees ?? 80;
  const depth = opts.depth ?? 3;
  const lr = opts.learningRate ?? 0.12;
  const bins = opts.bins ?? 32;
  const minLeaf = opts.minLeaf ?? 100;
  const l2 = opts.l2 ?? 1;
  const n = rows.length;
  const d = columns.length;

  // Bin every feature once.
  const thresholds: number[][] = [];
  const binned = new Uint8Array(n * d);
  for (let j = 0; j < d; j++) {
    const col = columns[j] as number;
    const values = Float64Array.from(rows, (i) => x[i * width + col] as number);
    const t = thresholdsOf(values, bins);
    thresholds.push(t);
    for (let r = 0; r < n; r++) binned[r * d + j] = binOf(t, values[r] as number);
  }

  let pos = 0;
  for (const i of rows) pos += y[i] as number;
  const rate = Math.min(Math.max(pos / Math.max(n, 1), 1e-6), 1 - 1e-6);
  const init = Math.log(rate / (1 - rate));
  const f = new Float64Array(n).fill(init);
  // Float32 gradients halve the memory traffic (the fit is memory-bound); sums stay Float64.
  const g = new Float32Array(n);
  const h = new Float32Array(n);
  const nodeOf = new Int32Array(n);
  const trees: GbmTree[] = [];
  const maxNodes = 2 ** (depth + 1) - 1;
  // Per (node slot, feature, bin): gradient sum, hessian sum, count, interleaved for locality.
  const hist = new Float64Array(2 ** depth * d * bins * 3);

  for (let t = 0; t < nTrees; t++) {
    for (let r = 0; r < n; r++) {
      const p = sigmoid(f[r] as number);
      g[r] = p - (y[rows[r] as number] as number);
      h[r] = Math.max(p * (1 - p), 1e-12);
    }
    const tree: GbmTree = { feature: [], threshold: [], left: [], right: [], value: [] };
    const sumG: number[] = [];
    const sumH: number[] = [];
    const sumN: number[] = [];
    const addNode = (G: number, H: number, N: number): number => {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push((-lr * G) / (H + l2));
      sumG.push(G);
      sumH.push(H);
      sumN.push(N);
      return tree.feature.length - 1;
    };
    let G0 = 0;
    let H0 = 0;
    for (let r = 0; r < n; r++) {
      G0 += g[r] as number;
      H0 += h[r] as number;
    }
    nodeOf.fill(addNode(G0, H0, n));
    let level = [0];
    for (let lv = 0; lv < depth && level.length > 0 && tree.feature.length < maxNodes; lv++) {
      // Histograms of every node on this level in one pass.
      const slot = new Int32Array(tree.feature.length).fill(-1);
      level.forEach((node, s) => (slot[node] = s));
      hist.fill(0, 0, level.length * d * bins * 3);
      for (let r = 0; r < n; r++) {
        const s = slot[nodeOf[r] as number] as number;
        if (s < 0) continue;
        const gr = g[r] as number;
        const hr = h[r] as number;
        const base = s * d * bins;
        const row = r * d;
        for (let j = 0; j < d; j++) {
          const k = (base + j * bins + (binned[row + j] as number)) * 3;
          hist[k]! += gr;
          hist[k + 1]! += hr;
          hist[k + 2]! += 1;
        }
      }
      const next: number[] = [];
      const splitBin = new Int32Array(tree.feature.length).fill(-1);
      level.forEach((node, s) => {
        const G = sumG[node] as number;
        const H = sumH[node] as number;
        const N = sumN[node] as number;
        const parentScore = (G * G) / (H + l2);
        let bestGain = 1e-9;
        let bestJ = -1;
        let bestB = -1;
        let bestL: [number, number, number] = [0, 0, 0];
        for (let j = 0; j < d; j++) {
          let gl = 0;
          let hl = 0;
          let nl = 0;
          const nb = (thresholds[j] as number[]).length; // split after bin b, b < nb
          for (let b = 0; b < nb; b++) {
            const k = (s * d * bins + j * bins + b) * 3;
            gl += hist[k] as number;
            hl += hist[k + 1] as number;
            nl += hist[k + 2] as number;
            if (nl < minLeaf) continue;
            if (N - nl < minLeaf) break;
            const gr = G - gl;
            const hr = H - hl;
            const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
            if (gain > bestGain) {
              bestGain = gain;
              bestJ = j;
              bestB = b;
              bestL = [gl, hl, nl];
            }
          }
        }
        if (bestJ < 0) return;
        const left = addNode(bestL[0], bestL[1], bestL[2]);
        const right = addNode(G - bestL[0], H - bestL[1], N - bestL[2]);
        tree.feature[node] = bestJ;
        tree.threshold[node] = (thresholds[bestJ] as number[])[bestB] as number;
        tree.left[node] = left;
        tree.right[node] = right;
        splitBin[node] = bestB;
        next.push(left, right);
      });
      for (let r = 0; r < n; r++) {
        const node = nodeOf[r] as number;
        const j = tree.feature[node] as number;
        if (j < 0 || node >= splitBin.length || (splitBin[node] as number) < 0) continue;
        nodeOf[r] =
          (binned[r * d + j] as number) <= (splitBin[node] as number)
            ? (tree.left[node] as number)
            : (tree.right[node] as number);
      }
      level = next;
    }
    for (let r = 0; r < n; r++) f[r]! += tree.value[nodeOf[r] as number] as number;
    trees.push(tree);
  }
  return { init, trees, learningRate: lr };
}

/**
 * Raw logit of one row: init + the leaf value of every tree. Tree feature j is read from
 * x[base + columns[j]].
 */
export function gbmRaw(
  fit: { init: number; trees: GbmTree[] },
  x: Float64Array,
  base: number,
  columns: number[]
): number {
  let z = fit.init;
  for (const t of fit.trees) {
    let node = 0;
    let j = t.feature[0] as number;
    while (j >= 0) {
      node =
        (x[base + (columns[j] as number)] as number) <= (t.threshold[node] as number)
          ? (t.left[node] as number)
          : (t.right[node] as number);
      j = t.feature[node] as number;
    }
    z += t.value[node] as number;
  }
  return z;
}

/** The constant part of every explanation: init + each tree's root value. */
export function gbmBaseline(fit: { init: number; trees: GbmTree[] }): number {
  let b = fit.init;
  for (const t of fit.trees) b += t.value[0] as number;
  return b;
}

/** Each feature's path credits (Saabas) for one row, written into `out` (one per feature). */
export function gbmCredits(
  trees: GbmTree[],
  x: Float64Array,
  base: number,
  columns: number[],
  out: Float64Array
): void {
  out.fill(0);
  for (const t of trees) {
    let node = 0;
    let j = t.feature[0] as number;
    while (j >= 0) {
      const child =
        (x[base + (columns[j] as number)] as number) <= (t.threshold[node] as number)
          ? (t.left[node] as number)
          : (t.right[node] as number);
      out[j]! += (t.value[child] as number) - (t.value[node] as number);
      node = child;
      j = t.feature[node] as number;
    }
  }
}
