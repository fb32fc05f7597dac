/**
 * CPU reference implementations of trait-vector extraction and layer selection. The GPU
 * extraction kernel is checked against these, so they favour clarity over speed (float64
 * accumulation throughout, inputs and outputs Float32Array).
 *
 * Conventions: an activation set for one layer is an array of [hidden] vectors, one per prompt.
 * `high[i]` and `low[i]` are the two halves of contrastive pair i (same question, opposite
 * persona), so paired methods require equal lengths.
 */
import { dot, norm, unitVector } from '../steering/vector';
import { calibrate, type Calibration } from './calibration';
import type { ExtractionMethod } from './extracted';

function checkSet(name: string, xs: readonly Float32Array[]): number {
  if (xs.length === 0) throw new Error(`${name}: no activations`);
  const hidden = xs[0].length;
  for (const x of xs) if (x.length !== hidden) throw new Error(`${name}: activations have different sizes (${hidden} and ${x.length})`);
  return hidden;
}

/** Element-wise mean of a set of vectors, as float64. */
function mean64(xs: readonly Float32Array[], hidden: number): Float64Array {
  const m = new Float64Array(hidden);
  for (const x of xs) for (let i = 0; i < hidden; i++) m[i] += x[i];
  for (let i = 0; i < hidden; i++) m[i] /= xs.length;
  return m;
}

/** mean(high) − mean(low). The sets need not be paired (their sizes may differ). */
export function meanDifference(high: readonly Float32Array[], low: readonly Float32Array[]): Float32Array {
  const h = checkSet('meanDifference(high)', high);
  const l = checkSet('meanDifference(low)', low);
  if (h !== l) throw new Error(`meanDifference: high has hidden size ${h}, low has ${l}`);
  const mh = mean64(high, h);
  const ml = mean64(low, h);
  const out = new Float32Array(h);
  for (let i = 0; i < h; i++) out[i] = mh[i] - ml[i];
  return out;
}

/** Paired differences high[i] − low[i]. */
export function pairedDifferences(high: readonly Float32Array[], low: readonly Float32Array[]): Float32Array[] {
  if (high.length !== low.length) throw new Error(`pairedDifferences: ${high.length} high vs ${low.length} low activations (must be paired)`);
  const h = checkSet('pairedDifferences', [...high, ...low]);
  return high.map((x, k) => {
    const out = new Float32Array(h);
    for (let i = 0; i < h; i++) out[i] = x[i] - low[k][i];
    return out;
  });
}

export interface PcaOptions {
  /**
   * Subtract the mean difference before the power iteration (default false).
   * - Uncentered (default): the first right singular vector of the difference matrix D, i.e. the
   *   direction that best explains the differences themselves, mean included. When the trait
   *   shifts every pair the same way this is ≈ the normalized mean difference, but it is less
   *   swayed by a few pairs with huge differences than the mean.
   * - Centered: the top eigenvector of the covariance of the differences, i.e. the direction
   *   along which the pairs' differences *vary* most. This is what repeng's "pca_center" does;
   *   it finds the trait when the pairs differ mostly in how strongly they express it.
   */
  center?: boolean;
  /** Maximum power-iteration steps (default 500). */
  maxIter?: number;
  /** Stop when the iterate moves less than this (1 − |cos|, default 1e-10). */
  tol?: number;
}

/**
 * First principal component of the paired differences (unit length), by power iteration on
 * DᵀD (never formed: v ← Dᵀ(D v)). The start vector is the mean difference (or a fixed
 * deterministic vector when that is zero), so results are deterministic.
 *
 * Sign: fixed so that the mean projection of (high − low) on the result is positive (ties →
 * the sign of the largest-magnitude component is made positive).
 */
export function pcaDirection(high: readonly Float32Array[], low: readonly Float32Array[], opts: PcaOptions = {}): Float32Array {
  const diffs = pairedDifferences(high, low);
  return firstPrincipalComponent(diffs, opts);
}

