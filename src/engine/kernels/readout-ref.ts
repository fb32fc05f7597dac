/**
 * CPU twin of shaders/readout.wgsl (readout-pass.ts): projections of residual rows onto unit
 * directions. Dot products accumulate in f64 and round once to f32 (the GPU reduces in f32 in
 * tree order, so compare with a tolerance). Also the row helpers steer-ref and norm-ref share.
 * Residuals are row-major `// [rows, hidden]`.
 */
import { unitVector } from '../../steering/vector';
import { checkVectors } from './steer-params';

const f = Math.fround;

/** Throws unless `h` holds rows [0, tokenOffset + tokens) of `hidden` floats. */
export function checkRows(h: Float32Array, tokens: number, hidden: number, tokenOffset: number): void {
  if ((tokenOffset + tokens) * hidden > h.length) {
    throw new RangeError(`residual has ${h.length} floats, need (${tokenOffset}+${tokens})*${hidden}`);
  }
}

/** dot(h[hb .. hb + hidden), u) accumulated in f64, rounded once to f32. */
export function rowDot(h: Float32Array, hb: number, u: Float32Array, hidden: number): number {
  let s = 0;
  for (let i = 0; i < hidden; i++) s += h[hb + i] * u[i];
  return f(s);
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
    for (let k = 0; k < K; k++) out[t * K + k] = rowDot(h, (tokenOffset + t) * hidden, units[k], hidden);
  }
  return out;
}
