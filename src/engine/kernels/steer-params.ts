/**
 * The steer kernel's host-side contract, pure (GPU-free) so steer-ref.ts and the unit tests
 * use it too: the per-direction parameters, their packed uniform layout (the WGSL struct is
 * generated from PARAM_FIELDS), the workgroup size and register count that bound the hidden
 * size, and the checks shared by the pass and its CPU twin.
 */

import { K_MAX, MODE_CODE, type ModeCode } from '../../steering/mode';
import type { WgslField } from './shader-source';

/** Most invocations per steer workgroup (one workgroup per token row). */
export const STEER_WG = 256;
/** Most row elements one invocation keeps in registers (i = lid + j * wg, j < this). */
export const STEER_PER_THREAD = 32;
/** Largest hidden size the steer kernel supports (STEER_WG invocations x STEER_PER_THREAD registers). */
export const HIDDEN_MAX = STEER_WG * STEER_PER_THREAD;
/** Fewest invocations per steer workgroup (a warp / wavefront's worth, so a small row still fills one). */
export const STEER_WG_MIN = 32;

/**
 * The steer kernel's launch shape for a row of `hidden` elements: `wg` invocations (a power of
 * two, STEER_WG_MIN..STEER_WG: one per element up to STEER_WG) keeping `perThread` elements each.
 * Sized to the model instead of to HIDDEN_MAX, so a 64-wide row runs 64 invocations with one
 * element each, not 256 with 32 register slots (192 of them idle): the kernel's cost follows
 * the row it steers (prefill steers every prompt row).
 */
export function steerShape(hidden: number): { wg: number; perThread: number } {
  if (!Number.isInteger(hidden) || hidden < 1 || hidden > HIDDEN_MAX) throw new RangeError(`hidden must be in 1..${HIDDEN_MAX}, got ${hidden}`);
  let wg = STEER_WG_MIN;
  while (wg < hidden && wg < STEER_WG) wg *= 2;
  return { wg, perThread: Math.ceil(hidden / wg) };
}

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

/** WGSL `struct Param`, in order (`target` is a reserved word in WGSL). One 4-byte word each. */
export const PARAM_FIELDS: readonly WgslField[] = [
  { name: 'mode', type: 'u32' },
  { name: 'alpha', type: 'f32' },
  { name: 'targetProj', type: 'f32' },
  { name: 'pad', type: 'u32' },
];

const WORD = { mode: 0, alpha: 1, targetProj: 2 } as const;
for (const [name, at] of Object.entries(WORD)) {
  if (PARAM_FIELDS[at]?.name !== name) throw new Error(`PARAM_FIELDS: ${name} must be word ${at}`);
}

/** Bytes of one packed Param (4-byte words; 16 keeps array<Param, K_MAX> legal in a uniform). */
export const PARAM_BYTES = PARAM_FIELDS.length * 4;
if (PARAM_BYTES % 16 !== 0) throw new Error('Param must be a multiple of 16 bytes (uniform array stride)');

// Entries past params.length stay zero-filled, which must read as mode none.
if (MODE_CODE.none !== 0) throw new Error('MODE_CODE.none must be 0 (unset params are zero)');

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
 * Pack params into the shader's uniform layout: K_MAX entries of PARAM_FIELDS
 * ({mode: u32, alpha: f32, targetProj: f32, pad: u32}, 16 bytes each, 256 bytes total).
 * Missing entries are mode none.
 */
export function packParams(params: readonly SteerParam[]): ArrayBuffer {
  checkParams(params);
  const words = PARAM_BYTES / 4;
  const buf = new ArrayBuffer(K_MAX * PARAM_BYTES);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  params.forEach((p, k) => {
    u32[k * words + WORD.mode] = p.mode;
    f32[k * words + WORD.alpha] = p.alpha;
    f32[k * words + WORD.targetProj] = p.target;
  });
  return buf;
}
