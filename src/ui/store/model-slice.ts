import type { StateCreator } from 'zustand';
import { findCatalogModel, PLANTED_MODEL } from '../models/catalog';
import type { ErrorDetail, ModelInfo, ProgressInfo } from '../../protocol/messages';
import type { DeviceInfo } from '../../shared/device';
import type { Dtype } from '../../shared/dtype';
import type { AppState } from './index';

export interface FileProgressView {
  loaded: number;
  total: number;
}

/** A model found in the browser's caches. */
export interface CachedModel {
  /** Hub id or base URL. */
  model: string;
  bytes: number;
  files: number;
}

/** A model named by a share link, waiting for the user to confirm its download. */
export interface PendingLoad {
  model: string;
  dtype: Dtype | 'auto';
  cutLayers: string;
  /** Where the files would come from, in words (hub, this site, or another host named). */
  source?: string;
  /** How many trait vectors the link carries. */
  vectors?: number;
}

export interface ModelSlice {
  modelInput: string;
  dtypeChoice: Dtype | 'auto';
  cutLayersInput: string;
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  progress: ProgressInfo | null;
  files: Record<string, FileProgressView>;
  /** performance.now() when the current load started (speed and time left). */
  loadStartedAt: number | null;
  /** performance.now() of the latest progress message. */
  lastProgressAt: number | null;
  info: ModelInfo | null;
  device: DeviceInfo | null;
  modelError: string | null;
  /** Which file/URL the load error is about and what to offer (Retry, Delete cached copy, q4). */
  modelErrorDetail: ErrorDetail | null;
  /** A problem that did not stop the load (e.g. a file could not be cached). */
  loadWarning: string | null;
  /** About the GPU device (lost, engine restarted). */
  gpuNotice: string | null;
  pendingLoad: PendingLoad | null;
  cachedModels: CachedModel[] | null;
  cacheError: string | null;
  setModelInput(v: string): void;
  setDtypeChoice(v: Dtype | 'auto'): void;
  setCutLayersInput(v: string): void;
  loadStarted(now?: number): void;
  loadProgress(p: ProgressInfo, now?: number): void;
  loadDone(info: ModelInfo): void;
  loadFailed(message: string, detail?: ErrorDetail | null): void;
  setGpuNotice(notice: string | null): void;
  setDevice(d: DeviceInfo): void;
  setPendingLoad(p: PendingLoad | null): void;
  setCachedModels(models: CachedModel[] | null, error?: string | null): void;
}

/** First visit: the offline demo, which replies in words (src/ui/models/catalog.ts). */
export const DEFAULT_MODEL = PLANTED_MODEL;
const DEFAULT_DTYPE: Dtype | 'auto' = findCatalogModel(DEFAULT_MODEL)?.onlyDtype ?? 'auto';

/** Bytes downloaded so far and expected in all, over every file of the current load. */
export function downloadTotals(files: Record<string, FileProgressView>): { loaded: number; total: number } {
  let loaded = 0;
  let total = 0;
  for (const f of Object.values(files)) {
    loaded += f.loaded;
    total += f.total;
  }
  return { loaded, total };
}

/** Speed (bytes/s) and seconds left, from the totals and the time elapsed; null until measurable. */
export function downloadRate(loaded: number, total: number, elapsedMs: number): { bytesPerSecond: number; secondsLeft: number } | null {
  if (elapsedMs < 200 || loaded <= 0) return null;
  const bytesPerSecond = loaded / (elapsedMs / 1000);
  return { bytesPerSecond, secondsLeft: Math.max(0, (total - loaded) / bytesPerSecond) };
}

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  modelInput: DEFAULT_MODEL,
  dtypeChoice: DEFAULT_DTYPE,
  cutLayersInput: '',
  modelStatus: 'idle',
  progress: null,
  files: {},
  loadStartedAt: null,
  lastProgressAt: null,
  info: null,
  device: null,
  modelError: null,
  modelErrorDetail: null,
  loadWarning: null,
  gpuNotice: null,
  pendingLoad: null,
  cachedModels: null,
  cacheError: null,
  setModelInput: (modelInput) => set({ modelInput }),
  setDtypeChoice: (dtypeChoice) => set({ dtypeChoice }),
  setCutLayersInput: (cutLayersInput) => set({ cutLayersInput }),
  loadStarted: (now = performance.now()) =>
    set({
      modelStatus: 'loading',
      progress: null,
      files: {},
      modelError: null,
      modelErrorDetail: null,
      loadWarning: null,
      pendingLoad: null,
      loadStartedAt: now,
      lastProgressAt: now,
    }),
  loadProgress: (p, now = performance.now()) =>
    set({
      progress: p,
      lastProgressAt: now,
      files: p.phase === 'download' && p.file ? { ...get().files, [p.file]: { loaded: p.loaded, total: p.total } } : get().files,
      ...(p.warning ? { loadWarning: p.warning } : {}),
    }),
  // A failed load keeps the previous model usable: the worker only swaps once the new one is ready.
  loadDone: (info) => set({ modelStatus: 'ready', info, progress: null, modelError: null, modelErrorDetail: null }),
  loadFailed: (modelError, modelErrorDetail = null) => set({ modelStatus: get().info ? 'ready' : 'error', modelError, modelErrorDetail, progress: null }),
  setGpuNotice: (gpuNotice) => set({ gpuNotice }),
  setDevice: (device) => set({ device }),
  setPendingLoad: (pendingLoad) => set({ pendingLoad }),
  setCachedModels: (cachedModels, cacheError = null) => set({ cachedModels, cacheError }),
});
