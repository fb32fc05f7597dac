/**
 * A preset: everything a share link (or preset file) carries. Plain data, no React; the app
 * applies it. Vectors of the traits in use travel as exact float32, so the recipient steers
 * with bit-identical directions; custom traits not in use travel as int8 (their slider only).
 */
import type { SamplingOptions } from '../shared/sampling';
import type { Mode } from '../steering/mode';
import type { Dtype } from '../shared/dtype';

export const PRESET_VERSION = 2;
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

/** How a vector's floats travel: exact float32, or int8 with one scale per layer. */
export type VectorPrecision = 'f32' | 'i8';

/** A direction the link carries: a built-in trait's (extracted by the sender) or a custom trait's. */
export interface PresetVector {
  id: string;
  /** Set for a custom trait (its slider label); null for a built-in trait. */
  customLabel: string | null;
  hidden: number;
  precision: VectorPrecision;
  /** layer → direction // [hidden] */
  layers: Record<number, Float32Array>;
  /** layer → readout calibration (score = (projection − center) / scale). */
  calibration: Record<number, { center: number; scale: number }>;
  /**
   * layer → the exact direction the trait steers with there when the sender steered it
   * orthogonalised against the other traits' vectors (float32) // [hidden]; absent otherwise.
   */
  steer?: Record<number, Float32Array>;
}

export interface Preset {
  model: string;
  dtype: Dtype | 'auto';
  /** Layers cut for steering; empty = the model's default. */
  cutLayers: number[];
  traits: PresetTrait[];
  vectors: PresetVector[];
  systemPrompt: string;
  sampling: SamplingOptions;
  maxNewTokens: number;
  /** Traits steered orthogonalised against each other (the exact directions travel in `vectors[].steer`). */
  orthogonal?: boolean;
}

/** Limits a decoded preset must respect (also what the UI enforces). */
export const LIMITS = {
  /** A link made by this app is at most this long (the whole URL); longer → preset file. */
  linkChars: 32 * 1024,
  /** Preset files: characters of the file. */
  fileChars: 24 * 1024 * 1024,
  /** Decompressed envelope (JSON + vector bytes). */
  inflatedBytes: 17 * 1024 * 1024,
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