/** Power iteration on rows (see pcaDirection); sign fixed so that the mean projection is ≥ 0. */
export function firstPrincipalComponent(rows: readonly Float32Array[], opts: PcaOptions = {}): Float32Array {
  const hidden = checkSet('firstPrincipalComponent', rows);
  const maxIter = opts.maxIter ?? 500;
  const tol = opts.tol ?? 1e-10;
  const mu = mean64(rows, hidden);
  const data: Float64Array[] = rows.map((r) => {
    const x = new Float64Array(hidden);
    for (let i = 0; i < hidden; i++) x[i] = opts.center ? r[i] - mu[i] : r[i];
    return x;
  });
  let v: Float64Array = Float64Array.from(mu);
  if (opts.center || norm(v) === 0) {
    // Deterministic, generic start vector (not orthogonal to anything in particular).
    for (let i = 0; i < hidden; i++) v[i] = 1 + ((i * 7919) % 13) / 13;
  }
  const unit = (x: Float64Array): Float64Array => {
    const n = norm(x);
    if (n > 0) for (let i = 0; i < x.length; i++) x[i] /= n;
    return x;
  };
  v = unit(v);
  for (let it = 0; it < maxIter; it++) {
    const next = new Float64Array(hidden);
    for (const x of data) {
      const p = dot(x, v);
      for (let i = 0; i < hidden; i++) next[i] += p * x[i];
    }
    if (norm(next) === 0) break; // all rows zero (or orthogonal to v): keep v
    unit(next);
    const c = Math.abs(dot(next, v));
    v = next;
    if (1 - c < tol) break;
  }
  // Sign: mean projection of the (uncentered) rows positive.
  let s = dot(mu, v);
  if (Math.abs(s) < 1e-12 * (norm(mu) + 1)) {
    let big = 0;
    for (let i = 1; i < hidden; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    s = v[big];
  }
  const out = new Float32Array(hidden);
  for (let i = 0; i < hidden; i++) out[i] = s < 0 ? -v[i] : v[i];
  return out;
}

/** Projections of each activation on a direction (not normalized: divide by |dir| yourself if needed). */
export function project(xs: readonly Float32Array[], direction: ArrayLike<number>): number[] {
  return xs.map((x) => dot(x, direction));
}

export interface Separation {
  /** Cohen's d: (mean(high) − mean(low)) / pooled standard deviation. */
  effectSize: number;
  /** Fraction classified correctly by thresholding at the midpoint of the two class means. */
  accuracy: number;
  meanHigh: number;
  meanLow: number;
  /** Pooled standard deviation (sample variances, n − 1). */
  pooledStd: number;
}

function meanOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * How well projections separate the two classes (use held-out prompts). Cohen's d uses the
 * pooled sample standard deviation; when it is 0 (both classes constant) the effect size is
 * ±Infinity if the means differ and 0 if they do not. Accuracy thresholds at the midpoint of the
 * class means, predicting "high" above it when mean(high) ≥ mean(low) (else below it).
 */
export function separation(highProj: readonly number[], lowProj: readonly number[]): Separation {
  if (highProj.length === 0 || lowProj.length === 0) throw new Error('separation: both classes need at least one projection');
  const mh = meanOf(highProj);
  const ml = meanOf(lowProj);
  let ss = 0;
  for (const x of highProj) ss += (x - mh) ** 2;
  for (const x of lowProj) ss += (x - ml) ** 2;
  const dof = highProj.length + lowProj.length - 2;
  const pooledStd = dof > 0 ? Math.sqrt(ss / dof) : 0;
  const diff = mh - ml;
  const effectSize = pooledStd > 0 ? diff / pooledStd : diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  const mid = (mh + ml) / 2;
  const up = mh >= ml;
  let correct = 0;
  for (const x of highProj) if (up ? x > mid : x < mid) correct++;
  for (const x of lowProj) if (up ? x < mid : x > mid) correct++;
  return { effectSize, accuracy: correct / (highProj.length + lowProj.length), meanHigh: mh, meanLow: ml, pooledStd };
}

/** Fraction of layers excluded at each end by `chooseLayer` (see there). */
export const EDGE_FRACTION = 0.15;

/**
 * The layers `chooseLayer` considers for a model with `numLayers` decoder layers: all layers
 * except the first and last ⌈0.15·numLayers⌉ — very early residuals mostly encode the tokens
 * themselves and very late ones are already committed to the next token, so steering there is
 * either ineffective or destructive. Models with fewer than 3 layers have no edges excluded; at
 * least one layer always remains.
 */
export function middleLayers(numLayers: number, edgeFraction = EDGE_FRACTION): number[] {
  if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`middleLayers: invalid layer count ${numLayers}`);
  let edge = numLayers < 3 ? 0 : Math.ceil(edgeFraction * numLayers);
  while (edge > 0 && numLayers - 2 * edge < 1) edge--;
  return Array.from({ length: numLayers - 2 * edge }, (_, i) => edge + i);
}

