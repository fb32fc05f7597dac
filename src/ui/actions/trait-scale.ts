/**
 * One trait's steering in llama.cpp terms and as a view in typical-norm units: the scale at which
 * its vector file reproduces the current strength (add mode), and how many typical norms
 * strength 1 is for a file-units vector.
 */
import { planLayers, type TraitSetting } from '../../steering/plan';
import { norm } from '../../steering/vector';
import type { ModelInfo, WireVector } from '../../protocol/messages';

/** The trait's layer and the llama.cpp scale for its current setting (null: not steered in add mode at a layer > 0). */
export function traitScale(info: ModelInfo, w: WireVector, setting: TraitSetting | undefined): { layer: number; scale: number } | null {
  if (!setting || setting.mode !== 'add' || setting.layer < 1 || !w.layers[setting.layer]) return null;
  const norms = new Map(Object.entries(info.typicalNorm).map(([l, n]) => [Number(l), n]));
  const plan = planLayers([setting.layer], new Map([[w.traitId, w]]), [setting], norms)[0];
  const slot = plan.slots.find((s) => s.traitId === w.traitId);
  return slot ? { layer: setting.layer, scale: slot.alpha } : null;
}

/** For a file-units vector: strength 1 at `layer` in typical norms (|v| / typical norm). */
export function fileUnitsInTypical(info: ModelInfo, w: WireVector, layer: number): number | null {
  const v = w.layers[layer];
  const typical = info.typicalNorm[layer];
  if (w.units !== 'file' || !v || !typical) return null;
  return norm(v) / typical;
}
