import type { StateCreator } from 'zustand';
import type { Projections } from '../../protocol/messages';
import type { AppState } from './index';

export interface TokenPoint {
  index: number;
  text: string;
  projections: Projections;
}

/** Token points kept for charts; older ones drop off. */
export const MAX_POINTS = 512;

export function appendBounded(points: readonly TokenPoint[], batch: readonly TokenPoint[], max = MAX_POINTS): TokenPoint[] {
  const next = points.concat(batch);
  return next.length > max ? next.slice(next.length - max) : next;
}

export interface MetricsSlice {
  /** Tokens of the latest reply, with their projections. */
  points: TokenPoint[];
  tokensPerSecond: number | null;
  /** Trait whose per-token score colours the reply text; null = no colouring. */
  colorTraitId: string | null;
  /** Called once per animation frame with the tokens that arrived since the last frame. */
  appendPoints(batch: TokenPoint[]): void;
  setTokensPerSecond(v: number | null): void;
  setColorTrait(id: string | null): void;
  clearPoints(): void;
}

export const createMetricsSlice: StateCreator<AppState, [], [], MetricsSlice> = (set, get) => ({
  points: [],
  tokensPerSecond: null,
  colorTraitId: null,
  appendPoints: (batch) => {
    if (batch.length > 0) set({ points: appendBounded(get().points, batch) });
  },
  setTokensPerSecond: (tokensPerSecond) => set({ tokensPerSecond }),
  setColorTrait: (colorTraitId) => set({ colorTraitId }),
  clearPoints: () => set({ points: [] }),
});
