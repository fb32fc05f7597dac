/**
 * A trait vector is plain data: one direction per layer in the model's residual space.
 * Operations are pure (they return new vectors); applying a vector to a model is the
 * steering plan's job (plan.ts), not this file's.
 */
import { mulberry32 } from '../shared/rng';

/**
 * How a strength applies to a vector: 'typical' (default) = strength 1 moves the residual by the
 * layer's typical norm, whatever the vector's length; 'file' = strength 1 adds the vector as-is
 * (llama.cpp's scale 1), so an imported control vector keeps the magnitude it was made with.
 */
export type VectorUnits = 'typical' | 'file';

export interface TraitVector {
  /** Model id the vector was made for (hub id or URL); informational. */
  model: string;
  hidden: number;
  /** layer index (residual after that layer) → direction // [hidden] */
  layers: Record<number, Float32Array>;
  /** Omitted = 'typical'. */
  units?: VectorUnits;
}

function mapLayers(v: TraitVector, f: (x: Float32Array, layer: number) => Float32Array): TraitVector {
  const layers: Record<number, Float32Array> = {};
  for (const [k, x] of Object.entries(v.layers)) layers[Number(k)] = f(x, Number(k));
  return { model: v.model, hidden: v.hidden, layers, ...(v.units ? { units: v.units } : {}) };
}

export function scale(v: TraitVector, s: number): TraitVector {
  return mapLayers(v, (x) => x.map((e) => e * s));
}

/** Sum of two vectors; a layer present in only one keeps that one's direction. */
export function add(a: TraitVector, b: TraitVector): TraitVector {
  if (a.hidden !== b.hidden) throw new Error(`cannot add vectors of hidden size ${a.hidden} and ${b.hidden}`);
  const out = mapLayers(a, (x) => Float32Array.from(x));
  for (const [k, y] of Object.entries(b.layers)) {
    const layer = Number(k);
    const x = out.layers[layer];
    out.layers[layer] = x ? x.map((e, i) => e + y[i]) : Float32Array.from(y);
  }
  return out;
}

/** Dot product (float64 accumulation). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** L2 norm (float64 accumulation). */
export function norm(x: ArrayLike<number>): number {
  return Math.sqrt(dot(x, x));
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = norm(a) * norm(b);
  return n > 0 ? dot(a, b) / n : 0;
}

/** Unit direction u = v / |v| as f32 (norm in float64); a zero or non-finite vector gives zeros. */
export function unitVector(v: ArrayLike<number>): Float32Array {
  const n = norm(v);
  const u = new Float32Array(v.length);
  if (n === 0 || !Number.isFinite(n)) return u;
  for (let i = 0; i < v.length; i++) u[i] = v[i] / n;
  return u;
}

/** A random unit direction at each given layer (deterministic for a seed): for tests and demos. */
export function randomUnit(model: string, hidden: number, layers: number[], seed: number): TraitVector {
  const rand = mulberry32(seed);
  const out: TraitVector = { model, hidden, layers: {} };
  for (const layer of layers) {
    const x = new Float32Array(hidden);
    for (let i = 0; i < hidden; i++) {
      // Box-Muller: a Gaussian direction is uniform on the sphere once normalized.
      const u = Math.max(rand(), 1e-12);
      x[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    }
    const n = norm(x);
    out.layers[layer] = x.map((e) => e / n);
  }
  return out;
}

export function validateVector(v: TraitVector, hidden: number): string | null {
  if (v.hidden !== hidden) return `vector is for hidden size ${v.hidden}, the model has ${hidden}`;
  for (const [k, x] of Object.entries(v.layers)) {
    if (x.length !== hidden) return `layer ${k} has ${x.length} values, expected ${hidden}`;
    if (!x.every(Number.isFinite)) return `layer ${k} has non-finite values`;
  }
  return null;
}
