import type { StateCreator } from 'zustand';
import type { Projections } from '../../worker/protocol';
import type { AppState } from './index';

export interface TokenPoint {
  index: number;
  text: string;
  projections: Projections;
}

/** Token points kept for charts; older ones drop off. */
export const MAX_POINTS = 512;

export interface MetricsSlice {
  points: TokenPoint[];
  tokensPerSecond: number | null;
  /** Called once per animation frame with the tokens that arrived since the last frame. */
  appendPoints(batch: TokenPoint[]): void;
  setTokensPerSecond(v: number | null): void;
  clearPoints(): void;
}

export const createMetricsSlice: StateCreator<AppState, [], [], MetricsSlice> = (set, get) => ({
  points: [],
  tokensPerSecond: null,
  appendPoints: (batch) => {
    if (batch.length === 0) return;
    const next = get().points.concat(batch);
    set({ points: next.length > MAX_POINTS ? next.slice(next.length - MAX_POINTS) : next });
  },
  setTokensPerSecond: (tokensPerSecond) => set({ tokensPerSecond }),
  clearPoints: () => set({ points: [] }),
});
