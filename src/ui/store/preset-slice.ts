import type { StateCreator } from 'zustand';
import type { BuiltinPreset } from '../../presets/builtins';
import type { Preset } from '../../presets/preset';
import type { AppState } from './index';
import { defaultEntry, type CustomTrait, type TraitEntry } from './steering-slice';

export interface PresetSlice {
  /** Why the last link could not be used (shown as an alert); the session stays as it was. */
  presetError: string | null;
  /** The link made by "Share", or null. */
  shareLink: string | null;
  presetRejected(message: string | null): void;
  setShareLink(link: string | null): void;
  /** Restores every setting of a link; the model waits for the user's confirmation (pendingLoad). */
  applyPreset(p: Preset): void;
  applyBuiltinPreset(p: BuiltinPreset): void;
}

/** The preset that reproduces the current settings. */
export function presetOf(s: AppState): Preset {
  return {
    model: s.modelInput.trim(),
    dtype: s.dtypeChoice,
    cutLayers: s.cutLayersInput
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 0),
    traits: s.traits
      .filter((t) => t.strength !== 0 || t.mode !== 'add' || t.layer !== null || !t.enabled || t.custom)
      .map((t) => ({ id: t.traitId, strength: t.strength, mode: t.mode, layer: t.layer, enabled: t.enabled })),
    custom: Object.values(s.customTraits).map((c) => ({ id: c.id, label: c.label, hidden: c.vector.hidden, layers: c.vector.layers })),
    systemPrompt: s.systemPrompt,
    sampling: { ...s.sampling },
    maxNewTokens: s.maxNewTokens,
  };
}

export const createPresetSlice: StateCreator<AppState, [], [], PresetSlice> = (set, get) => ({
  presetError: null,
  shareLink: null,
  presetRejected: (presetError) => set({ presetError }),
  setShareLink: (shareLink) => set({ shareLink }),
  applyPreset: (p) => {
    const customTraits: Record<string, CustomTrait> = {};
    for (const c of p.custom) customTraits[c.id] = { id: c.id, label: c.label, vector: { model: p.model, hidden: c.hidden, layers: c.layers } };
    const builtins = get()
      .traits.filter((t) => !t.custom)
      .map((t): TraitEntry => ({ ...t, strength: 0, mode: 'add', layer: null, enabled: true }));
    const customs = p.custom.map((c) => defaultEntry(c.id, c.label, true));
    const settings = new Map(p.traits.map((t) => [t.id, t]));
    const traits = [...builtins, ...customs].map((t) => {
      const s = settings.get(t.traitId);
      return s ? { ...t, strength: s.strength, mode: s.mode, layer: s.layer, enabled: s.enabled } : t;
    });
    const cutLayers = p.cutLayers.join(', ');
    set({
      modelInput: p.model,
      dtypeChoice: p.dtype,
      cutLayersInput: cutLayers,
      traits,
      customTraits,
      systemPrompt: p.systemPrompt,
      sampling: { ...p.sampling },
      maxNewTokens: p.maxNewTokens,
      presetError: null,
      pendingLoad: { model: p.model, dtype: p.dtype, cutLayers },
    });
  },
  applyBuiltinPreset: (p) =>
    set({
      systemPrompt: p.systemPrompt,
      traits: get().traits.map((t) => ({ ...t, strength: p.strengths[t.traitId] ?? 0, mode: 'add', enabled: true })),
    }),
});
