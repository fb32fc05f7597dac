import type { StateCreator } from 'zustand';
import type { BuiltinPreset } from '../../presets/builtins';
import type { Preset } from '../../presets/preset';
import type { TraitVector } from '../../steering/vector';
import type { Calibration } from '../../traits/calibration';
import type { LinkSteer } from '../actions/geometry';
import type { AppState } from './index';
import { defaultEntry, type CustomTrait, type TraitData, type TraitEntry } from './steering-slice';

/** Built-in trait vectors a link brought: registered as they are whenever its model is loaded. */
export interface LinkVectors {
  model: string;
  vectors: Record<string, { vector: TraitVector; calibration: Record<number, Calibration> }>;
}

/** Why "Share link" made no link: the setup is larger than a link may be (a preset file is offered). */
export interface ShareTooLarge {
  chars: number;
  limit: number;
}

export interface PresetSlice {
  /** Why the last link could not be used (shown as an alert); the session stays as it was. */
  presetError: string | null;
  /** The link made by "Share", or null. */
  shareLink: string | null;
  /** What the link made by "Share" carries, in words (vectors, precision, size). */
  shareNote: string | null;
  shareTooLarge: ShareTooLarge | null;
  linkVectors: LinkVectors | null;
  presetRejected(message: string | null): void;
  setShareLink(link: string | null, note?: string | null): void;
  setShareTooLarge(v: ShareTooLarge | null): void;
  /**
   * Restores every setting of a link or preset file; the model waits for the user's
   * confirmation (pendingLoad, with `source`: where the files would come from, in words).
   */
  applyPreset(p: Preset, source: string): void;
  applyBuiltinPreset(p: BuiltinPreset): void;
}

/**
 * The loaded model (its resolved id) is the one `model` names: the same hub id or URL, or a
 * site-relative id ('./models/…', '/local-models/…') that resolves to it on this page.
 */
export function sameModel(loaded: string, model: string): boolean {
  if (loaded === model || (model.startsWith('/') && loaded.endsWith(model))) return true;
  if (!/^\.{0,2}\//.test(model)) return false;
  try {
    const base = typeof document !== 'undefined' ? document.baseURI : typeof location !== 'undefined' ? location.href : undefined;
    return base !== undefined && new URL(model, base).href === loaded;
  } catch {
    return false;
  }
}

function parseCut(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0);
}

/**
 * The settings that reproduce the current session (vectors are added by the share action).
 * With the typed model loaded, its actual weights and layers are pinned (not "auto"), so the
 * recipient runs the same numbers whatever their device would pick.
 */
export function presetOf(s: AppState): Preset {
  const model = s.modelInput.trim();
  const info = s.info;
  const isLoaded = info !== null && sameModel(info.model, model);
  return {
    model,
    dtype: isLoaded ? info.dtype : s.dtypeChoice,
    cutLayers: isLoaded ? [...info.cutLayers] : parseCut(s.cutLayersInput),
    traits: s.traits
      .filter((t) => t.strength !== 0 || t.mode !== 'add' || t.layer !== null || !t.enabled || t.custom)
      .map((t) => ({ id: t.traitId, strength: t.strength, mode: t.mode, layer: t.layer, enabled: t.enabled })),
    vectors: [],
    systemPrompt: s.systemPrompt,
    sampling: { ...s.sampling },
    maxNewTokens: s.maxNewTokens,
    ...(s.orthogonal ? { orthogonal: true } : {}),
  };
}

export const createPresetSlice: StateCreator<AppState, [], [], PresetSlice> = (set, get) => ({
  presetError: null,
  shareLink: null,
  shareNote: null,
  shareTooLarge: null,
  linkVectors: null,
  presetRejected: (presetError) => set({ presetError }),
  setShareLink: (shareLink, shareNote = null) => set({ shareLink, shareNote, shareTooLarge: null }),
  setShareTooLarge: (shareTooLarge) => set({ shareTooLarge, shareLink: null, shareNote: null }),
  applyPreset: (p, source) => {
    const customTraits: Record<string, CustomTrait> = {};
    const traitData: Record<string, TraitData> = {};
    const linked: LinkVectors = { model: p.model, vectors: {} };
    const linkSteer: Record<string, LinkSteer> = {};
    for (const v of p.vectors) {
      for (const [l, x] of Object.entries(v.steer ?? {})) if (v.layers[Number(l)]) linkSteer[v.id] = { layer: Number(l), raw: v.layers[Number(l)], vector: x };
      const vector = { model: p.model, hidden: v.hidden, layers: v.layers };
      if (v.customLabel !== null) {
        customTraits[v.id] = { id: v.id, label: v.customLabel, vector, calibration: v.calibration };
        traitData[v.id] = { calibration: v.calibration };
      } else linked.vectors[v.id] = { vector, calibration: v.calibration };
    }
    const builtins = get()
      .traits.filter((t) => !t.custom)
      .map((t): TraitEntry => ({ ...t, strength: 0, mode: 'add', layer: null, enabled: true }));
    const customs = p.vectors.filter((v) => v.customLabel !== null).map((v) => defaultEntry(v.id, v.customLabel!, true));
    const settings = new Map(p.traits.map((t) => [t.id, t]));
    const traits = [...builtins, ...customs].map((t) => {
      const s = settings.get(t.traitId);
      return s ? { ...t, strength: s.strength, mode: s.mode, layer: s.layer, enabled: s.enabled } : t;
    });
    const cutLayers = p.cutLayers.join(', ');
    const keptData = Object.fromEntries(Object.entries(get().traitData).filter(([id]) => !get().customTraits[id]));
    set({
      modelInput: p.model,
      dtypeChoice: p.dtype,
      cutLayersInput: cutLayers,
      traits,
      customTraits,
      traitData: { ...keptData, ...traitData },
      systemPrompt: p.systemPrompt,
      sampling: { ...p.sampling },
      maxNewTokens: p.maxNewTokens,
      presetError: null,
      linkVectors: Object.keys(linked.vectors).length ? linked : null,
      orthogonal: p.orthogonal ?? false,
      linkSteer,
      pendingLoad: { model: p.model, dtype: p.dtype, cutLayers, source, vectors: p.vectors.length },
    });
  },
  applyBuiltinPreset: (p) =>
    set({
      systemPrompt: p.systemPrompt,
      traits: get().traits.map((t) => ({ ...t, strength: p.strengths[t.traitId] ?? 0, mode: 'add', enabled: true })),
    }),
});
