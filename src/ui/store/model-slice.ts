import type { StateCreator } from 'zustand';
import type { DeviceInfo, Dtype, ModelInfo, ProgressInfo } from '../../worker/protocol';
import type { AppState } from './index';

export interface FileProgressView {
  loaded: number;
  total: number;
}

export interface ModelSlice {
  modelInput: string;
  dtypeChoice: Dtype | 'auto';
  cutLayersInput: string;
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  progress: ProgressInfo | null;
  files: Record<string, FileProgressView>;
  info: ModelInfo | null;
  device: DeviceInfo | null;
  modelError: string | null;
  setModelInput(v: string): void;
  setDtypeChoice(v: Dtype | 'auto'): void;
  setCutLayersInput(v: string): void;
  loadStarted(): void;
  loadProgress(p: ProgressInfo): void;
  loadDone(info: ModelInfo): void;
  loadFailed(message: string): void;
  setDevice(d: DeviceInfo): void;
}

export const DEFAULT_MODEL = '/local-models/traitlab/tiny-llama/';

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  modelInput: DEFAULT_MODEL,
  dtypeChoice: 'auto',
  cutLayersInput: '',
  modelStatus: 'idle',
  progress: null,
  files: {},
  info: null,
  device: null,
  modelError: null,
  setModelInput: (modelInput) => set({ modelInput }),
  setDtypeChoice: (dtypeChoice) => set({ dtypeChoice }),
  setCutLayersInput: (cutLayersInput) => set({ cutLayersInput }),
  loadStarted: () => set({ modelStatus: 'loading', progress: null, files: {}, modelError: null }),
  loadProgress: (p) =>
    set({
      progress: p,
      files: p.phase === 'download' && p.file ? { ...get().files, [p.file]: { loaded: p.loaded, total: p.total } } : get().files,
    }),
  // A failed load keeps the previous model usable: the worker only swaps once the new one is ready.
  loadDone: (info) => set({ modelStatus: 'ready', info, progress: null, modelError: null }),
  loadFailed: (modelError) => set({ modelStatus: get().info ? 'ready' : 'error', modelError, progress: null }),
  setDevice: (device) => set({ device }),
});
