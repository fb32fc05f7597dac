/**
 * What a share link carries and how the recipient registers it. The sender's link holds, for
 * every trait in use (enabled, and add with strength ≠ 0, or clamp / ablate) the exact float32
 * direction the engine steers with at that trait's layer, plus its readout calibration there;
 * custom traits not in use travel as int8 (their slider only). Demo directions are not carried:
 * they are regenerated from the trait id. The recipient registers the vectors as they are, so
 * the same prompt and seed give the same reply without extracting anything.
 */
import type { DecodeContext } from '../../presets/codec';
import { checkModelRef, describeSource } from '../../presets/model-ref';
import type { Preset, PresetVector } from '../../presets/preset';
import { isActive } from '../../steering/plan';
import type { TraitVector } from '../../steering/vector';
import type { ModelInfo } from '../../protocol/messages';
import { CATALOG } from '../models/catalog';
import type { AppState } from '../store';
import { DEFAULT_MODEL } from '../store/model-slice';
import { presetOf, sameModel as sameLoadedModel } from '../store/preset-slice';
import { traitsForModel, type TraitEntry } from '../store/steering-slice';
import { state, type ActionContext } from './context';
import { orthogonalSteering } from './geometry';
import { effectiveLayer, engineSettings, vectorsFor } from './trait-vectors';

/** Built-in trait ids and the models this site serves (the default and the offline demos). */
export function decodeContext(s: AppState): DecodeContext {
  return {
    knownTraitIds: new Set(s.traits.filter((t) => !t.custom).map((t) => t.traitId)),
    siteModels: new Set([DEFAULT_MODEL, ...CATALOG.filter((m) => m.offline).map((m) => m.id)]),
  };
}

/** Where a checked model reference downloads from, in words, for the "will load" banner. */
export function sourceOf(model: string, s: AppState): string {
  const origin = typeof location !== 'undefined' ? location.origin : undefined;
  return describeSource(checkModelRef(model, decodeContext(s).siteModels), origin);
}

function pick(layers: Record<number, Float32Array>, keep: (l: number) => boolean): Record<number, Float32Array> {
  return Object.fromEntries(Object.entries(layers).filter(([l]) => keep(Number(l))));
}

function calibrationAt(s: AppState, id: string, layers: Record<number, Float32Array>): PresetVector['calibration'] {
  const cal = s.traitData[id]?.calibration ?? {};
  return Object.fromEntries(Object.keys(layers).flatMap((l) => (cal[Number(l)] ? [[l, { ...cal[Number(l)] }]] : [])));
}

/** The vector of one trait the link carries, or null (demo direction, wrong size, nothing in use). */
function carried(s: AppState, t: TraitEntry, info: ModelInfo | null, extracted: Readonly<Record<string, TraitVector>>): PresetVector | null {
  const custom = t.custom ? s.customTraits[t.traitId] : undefined;
  const v = custom ? custom.vector : extracted[t.traitId];
  if (!v || (info && v.hidden !== info.hidden)) return null;
  const setting = info ? engineSettings([t], info)[0] : { ...t, layer: t.layer ?? -1 };
  const active = isActive(setting);
  let layers: Record<number, Float32Array>;
  if (active && info) layers = pick(v.layers, (l) => l === effectiveLayer(t, info));
  else if (active) layers = v.layers;
  else if (custom) {
    const cut = info ? pick(v.layers, (l) => info.cutLayers.includes(l)) : {};
    layers = Object.keys(cut).length ? cut : v.layers;
  } else return null;
  if (Object.keys(layers).length === 0) return null;
  return {
    id: t.traitId,
    customLabel: custom ? custom.label : null,
    hidden: v.hidden,
    precision: active ? 'f32' : 'i8',
    layers,
    calibration: calibrationAt(s, t.traitId, layers),
  };
}

/** The current settings plus every vector needed to reproduce them. */
export function presetToShare(s: AppState, extracted: Readonly<Record<string, TraitVector>>): Preset {
  const p = presetOf(s);
  const info = s.info && sameModel(s.info, p.model) ? s.info : null;
  const shown = info ? traitsForModel(s.traits, info.model) : s.traits;
  const vectors = shown.flatMap((t) => carried(s, t, info, extracted) ?? []);
  // Orthogonalised steering: the exact direction each trait in use steers with travels beside its vector.
  if (info && s.orthogonal) {
    const { vectors: wires, kinds } = vectorsFor(info, shown, s.customTraits, extracted);
    const { steer } = orthogonalSteering(wires, kinds, engineSettings(shown, info), s.linkSteer);
    for (const v of vectors) {
      const o = steer[v.id];
      if (o && v.precision === 'f32' && v.layers[o.layer]) v.steer = { [o.layer]: o.vector };
    }
  }
  // Custom traits always travel (a link names them); the ones not shown for this model keep all layers.
  for (const c of Object.values(s.customTraits)) {
    if (!vectors.some((v) => v.id === c.id))
      vectors.push({
        id: c.id,
        customLabel: c.label,
        hidden: c.vector.hidden,
        precision: 'i8',
        layers: c.vector.layers,
        calibration: calibrationAt(s, c.id, c.vector.layers),
      });
  }
  return { ...p, vectors };
}

/** One line on what a link carries, for the sender. */
export function describeCarried(p: Preset): string {
  const exact = p.vectors.filter((v) => v.precision === 'f32').map((v) => v.id);
  const int8 = p.vectors.filter((v) => v.precision === 'i8').map((v) => v.id);
  const parts = [];
  if (exact.length) parts.push(`exact vectors for ${exact.join(', ')}`);
  if (int8.length) parts.push(`int8 vectors for ${int8.join(', ')} (not in use)`);
  const orth = p.vectors.filter((v) => v.steer).map((v) => v.id);
  if (orth.length) parts.push(`the orthogonalised steering directions of ${orth.join(', ')}`);
  return parts.length ? `The link carries ${parts.join(' and ')}.` : 'The link carries settings only (no extracted or custom trait is in use).';
}

/** The loaded model is the one a link or preset names. */
export function sameModel(info: ModelInfo, model: string): boolean {
  return sameLoadedModel(info.model, model);
}

/** Registers the link's built-in vectors when its model is the loaded one (after every load, too). */
export function applyLinkVectors(ctx: ActionContext): boolean {
  const { info, linkVectors, setTraitData, traitData } = state(ctx);
  if (!info || !linkVectors || !sameModel(info, linkVectors.model)) return false;
  let any = false;
  for (const [id, { vector, calibration }] of Object.entries(linkVectors.vectors)) {
    if (vector.hidden !== info.hidden) continue;
    ctx.extracted[id] = vector;
    setTraitData(id, { ...traitData[id], calibration: { ...traitData[id]?.calibration, ...calibration } });
    any = true;
  }
  return any;
}
