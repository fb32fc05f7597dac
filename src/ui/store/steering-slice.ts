import type { StateCreator } from 'zustand';
import type { InterventionMode, TraitSetting } from '../../engine/steering/plan';
import type { AppState } from './index';

export interface TraitEntry extends TraitSetting {
  label: string;
}

export interface SteeringSlice {
  traits: TraitEntry[];
  steeringError: string | null;
  setTraits(traits: TraitEntry[]): void;
  setStrength(traitId: string, strength: number): void;
  setMode(traitId: string, mode: InterventionMode): void;
  setLayer(traitId: string, layer: number): void;
  setEnabled(traitId: string, enabled: boolean): void;
  setSteeringError(message: string | null): void;
}

export function clampStrength(x: number): number {
  return Number.isFinite(x) ? Math.max(-1, Math.min(1, x)) : 0;
}

export const createSteeringSlice: StateCreator<AppState, [], [], SteeringSlice> = (set, get) => {
  const update = (traitId: string, patch: Partial<TraitEntry>) =>
    set({ traits: get().traits.map((t) => (t.traitId === traitId ? { ...t, ...patch } : t)) });
  return {
    traits: [],
    steeringError: null,
    setTraits: (traits) => set({ traits }),
    setStrength: (traitId, strength) => update(traitId, { strength: clampStrength(strength) }),
    setMode: (traitId, mode) => update(traitId, { mode }),
    setLayer: (traitId, layer) => update(traitId, { layer }),
    setEnabled: (traitId, enabled) => update(traitId, { enabled }),
    setSteeringError: (steeringError) => set({ steeringError }),
  };
};
