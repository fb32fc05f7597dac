/** The app's one zustand store, a slice per feature. */
import { createStore, useStore } from 'zustand';
import { createCheckSlice, type CheckSlice } from './check-slice';
import { createChatSlice, type ChatSlice } from './chat-slice';
import { createCompareSlice, type CompareSlice } from './compare-slice';
import { createGeometrySlice, type GeometrySlice } from './geometry-slice';
import { createExtractionSlice, type ExtractionSlice } from './extraction-slice';
import { createMetricsSlice, type MetricsSlice } from './metrics-slice';
import { createModelSlice, type ModelSlice } from './model-slice';
import { createPresetSlice, type PresetSlice } from './preset-slice';
import { createPsychSlice, type PsychSlice } from './psych-slice';
import { createSteeringSlice, type SteeringSlice } from './steering-slice';

export type AppState = ModelSlice &
  ChatSlice &
  SteeringSlice &
  MetricsSlice &
  CompareSlice &
  PresetSlice &
  ExtractionSlice &
  CheckSlice &
  PsychSlice &
  GeometrySlice;

export function createAppStore() {
  return createStore<AppState>()((...a) => ({
    ...createModelSlice(...a),
    ...createChatSlice(...a),
    ...createSteeringSlice(...a),
    ...createMetricsSlice(...a),
    ...createCompareSlice(...a),
    ...createPresetSlice(...a),
    ...createExtractionSlice(...a),
    ...createCheckSlice(...a),
    ...createPsychSlice(...a),
    ...createGeometrySlice(...a),
  }));
}

export type AppStore = ReturnType<typeof createAppStore>;
export const appStore = createAppStore();

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(appStore, selector);
}
