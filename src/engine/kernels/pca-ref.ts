/**
 * CPU twin of shaders/pca.wgsl (pca-pass.ts): the same deterministic start and power
 * iteration, run in f64 (the GPU reduces in f32 in tree order, so compare with a tolerance),
 * plus the sign rule the extraction applies on the CPU after the GPU iteration.
 */

/**
 * pca.wgsl: init + `iterations` power steps per layer on rows diffs[p, l, :], p < pairs
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
