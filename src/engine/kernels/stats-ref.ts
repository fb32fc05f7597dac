/**
 * CPU twin of shaders/stats.wgsl (stats-pass.ts) with the same buffer layouts. Pooling and
 * accumulation emulate the kernel's f32 arithmetic, so results match to rounding of the sums.
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

/** stats.wgsl `accumulate` on `s` in place; `residual // [rows, hidden]`. */
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

/** stats.wgsl `finalize_mean`: `// [layers, hidden]`. */
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
