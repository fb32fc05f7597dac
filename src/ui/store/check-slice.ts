import type { StateCreator } from 'zustand';
import type { CheckReport } from '../../protocol/check';
import type { AppState } from './index';

/** "Check this model": the loaded model's self-check report (a failed one keeps steering off). */
export interface CheckSlice {
  checkStatus: 'idle' | 'running' | 'done' | 'error';
  checkReport: CheckReport | null;
  /** Why the check could not run (steering stays allowed, with this shown). */
  checkError: string | null;
  checkStarted(): void;
  checkDone(report: CheckReport): void;
  checkFailed(message: string): void;
  clearCheck(): void;
}

export const createCheckSlice: StateCreator<AppState, [], [], CheckSlice> = (set) => ({
  checkStatus: 'idle',
  checkReport: null,
  checkError: null,
  checkStarted: () => set({ checkStatus: 'running', checkError: null }),
  checkDone: (checkReport) => set({ checkStatus: 'done', checkReport, checkError: null }),
  checkFailed: (checkError) => set({ checkStatus: 'error', checkError }),
  clearCheck: () => set({ checkStatus: 'idle', checkReport: null, checkError: null }),
});

/** True when the loaded model's self-check failed: sliders are disabled, the engine gets no steering. */
export function steeringBlocked(s: Pick<CheckSlice, 'checkReport'>): boolean {
  return s.checkReport !== null && !s.checkReport.passed;
}
