import type { StateCreator } from 'zustand';
import type { AppState } from './index';
import { appendBounded, type TokenPoint } from './metrics-slice';

export type CompareSide = 'unsteered' | 'steered';

export interface CompareRun {
  text: string;
  points: TokenPoint[];
}

export interface CompareSlice {
  /** 'stopped': the user stopped it (a notice, not an error; what ran so far is kept). */
  compareStatus: 'idle' | 'running' | 'done' | 'stopped' | 'error';
  comparePrompt: string;
  /** Side being generated while running. */
  comparePhase: CompareSide | null;
  compareRuns: Record<CompareSide, CompareRun>;
  compareError: string | null;
  compareStarted(prompt: string): void;
  comparePhaseStarted(side: CompareSide): void;
  compareAppend(side: CompareSide, batch: TokenPoint[]): void;
  compareDone(): void;
  compareFailed(message: string): void;
  compareStopped(): void;
  compareCleared(): void;
}

const empty = (): Record<CompareSide, CompareRun> => ({ unsteered: { text: '', points: [] }, steered: { text: '', points: [] } });

export const createCompareSlice: StateCreator<AppState, [], [], CompareSlice> = (set, get) => ({
  compareStatus: 'idle',
  comparePrompt: '',
  comparePhase: null,
  compareRuns: empty(),
  compareError: null,
  compareStarted: (comparePrompt) => set({ compareStatus: 'running', comparePrompt, comparePhase: null, compareRuns: empty(), compareError: null }),
  comparePhaseStarted: (comparePhase) => set({ comparePhase }),
  compareAppend: (side, batch) => {
    if (batch.length === 0) return;
    const runs = get().compareRuns;
    const run = runs[side];
    set({ compareRuns: { ...runs, [side]: { text: run.text + batch.map((p) => p.text).join(''), points: appendBounded(run.points, batch) } } });
  },
  compareDone: () => set({ compareStatus: 'done', comparePhase: null }),
  compareFailed: (compareError) => set({ compareStatus: 'error', comparePhase: null, compareError }),
  compareStopped: () => set({ compareStatus: 'stopped', comparePhase: null, compareError: null }),
  compareCleared: () => set({ compareStatus: 'idle', comparePhase: null, compareRuns: empty(), compareError: null }),
});
