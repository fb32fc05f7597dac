import type { StateCreator } from 'zustand';
import type { AppState } from './index';

export interface ExtractionSlice {
  extractStatus: 'idle' | 'running' | 'done' | 'error';
  extractMessage: string | null;
  /** Prompts done / total of the current phase, for the progress bar. */
  extractDone: number;
  extractTotal: number;
  /** Fewer persona pairs and questions: seconds instead of minutes, noisier vectors. */
  extractQuick: boolean;
  extractStarted(): void;
  extractProgress(message: string, done: number, total: number): void;
  extractFinished(message: string): void;
  extractFailed(message: string): void;
  setExtractQuick(v: boolean): void;
}

export const createExtractionSlice: StateCreator<AppState, [], [], ExtractionSlice> = (set) => ({
  extractStatus: 'idle',
  extractMessage: null,
  extractDone: 0,
  extractTotal: 0,
  extractQuick: true,
  extractStarted: () => set({ extractStatus: 'running', extractMessage: 'Starting…', extractDone: 0, extractTotal: 0 }),
  extractProgress: (extractMessage, extractDone, extractTotal) => set({ extractMessage, extractDone, extractTotal }),
  extractFinished: (extractMessage) => set({ extractStatus: 'done', extractMessage }),
  extractFailed: (extractMessage) => set({ extractStatus: 'error', extractMessage }),
  setExtractQuick: (extractQuick) => set({ extractQuick }),
});
