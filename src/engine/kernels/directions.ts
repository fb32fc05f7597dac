/**
 * Pure (GPU-free) definitions shared by the steering kernels, their CPU references and the GPU
 * passes: direction count limit, steering modes and the packed parameter layout.
 */

/** Maximum number of directions one steer/readout pass handles. */
export const K_MAX = 16;

/** Largest hidden size the steer kernel supports (256 invocations x 32 registers each). */
export const HIDDEN_MAX = 8192;

/** Steering mode of one direction (u32 `mode` in the shader). */
export const SteerMode = {
  None: 0,
  Add: 1,
  Clamp: 2,
  Ablate: 3,
} as const;
export type SteerMode = (typeof SteerMode)[keyof typeof SteerMode];

/**
 * Per-direction steering parameters.
 * - Add:    h += alpha * v
 * - Clamp:  h += (target - dot(h, u)) * u
 * - Ablate: h -= dot(h, u) * u
 */
export interface SteerParam {
  mode: SteerMode;
  /** Multiplier of the raw vector v (add mode). */
  alpha: number;
  /** Target projection on the unit direction u (clamp mode). */
  target: number;
}

/** Bytes of one packed {mode: u32, alpha: f32, target: f32, pad: u32}. */
export const PARAM_BYTES = 16;

/** Unit direction u = v / |v| as f32 (norm accumulated in f64); a zero vector gives zeros. */
export function unitVector(v: Float32Array): Float32Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  const u = new Float32Array(v.length);
  if (ss === 0 || !Number.isFinite(ss)) return u;
  const n = Math.sqrt(ss);
  for (let i = 0; i < v.length; i++) u[i] = v[i] / n;
  return u;
}

/** L2 norm of a vector (f64 accumulation). */
export function vectorNorm(v: ArrayLike<number>): number {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  return Math.sqrt(ss);
}

/** Throws unless `vectors` is 0..K_MAX vectors of length `hidden`. */
export function checkVectors(vectors: readonly Float32Array[], hidden: number): void {
  if (vectors.length > K_MAX) throw new RangeError(`at most ${K_MAX} directions, got ${vectors.length}`);
  vectors.forEach((v, k) => {
    if (v.length !== hidden) throw new RangeError(`direction ${k} has length ${v.length}, expected hidden=${hidden}`);
  });
}

/** Throws unless `params` is 0..K_MAX valid parameter sets. */
export function checkParams(params: readonly SteerParam[]): void {
  if (params.length > K_MAX) throw new RangeError(`at most ${K_MAX} params, got ${params.length}`);
  params.forEach((p, k) => {
    if (![0, 1, 2, 3].includes(p.mode)) throw new RangeError(`param ${k}: bad mode ${String(p.mode)}`);
    if (!Number.isFinite(p.alpha) || !Number.isFinite(p.target)) throw new RangeError(`param ${k}: alpha/target must be finite`);
  });
}

/**
 * Pack params into the shader's uniform layout: K_MAX entries of
 * {mode: u32, alpha: f32, target: f32, pad: u32} (16 bytes each, 256 bytes total).
 * Missing entries are mode none.
 */
export function packParams(params: readonly SteerParam[]): ArrayBuffer {
  checkParams(params);
  const buf = new ArrayBuffer(K_MAX * PARAM_BYTES);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  params.forEach((p, k) => {
    u32[k * 4] = p.mode;
    f32[k * 4 + 1] = p.alpha;
    f32[k * 4 + 2] = p.target;
  });
  return buf;
}
