/**
 * Turns what the user set (per trait: strength, mode, layer) plus the registered trait vectors
 * into what the kernels at each cut layer need: the directions to read out and the
 * intervention per direction, with strengths converted to the model's own units.
 *
 * Strength units: 1.0 = a change the size of the layer's typical residual norm (measured once
 * per model), so one slider range fits every model and layer.
 */
import { K_MAX, MODE_CODE, type Mode, type ModeCode } from './mode';
import { strengthToAlpha, strengthToTarget } from './strength';
import { norm, type TraitVector } from './vector';

export interface TraitSetting {
  traitId: string;
  /** -1..1 typically; in units of the layer's typical residual norm. */
  strength: number;
  mode: Mode;
  /** Residual after this layer is steered and read. */
  layer: number;
  /** Off = read out only. */
  enabled: boolean;
}

export interface SlotPlan {
  traitId: string;
  vector: Float32Array; // [hidden], raw direction
  mode: ModeCode;
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
      if (!v || slots.length >= K_MAX) continue;
      const s = byTrait.get(traitId);
      const typical = typicalNorm.get(layer) ?? 1;
      let mode: ModeCode = MODE_CODE.none;
      let alpha = 0;
      let target = 0;
      if (s && s.layer === layer && isActive(s)) {
        mode = MODE_CODE[s.mode];
        // File units: strength 1 = the vector as-is (llama.cpp scale 1); clamp targets its own length.
        const file = vec.units === 'file';
        alpha = file ? s.strength : strengthToAlpha(s.strength, typical, norm(v));
        target = strengthToTarget(s.strength, file ? norm(v) : typical);
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
