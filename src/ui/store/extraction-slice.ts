import type { StateCreator } from 'zustand';
import { DEFAULT_RESPONSE_TOKENS, type PositionMode } from '../../traits/prompts';
import type { AppState } from './index';

export interface ExtractionSlice {
  /** 'stopped': the user stopped it (a notice, not an error). */
  extractStatus: 'idle' | 'running' | 'done' | 'error' | 'stopped';
  /** Stop was asked for; the engine stops before its next forward pass. */
  extractStopping: boolean;
  extractMessage: string | null;
  /** Prompts done / total of the current phase, for the progress bar. */
  extractDone: number;
  extractTotal: number;
  /** Fewer persona pairs and questions: seconds instead of minutes, noisier vectors. */
  extractQuick: boolean;
  /** Which tokens' residuals the next extraction averages: the prompt's last token, or the model's own reply. */
  extractPositions: PositionMode;
  /** Reply tokens generated per prompt for 'response' extraction. */
  extractResponseTokens: number;
  setExtractPositions(p: PositionMode): void;
  setExtractResponseTokens(n: number): void;
  extractStarted(): void;
  extractProgress(message: string, done: number, total: number): void;
  extractFinished(message: string): void;
  extractFailed(message: string): void;
  extractStopRequested(): void;
  extractStopped(message: string): void;
  setExtractQuick(v: boolean): void;
}

export const createExtractionSlice: StateCreator<AppState, [], [], ExtractionSlice> = (set) => ({
  extractStatus: 'idle',
  extractMessage: null,
  extractStopping: false,
  extractDone: 0,
  extractTotal: 0,
  extractQuick: true,
  extractPositions: 'last',
  extractResponseTokens: DEFAULT_RESPONSE_TOKENS,
  setExtractPositions: (extractPositions) => set({ extractPositions }),
  setExtractResponseTokens: (extractResponseTokens) => set({ extractResponseTokens }),
  extractStarted: () => set({ extractStatus: 'running', extractMessage: 'Starting…', extractDone: 0, extractTotal: 0, extractStopping: false }),
  extractProgress: (extractMessage, extractDone, extractTotal) => set({ extractMessage, extractDone, extractTotal }),
  extractFinished: (extractMessage) => set({ extractStatus: 'done', extractMessage, extractStopping: false }),
  extractFailed: (extractMessage) => set({ extractStatus: 'error', extractMessage, extractStopping: false }),
  extractStopRequested: () => set((s) => (s.extractStatus === 'running' ? { extractStopping: true } : {})),
  extractStopped: (extractMessage) => set({ extractStatus: 'stopped', extractMessage, extractStopping: false }),
  setExtractQuick: (extractQuick) => set({ extractQuick }),
});
