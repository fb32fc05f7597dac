/**
 * Pure (GPU-free) definitions shared by the steering kernels, their CPU references and the GPU
 * passes: direction count limit, steering modes and the packed parameter layout.
 */

import { K_MAX, MODE_CODE, type ModeCode } from '../../steering/mode';

/** Largest hidden size the steer kernel supports (256 invocations x 32 registers each). */
export const HIDDEN_MAX = 8192;

/**
 * Per-direction steering parameters.
 * - Add:    h += alpha * v
 * - Clamp:  h += (target - dot(h, u)) * u
 * - Ablate: h -= dot(h, u) * u
 */
export interface SteerParam {
  mode: ModeCode;
  /** Multiplier of the raw vector v (add mode). */
  alpha: number;
  /** Target projection on the unit direction u (clamp mode). */
  target: number;
}

/** Bytes of one packed {mode: u32, alpha: f32, target: f32, pad: u32}. */
export const PARAM_BYTES = 16;

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
    if (!(Object.values(MODE_CODE) as number[]).includes(p.mode)) throw new RangeError(`param ${k}: bad mode ${String(p.mode)}`);
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
