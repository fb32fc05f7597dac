/**
 * CPU references of the extraction kernels (extract_stats.wgsl, pca_power.wgsl) with the same
 * buffer layouts, plus the sign rule applied after the GPU power iteration. Pooling and
 * accumulation emulate the kernel's f32 arithmetic; the power iteration runs in f64 (the GPU
 * reduces in f32 in tree order, so compare with a tolerance).
 */

const f = Math.fround;

export interface StatsState {
  hidden: number;
  layers: number;
  maxPairs: number;
  sums: Float32Array; // [2, layers, hidden]
  diffs: Float32Array; // [maxPairs, layers, hidden]
}

export function statsState(hidden: number, layers: number, maxPairs: number): StatsState {
  return { hidden, layers, maxPairs, sums: new Float32Array(2 * layers * hidden), diffs: new Float32Array(Math.max(1, maxPairs) * layers * hidden) };
}

/** extract_stats.wgsl `accumulate` on `s` in place; `residual // [rows, hidden]`. */
export function accumulateRef(s: StatsState, residual: Float32Array, opts: { layer: number; first: number; count: number; cls: 0 | 1; pair?: number }): void {
  const { hidden, layers } = s;
  const { layer, first, count, cls } = opts;
  if ((first + count) * hidden > residual.length) throw new RangeError('accumulateRef: residual too short');
  for (let i = 0; i < hidden; i++) {
    let acc = 0;
    for (let r = 0; r < count; r++) acc = f(acc + residual[(first + r) * hidden + i]);
    const pooled = f(acc / count);
    const si = (cls * layers + layer) * hidden + i;
    s.sums[si] = f(s.sums[si] + pooled);
    if (opts.pair !== undefined) {
      const d = (opts.pair * layers + layer) * hidden + i;
      s.diffs[d] = cls === 0 ? pooled : f(s.diffs[d] - pooled);
    }
  }
}

/** extract_stats.wgsl `finalize_mean`: `// [layers, hidden]`. */
export function meanDiffRef(s: StatsState, nHigh: number, nLow: number): Float32Array {
  const n = s.layers * s.hidden;
  const out = new Float32Array(n);
  for (let e = 0; e < n; e++) {
    const hi = nHigh > 0 ? f(s.sums[e] / nHigh) : 0;
    const lo = nLow > 0 ? f(s.sums[n + e] / nLow) : 0;
    out[e] = f(hi - lo);
  }
  return out;
}

/**
 * pca_power.wgsl: init + `iterations` power steps per layer on rows diffs[p, l, :], p < pairs
 * (centered: minus meanDiff[l, :]). Returns `// [layers, hidden]`, unit rows, sign as iterated.
 */
export function pcaPowerRef(
  diffs: Float32Array, // [>= pairs, layers, hidden]
  meanDiff: Float32Array, // [layers, hidden]
  dims: { hidden: number; layers: number; pairs: number },
  iterations: number,
  center = false,
): Float32Array {
  const { hidden, layers, pairs } = dims;
  const out = new Float32Array(layers * hidden);
  const c = center ? 1 : 0;
  for (let l = 0; l < layers; l++) {
    const mu = meanDiff.subarray(l * hidden, (l + 1) * hidden);
    let v = new Float64Array(hidden);
    let mm = 0;
    for (let i = 0; i < hidden; i++) mm += mu[i] * mu[i];
    for (let i = 0; i < hidden; i++) v[i] = center || mm === 0 ? 1 + ((i * 7919) % 13) / 13 : mu[i];
    if (pairs > 0) {
      const x = (p: number, i: number): number => diffs[(p * layers + l) * hidden + i] - c * mu[i];
      for (let it = 0; it < iterations; it++) {
        const w = new Float64Array(hidden);
        for (let p = 0; p < pairs; p++) {
          let proj = 0;
          for (let i = 0; i < hidden; i++) proj += x(p, i) * v[i];
          for (let i = 0; i < hidden; i++) w[i] += proj * x(p, i);
        }
        let ss = 0;
        for (let i = 0; i < hidden; i++) ss += w[i] * w[i];
        if (ss > 0) {
          const n = Math.sqrt(ss);
          for (let i = 0; i < hidden; i++) w[i] /= n;
          v = w;
        }
      }
    }
    for (let i = 0; i < hidden; i++) out[l * hidden + i] = v[i];
  }
  return out;
}

/**
 * The sign rule of extract-math's firstPrincipalComponent, for a vector computed elsewhere:
 * flip `v` so that the mean difference (high − low) projects positively on it; when that
 * projection is ~0, make the largest-magnitude component positive. Returns a new array.
 */
export function fixSignTowardHigh(v: Float32Array, meanDiff: ArrayLike<number>): Float32Array {
  let s = 0;
  let mm = 0;
  for (let i = 0; i < v.length; i++) {
    s += meanDiff[i] * v[i];
    mm += meanDiff[i] * meanDiff[i];
  }
  if (Math.abs(s) < 1e-12 * (Math.sqrt(mm) + 1)) {
    let big = 0;
    for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    s = v[big];
  }
  return s < 0 ? v.map((x) => -x) : Float32Array.from(v);
}
