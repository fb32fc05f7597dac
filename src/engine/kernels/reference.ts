/**
 * CPU references of the WGSL kernels (steer.wgsl, readout.wgsl, residual_norm.wgsl), emulating
 * f32 storage and elementwise f32 arithmetic. Dot products and sums of squares accumulate in
 * f64 and round once (the GPU reduces in f32 in tree order, so compare with a tolerance).
 * Residuals are row-major `// [rows, hidden]`; only rows [tokenOffset, tokenOffset + tokens)
 * are touched.
 */
import { MODE_CODE } from '../../steering/mode';
import { unitVector } from '../../steering/vector';
import { checkParams, checkVectors, type SteerParam } from './directions';

const f = Math.fround;

function checkRows(h: Float32Array, tokens: number, hidden: number, tokenOffset: number): void {
  if ((tokenOffset + tokens) * hidden > h.length) {
    throw new RangeError(`residual has ${h.length} floats, need (${tokenOffset}+${tokens})*${hidden}`);
  }
}

function dot(h: Float32Array, hb: number, u: Float32Array, hidden: number): number {
  let s = 0;
  for (let i = 0; i < hidden; i++) s += h[hb + i] * u[i];
  return f(s);
}

/**
 * steer.wgsl: returns a copy of `h` where each row t in [tokenOffset, tokenOffset + tokens) had
 * directions k = 0.. applied in order (add: h += alpha v; clamp: h += (target - h.u) u;
 * ablate: h -= (h.u) u). Params beyond `vectors.length` are ignored; missing ones are none.
 */
export function steerRef(
  h: Float32Array, // [rows, hidden]
  tokens: number,
  hidden: number,
  vectors: readonly Float32Array[], // K x [hidden]
  params: readonly SteerParam[], // K
  tokenOffset = 0,
): Float32Array {
  checkRows(h, tokens, hidden, tokenOffset);
  checkVectors(vectors, hidden);
  checkParams(params);
  const out = new Float32Array(h);
  const units = vectors.map(unitVector);
  for (let t = tokenOffset; t < tokenOffset + tokens; t++) {
    const hb = t * hidden;
    for (let k = 0; k < vectors.length; k++) {
      const p = params[k];
      if (!p) continue;
      if (p.mode === MODE_CODE.add) {
        const alpha = f(p.alpha);
        if (alpha === 0) continue;
        const v = vectors[k];
        for (let i = 0; i < hidden; i++) out[hb + i] = f(out[hb + i] + f(alpha * v[i]));
      } else if (p.mode === MODE_CODE.clamp || p.mode === MODE_CODE.ablate) {
        const u = units[k];
        const d = dot(out, hb, u, hidden);
        const c = p.mode === MODE_CODE.clamp ? f(f(p.target) - d) : -d;
        for (let i = 0; i < hidden; i++) out[hb + i] = f(out[hb + i] + f(c * u[i]));
      }
    }
  }
  return out;
}

/** readout.wgsl: p[t, k] = dot(h[tokenOffset + t], u_k), returned as `// [tokens, K]`. */
export function readoutRef(
  h: Float32Array, // [rows, hidden]
  tokens: number,
  hidden: number,
  vectors: readonly Float32Array[], // K x [hidden], raw (normalized here like the GPU path)
  tokenOffset = 0,
): Float32Array {
  checkRows(h, tokens, hidden, tokenOffset);
  checkVectors(vectors, hidden);
  const K = vectors.length;
  const units = vectors.map(unitVector);
  const out = new Float32Array(tokens * K);
  for (let t = 0; t < tokens; t++) {
    for (let k = 0; k < K; k++) out[t * K + k] = dot(h, (tokenOffset + t) * hidden, units[k], hidden);
  }
  return out;
}

/** residual_norm.wgsl: n[t] = |h[tokenOffset + t]|, returned as `// [tokens]`. */
export function normRef(h: Float32Array, tokens: number, hidden: number, tokenOffset = 0): Float32Array {
  checkRows(h, tokens, hidden, tokenOffset);
  const out = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    const hb = (tokenOffset + t) * hidden;
    let s = 0;
    for (let i = 0; i < hidden; i++) s += h[hb + i] * h[hb + i];
    out[t] = Math.sqrt(s);
  }
  return out;
}
