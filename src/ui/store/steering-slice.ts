import { MAX_TYPED_STRENGTH } from '../../steering/strength';
import type { StateCreator } from 'zustand';
import type { Mode } from '../../steering/mode';
import type { TraitVector } from '../../steering/vector';
import type { Calibration } from '../../traits/calibration';
import type { TraitIndexEntry } from '../../traits/dataset';
import type { SeparationSummary, TraitVectorFile } from '../../traits/vector-json';
import type { PositionMode } from '../../traits/prompts';
import type { AppState } from './index';

/** One slider row: a built-in trait (from public/traits/index.json) or a custom one. */
export interface TraitEntry {
  traitId: string;
  label: string;
  /** -1..1, units of the layer's typical residual norm. */
  strength: number;
  mode: Mode;
  /** null = the model's default steering layer. */
  layer: number | null;
  enabled: boolean;
  custom: boolean;
  /** Only shown for this model (e.g. the planted test trait). */
  onlyForModel?: string;
}

/** One extraction method's per-layer separation (for the chart's curves). */
export interface SeparationCurve {
  separation: Record<number, SeparationSummary>;
  bestLayer: number;
}

/** What extraction (or an imported vector file) knows about a trait beyond its direction. */
export interface TraitData {
  calibration?: Record<number, Calibration>;
  separation?: Record<number, SeparationSummary>;
  bestLayer?: number;
  /** Which extraction the trait's vector (and calibration, separation) comes from. */
  positions?: PositionMode;
  /** Every extraction of this trait on this model, by token positions: the user picks one. */
  curves?: Partial<Record<PositionMode, SeparationCurve>>;
}

export interface CustomTrait extends TraitData {
  id: string;
  label: string;
  vector: TraitVector;
}

export interface PendingImport {
  fileName: string;
  traitId: string;
  /** Built-in trait (its slider gets the vector) or custom trait. */
  builtin: boolean;
  /** What would be replaced, in words. */
  question: string;
  file: TraitVectorFile;
}

export interface SteeringSlice {
  traits: TraitEntry[];
  customTraits: Record<string, CustomTrait>;
  /** Extraction results per trait id (also filled for custom traits that carry them). */
  traitData: Record<string, TraitData>;
  /** Where each trait's direction came from for the loaded model. */
  vectorKind: Record<string, 'demo' | 'extracted' | 'shared' | 'custom' | 'incompatible'>;
  /** Traits whose vector is in file units (an imported GGUF): strength 1 in typical norms at the trait's layer. */
  fileUnits: Record<string, number>;
  /** A vector file that would replace a trait's vector, waiting for the user to confirm. */
  pendingImport: PendingImport | null;
  setPendingImport(p: PendingImport | null): void;
  steeringError: string | null;
  /** Why the built-in trait list could not be read. */
  traitIndexError: string | null;
  setTraitIndexError(message: string | null): void;
  setBuiltinTraits(entries: readonly TraitIndexEntry[]): void;
  setStrength(traitId: string, strength: number): void;
  setMode(traitId: string, mode: Mode): void;
  setLayer(traitId: string, layer: number | null): void;
  setEnabled(traitId: string, enabled: boolean): void;
  resetStrengths(): void;
  addCustomTrait(t: CustomTrait): void;
  removeCustomTrait(id: string): void;
  setTraitData(traitId: string, data: TraitData): void;
  /** A new model: extraction data of built-in traits no longer applies (custom traits keep theirs). */
  clearExtractedData(): void;
  setVectorKinds(kinds: Record<string, SteeringSlice['vectorKind'][string]>): void;
  setFileUnits(units: Record<string, number>): void;
  setSteeringError(message: string | null): void;
}

/** Typed strengths may go beyond the slider's ±1 up to ±MAX_TYPED_STRENGTH (the UI warns); NaN → 0. */
export function clampStrength(x: number): number {
  return Number.isFinite(x) ? Math.max(-MAX_TYPED_STRENGTH, Math.min(MAX_TYPED_STRENGTH, Math.round(x * 1000) / 1000)) : 0;
}

export function defaultEntry(traitId: string, label: string, custom: boolean): TraitEntry {
  return { traitId, label, strength: 0, mode: 'add', layer: null, enabled: true, custom };
}

/** The traits shown for a model id (entries limited to another model are hidden). */
export function traitsForModel(traits: readonly TraitEntry[], model: string): TraitEntry[] {
  return traits.filter((t) => !t.onlyForModel || model.includes(t.onlyForModel));
}

export const createSteeringSlice: StateCreator<AppState, [], [], SteeringSlice> = (set, get) => {
  const update = (traitId: string, patch: Partial<TraitEntry>) => set({ traits: get().traits.map((t) => (t.traitId === traitId ? { ...t, ...patch } : t)) });
  return {
    traits: [],
    customTraits: {},
    traitData: {},
    vectorKind: {},
    fileUnits: {},
    pendingImport: null,
    setPendingImport: (pendingImport) => set({ pendingImport }),
    steeringError: null,
    traitIndexError: null,
    setTraitIndexError: (traitIndexError) => set({ traitIndexError }),
    setBuiltinTraits: (entries) => {
      const old = new Map(get().traits.map((t) => [t.traitId, t]));
      const builtins = entries.map((e) => {
        const base = { ...defaultEntry(e.id, e.label, false), ...(e.onlyForModel ? { onlyForModel: e.onlyForModel } : {}) };
        const prev = old.get(e.id);
        return prev ? { ...base, strength: prev.strength, mode: prev.mode, layer: prev.layer, enabled: prev.enabled } : base;
      });
      set({ traits: [...builtins, ...get().traits.filter((t) => t.custom)] });
    },
    setStrength: (traitId, strength) => update(traitId, { strength: clampStrength(strength) }),
    setMode: (traitId, mode) => update(traitId, { mode }),
    setLayer: (traitId, layer) => update(traitId, { layer }),
    setEnabled: (traitId, enabled) => update(traitId, { enabled }),
    resetStrengths: () => set({ traits: get().traits.map((t) => ({ ...t, strength: 0, mode: 'add', enabled: true })) }),
    addCustomTrait: (t) => {
      const { calibration, separation, bestLayer } = t;
      const entry = defaultEntry(t.id, t.label, true);
      const exists = get().traits.some((x) => x.traitId === t.id);
      set({
        customTraits: { ...get().customTraits, [t.id]: t },
        traitData: { ...get().traitData, [t.id]: { calibration, separation, bestLayer } },
        traits: exists ? get().traits.map((x) => (x.traitId === t.id ? { ...x, label: t.label } : x)) : [...get().traits, entry],
      });
    },
    removeCustomTrait: (id) => {
      const customTraits = { ...get().customTraits };
      delete customTraits[id];
      set({ customTraits, traits: get().traits.filter((t) => t.traitId !== id || !t.custom) });
    },
    setTraitData: (traitId, data) => set({ traitData: { ...get().traitData, [traitId]: data } }),
    clearExtractedData: () => {
      const custom = get().customTraits;
      set({ traitData: Object.fromEntries(Object.entries(get().traitData).filter(([id]) => custom[id])) });
    },
    setVectorKinds: (vectorKind) => set({ vectorKind }),
    setFileUnits: (fileUnits) => set({ fileUnits }),
    setSteeringError: (steeringError) => set({ steeringError }),
  };
};