/**
 * Best layer = the middle layer (see middleLayers) with the largest effect size. `effect` maps
 * layer → Cohen's d (layers missing from the map are skipped); NaN never wins. When no middle
 * layer has a score the best scored layer overall is used. Ties → the earlier layer.
 */
export function chooseLayer(effect: ReadonlyMap<number, number> | Record<number, number>, numLayers: number): number {
  const get = (l: number): number | undefined => (effect instanceof Map ? effect.get(l) : (effect as Record<number, number>)[l]);
  const pick = (layers: number[]): number | undefined => {
    let best: number | undefined;
    for (const l of layers) {
      const e = get(l);
      if (e === undefined || Number.isNaN(e)) continue;
      if (best === undefined || e > get(best)!) best = l;
    }
    return best;
  };
  const mid = pick(middleLayers(numLayers));
  if (mid !== undefined) return mid;
  const any = pick(Array.from({ length: numLayers }, (_, i) => i));
  if (any === undefined) throw new Error('chooseLayer: no layer has an effect size');
  return any;
}

/**
 * The unit trait direction of one layer from paired activations: the normalized mean
 * difference, or the (un)centered first principal component of the paired differences (sign:
 * high − low projects positively). Unit length because strengths are applied in units of the
 * layer's typical residual norm (plan.ts), so only the direction matters.
 */
export function extractDirection(
  high: readonly Float32Array[],
  low: readonly Float32Array[],
  method: ExtractionMethod = 'mean-diff',
  center = false,
): Float32Array {
  if (method === 'mean-diff') return unitVector(meanDifference(high, low));
  return pcaDirection(high, low, { center });
}

export interface LayerAnalysis {
  /** Unit direction extracted from the training activations. */
  direction: Float32Array;
  /** Separation of the held-out projections on `direction`. */
  separation: Separation;
  /** Held-out calibration (null when both classes project to the same mean). */
  calibration: Calibration | null;
}

/** Per-layer activations: layer → one [hidden] vector per prompt (high[k] pairs with low[k]). */
export interface LayerActivations {
  high: Readonly<Record<number, readonly Float32Array[]>>;
  low: Readonly<Record<number, readonly Float32Array[]>>;
}

/**
 * The whole CPU pipeline for a set of layers: direction per layer from `train`, separation and
 * calibration on `heldOut`, and the chosen layer (chooseLayer on the held-out effect sizes).
 */
export function analyzeLayers(
  train: LayerActivations,
  heldOut: LayerActivations,
  numLayers: number,
  method: ExtractionMethod = 'mean-diff',
  center = false,
): { layers: Record<number, LayerAnalysis>; bestLayer: number } {
  const layers: Record<number, LayerAnalysis> = {};
  const effect = new Map<number, number>();
  for (const key of Object.keys(train.high)) {
    const l = Number(key);
    const direction = extractDirection(train.high[l], train.low[l] ?? [], method, center);
    const hp = project(heldOut.high[l] ?? [], direction);
    const lp = project(heldOut.low[l] ?? [], direction);
    const sep = separation(hp, lp);
    let calibration: Calibration | null = null;
    if (sep.meanHigh !== sep.meanLow) calibration = calibrate(hp, lp);
    layers[l] = { direction, separation: sep, calibration };
    effect.set(l, sep.effectSize);
  }
  return { layers, bestLayer: chooseLayer(effect, numLayers) };
}
