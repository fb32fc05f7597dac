/**
 * The one steering vocabulary: what an intervention does to the residual, its u32 code in the
 * steer kernel's parameter block, and how many directions one pass handles.
 * - add:    h += alpha * v
 * - clamp:  h += (target - dot(h, u)) * u   (projection on the unit direction u set to target)
 * - ablate: h -= dot(h, u) * u              (projection removed)
 */

export type Mode = 'add' | 'clamp' | 'ablate';

export const MODES: readonly Mode[] = ['add', 'clamp', 'ablate'];

/** u32 `mode` in shaders/steer.wgsl; `none` = read out only. Injected into the shader source. */
export const MODE_CODE = { none: 0, add: 1, clamp: 2, ablate: 3 } as const;
export type ModeCode = (typeof MODE_CODE)[keyof typeof MODE_CODE];

/** Directions one steer/readout pass handles (trait slots per cut layer). Injected into the shaders. */
export const K_MAX = 16;
