/**
 * A preset: everything a share link carries. Plain data, no React; the app applies it.
 */
import type { SamplingOptions } from '../shared/sampling';
import type { Mode } from '../steering/mode';
import type { Dtype } from '../shared/dtype';

export const PRESET_VERSION = 1;
export const DTYPE_CHOICES: readonly (Dtype | 'auto')[] = ['auto', 'q4', 'q4f16', 'fp16', 'fp32'];

export interface PresetTrait {
  id: string;
  /** -1..1, in units of the layer's typical residual norm. */
  strength: number;
  mode: Mode;
  /** Residual layer to steer; null = the model's default cut layer. */
  layer: number | null;
  enabled: boolean;
}

/** A user trait and its directions (decoded from int8: close to, not equal to, the original). */
export interface PresetCustomTrait {
  id: string;
  label: string;
  hidden: number;
  layers: Record<number, Float32Array>;
}

export interface Preset {
  model: string;
  dtype: Dtype | 'auto';
  /** Layers cut for steering; empty = the model's default. */
  cutLayers: number[];
  traits: PresetTrait[];
  custom: PresetCustomTrait[];
  systemPrompt: string;
  sampling: SamplingOptions;
  maxNewTokens: number;
}

/** Limits a decoded preset must respect (also what the UI enforces). */
export const LIMITS = {
  linkChars: 16 * 1024,
  modelChars: 512,
  systemChars: 4000,
  labelChars: 100,
  traits: 32,
  custom: 8,
  layer: 255,
  cutLayers: 16,
  hidden: 8192,
  maxNewTokens: 4096,
} as const;
