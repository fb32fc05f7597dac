/**
 * Turns what the user set (per trait: strength, mode, layer) plus the registered trait vectors
 * into what the kernels at each cut layer need: the directions to read out and the
 * intervention per direction, with strengths converted to the model's own units.
 *
 * Strength units: 1.0 = a change the size of the layer's typical residual norm (measured once
 * per model), so one slider range fits every model and layer.
 */
import { norm, type TraitVector } from './vector';

export type InterventionMode = 'add' | 'clamp' | 'ablate';
export const MODE_CODE: Record<InterventionMode | 'none', number> = { none: 0, add: 1, clamp: 2, ablate: 3 };
export const MAX_DIRECTIONS = 16;

export interface TraitSetting {
  traitId: string;
  /** -1..1 typically; in units of the layer's typical residual norm. */
  strength: number;
  mode: InterventionMode;
  /** Residual after this layer is steered and read. */
  layer: number;
  /** Off = read out only. */
  enabled: boolean;
}

export interface SlotPlan {
  traitId: string;
  vector: Float32Array; // [hidden], raw direction
  mode: number; // MODE_CODE
  alpha: number; // add: h += alpha * v
  target: number; // clamp: projection on unit v set to target
}

export interface LayerPlan {
  layer: number;
  slots: SlotPlan[];
}

/** Whether a setting changes the residual at all (add with strength 0 does not). */
export function isActive(s: TraitSetting): boolean {
  if (!s.enabled) return false;
  return s.mode === 'ablate' || s.mode === 'clamp' || s.strength !== 0;
}

export function planLayers(
  cutLayers: readonly number[],
  vectors: ReadonlyMap<string, TraitVector>,
  settings: readonly TraitSetting[],
  typicalNorm: ReadonlyMap<number, number>,
): LayerPlan[] {
  const byTrait = new Map(settings.map((s) => [s.traitId, s]));
  return cutLayers.map((layer) => {
    const slots: SlotPlan[] = [];
    for (const [traitId, vec] of vectors) {
      const v = vec.layers[layer];
      if (!v || slots.length >= MAX_DIRECTIONS) continue;
      const s = byTrait.get(traitId);
      const typical = typicalNorm.get(layer) ?? 1;
      const vn = norm(v) || 1;
      let mode = MODE_CODE.none;
      let alpha = 0;
      let target = 0;
      if (s && s.layer === layer && isActive(s)) {
        mode = MODE_CODE[s.mode];
        alpha = (s.strength * typical) / vn;
        target = s.strength * typical;
      }
      slots.push({ traitId, vector: v, mode, alpha, target });
    }
    return { layer, slots };
  });
}

/**
 * The combined effect of all add-mode settings per layer, in the model's own units: the
 * control vector that reproduces our steering when added with scale 1 (llama.cpp export).
 */
export function combinedAddVector(plans: readonly LayerPlan[], hidden: number): Record<number, Float32Array> {
  const out: Record<number, Float32Array> = {};
  for (const p of plans) {
    const acc = new Float32Array(hidden);
    let any = false;
    for (const s of p.slots) {
      if (s.mode !== MODE_CODE.add) continue;
      any = true;
      for (let i = 0; i < hidden; i++) acc[i] += s.alpha * s.vector[i];
    }
    if (any) out[p.layer] = acc;
  }
  return out;
}
