/**
 * CPU twin of shaders/norm.wgsl (norm-pass.ts): per-token L2 norms of residual rows
 * `// [rows, hidden]`, summed in f64 (the GPU reduces in f32 in tree order: compare with a tolerance).
 */
import { checkRows } from './readout-ref';

/** norm.wgsl: n[t] = |h[tokenOffset + t]|, returned as `// [tokens]`. */
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
