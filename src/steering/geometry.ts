/**
 * Trait geometry (pure, value-typed): how entangled trait directions are (cosine matrix) and a
 * direction with its components along other directions removed (Gram–Schmidt). Accumulation
 * is in float64; results are new arrays, inputs are never changed.
 */
import { dot, norm } from './vector';

/**
 * Cosine of every pair of directions at one layer: out[i][j] = cos(xs[i], xs[j]); symmetric,
 * 1 on the diagonal; null where either direction is missing or zero.
 */
export function cosineMatrix(xs: readonly (ArrayLike<number> | null | undefined)[]): (number | null)[][] {
  const norms = xs.map((x) => (x ? norm(x) : 0));
  const out = xs.map(() => new Array<number | null>(xs.length).fill(null));
  for (let i = 0; i < xs.length; i++) {
    const a = xs[i];
    if (!a || !(norms[i] > 0)) continue;
    out[i][i] = 1;
    for (let j = i + 1; j < xs.length; j++) {
      const b = xs[j];
      if (!b || !(norms[j] > 0)) continue;
      const c = Math.max(-1, Math.min(1, dot(a, b) / (norms[i] * norms[j])));
      out[i][j] = c;
      out[j][i] = c;
    }
  }
  return out;
}

/** Typical |cosine| of two random directions in `hidden` dimensions: 1/√hidden (the std of their cosine). */
export function randomCosineScale(hidden: number): number {
  return hidden > 0 ? 1 / Math.sqrt(hidden) : NaN;
}

/** A direction whose norm, relative to its input's, is below this counts as lying in the span. */
export const SPAN_TOLERANCE = 1e-6;

/**
 * An orthonormal basis (float64) of the span of `others`, by modified Gram–Schmidt with a second
 * pass ("twice is enough"); directions already (numerically) in the span of earlier ones are skipped.
 */
export function orthonormalBasis(others: readonly ArrayLike<number>[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const o of others) {
    const w = Float64Array.from(o as ArrayLike<number>);
    const n0 = norm(w);
    if (!(n0 > 0) || !Number.isFinite(n0)) continue;
    for (let pass = 0; pass < 2; pass++) for (const q of basis) subtractProjection(w, q);
    const n = norm(w);
    if (n <= SPAN_TOLERANCE * n0) continue;
    for (let i = 0; i < w.length; i++) w[i] /= n;
    basis.push(w);
  }
  return basis;
}

function subtractProjection(w: Float64Array, q: Float64Array): void {
  const c = dot(w, q);
  for (let i = 0; i < w.length; i++) w[i] -= c * q[i];
}

export interface Orthogonalized {
  /** v minus its projection on the span of the others, rescaled to |v| // [hidden] (zeros when degenerate) */
  vector: Float32Array;
  /** |v − proj(v)| / |v|: how much of the direction is not shared with the others (1 = already orthogonal). */
  kept: number;
  /** v lies (numerically) in the span of the others: nothing is left to steer with. */
  degenerate: boolean;
}

/**
 * `v` orthogonalised against the span of `others` (all of the same length). The result keeps
 * v's norm, so a strength means the same size of push as with v (in 'typical' units the norm
 * does not matter at all; in 'file' units strength 1 still adds a vector of the file's length).
 * Idempotent, and an input already orthogonal to every other comes back unchanged (up to f32
 * rounding of the rescale).
 */
export function orthogonalize(v: ArrayLike<number>, others: readonly ArrayLike<number>[]): Orthogonalized {
  for (const o of others)
    if (o.length !== v.length) throw new Error(`cannot orthogonalise a direction of length ${v.length} against one of length ${o.length}`);
  const n0 = norm(v);
  const out = new Float32Array(v.length);
  if (!(n0 > 0) || !Number.isFinite(n0)) return { vector: out, kept: 0, degenerate: true };
  const basis = orthonormalBasis(others);
  const w = Float64Array.from(v as ArrayLike<number>);
  for (let pass = 0; pass < 2; pass++) for (const q of basis) subtractProjection(w, q);
  const n = norm(w);
  const kept = n / n0;
  if (kept <= SPAN_TOLERANCE) return { vector: out, kept: 0, degenerate: true };
  if (basis.length === 0) return { vector: Float32Array.from(v as ArrayLike<number>), kept: 1, degenerate: false };
  for (let i = 0; i < w.length; i++) out[i] = (w[i] / n) * n0;
  return { vector: out, kept, degenerate: false };
}
