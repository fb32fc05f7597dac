/**
 * CPU twin of shaders/steer.wgsl (steer-pass.ts), emulating f32 storage and elementwise f32
 * arithmetic; dot products accumulate in f64 and round once (readout-ref's rowDot). Residuals
 * are row-major `// [rows, hidden]`; only rows [tokenOffset, tokenOffset + tokens) are touched.
 * Also the WASM backend's steering (runtime/cpu-backend.ts).
 */
import { MODE_CODE } from '../../steering/mode';
import { unitVector } from '../../steering/vector';
import { checkRows, rowDot } from './readout-ref';
import { checkParams, checkVectors, type SteerParam } from './steer-params';

const f = Math.fround;

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
        const d = rowDot(out, hb, u, hidden);
        const c = p.mode === MODE_CODE.clamp ? f(f(p.target) - d) : -d;
        for (let i = 0; i < hidden; i++) out[hb + i] = f(out[hb + i] + f(c * u[i]));
      }
    }
  }
  return out;
}
