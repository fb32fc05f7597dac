/**
 * Which direction each trait uses on the loaded model, and the settings the engine gets.
 * Built-in traits use extracted vectors when there are any, else a seeded random "demo"
 * direction; custom traits use their own vector when its hidden size fits the model.
 */
import { randomUnit, type TraitVector } from '../../steering/vector';
import type { TraitSetting } from '../../steering/plan';
import type { ModelInfo, WireVector } from '../../protocol/messages';
import type { CustomTrait, SteeringSlice, TraitEntry } from '../store/steering-slice';

type Kind = SteeringSlice['vectorKind'][string];

/** Stable seed per trait id, so a demo direction is the same on every visit. */
export function seedOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function vectorsFor(
  info: ModelInfo,
  traits: readonly TraitEntry[],
  custom: Readonly<Record<string, CustomTrait>>,
  extracted: Readonly<Record<string, TraitVector>> = {},
): { vectors: WireVector[]; kinds: Record<string, Kind> } {
  const vectors: WireVector[] = [];
  const kinds: Record<string, Kind> = {};
  for (const t of traits) {
    const c = custom[t.traitId];
    const v = c ? c.vector : (extracted[t.traitId] ?? randomUnit(info.model, info.hidden, info.cutLayers, seedOf(t.traitId)));
    const fits = v.hidden === info.hidden && info.cutLayers.some((l) => v.layers[l]);
    if (!fits) {
      kinds[t.traitId] = 'incompatible';
      continue;
    }
    kinds[t.traitId] = c ? 'custom' : extracted[t.traitId] ? 'extracted' : 'demo';
    vectors.push({ traitId: t.traitId, model: v.model, hidden: v.hidden, layers: v.layers, units: v.units });
  }
  return { vectors, kinds };
}

/** The layer a trait steers on this model: its own choice if cut, else the default cut layer. */
export function effectiveLayer(t: TraitEntry, info: ModelInfo): number {
  return t.layer !== null && info.cutLayers.includes(t.layer) ? t.layer : info.cutLayers[0];
}

export function engineSettings(traits: readonly TraitEntry[], info: ModelInfo | null): TraitSetting[] {
  if (!info) return [];
  return traits.map((t) => ({ traitId: t.traitId, strength: t.strength, mode: t.mode, layer: effectiveLayer(t, info), enabled: t.enabled }));
}

/** The same settings with every strength at 0 and no intervention: the unsteered baseline. */
export function unsteeredSettings(settings: readonly TraitSetting[]): TraitSetting[] {
  return settings.map((s) => ({ ...s, strength: 0, mode: 'add', enabled: false }));
}
