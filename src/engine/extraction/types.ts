/**
 * Types of trait extraction on the user's GPU (request, progress, result). They cross the
 * worker boundary by structured clone (Float32Array vectors included).
 */
import type { QuestionSet, TraitDataset } from '../../traits/dataset';
import type { PositionMode } from '../../traits/prompts';

/** 'mean-diff': mean(high) − mean(low) (raw size). 'pca': first principal component of the paired differences (unit length). */
export type ExtractionMethod = 'mean-diff' | 'pca';

export interface ExtractRequest {
  /** Trait datasets (validated again here) or ids of built-in traits (fetched from `traitsBaseUrl`). */
  traits: (TraitDataset | string)[];
  /** Question set; default: the built-in one (`${traitsBaseUrl}questions.json`). */
  questions?: QuestionSet;
  /** Default 'mean-diff'. */
  method?: ExtractionMethod;
  /** Pooled token positions (see src/traits/prompts.ts); default 'last'. */
  positions?: PositionMode;
  /** Use only the first N persona pairs / questions of each split (quick runs, tests). */
  maxPairs?: number;
  maxQuestions?: { extraction?: number; evaluation?: number };
  /** PCA: power-iteration steps (default 100) and centering (default false = uncentered, as extract-math). */
  pcaIterations?: number;
  pcaCenter?: boolean;
  /** Read and write the IndexedDB vector cache (default true). */
  cache?: boolean;
  /** Where built-in trait files live (default `${import.meta.env.BASE_URL}traits/`). */
  traitsBaseUrl?: string;
}

export interface LayerSeparation {
  layer: number;
  /** Cohen's d of held-out projections (high vs low) on this layer's unit vector. */
  effectSize: number;
  /** Midpoint-threshold accuracy on the held-out prompts. */
  accuracy: number;
  meanHigh: number;
  meanLow: number;
}

export interface ExtractedTrait {
  traitId: string;
  method: ExtractionMethod;
  positions: PositionMode;
  /** Model id, revision and dtype the vectors belong to. */
  model: string;
  revision: string;
  dtype: string;
  hidden: number;
  /** Layer L = residual after 0-based decoder layer L; every layer of the model. */
  layers: Record<number, Float32Array>;
  bestLayer: number;
  separation: LayerSeparation[];
  /** Projection p on the best layer's unit vector reads as score (p − center) / scale: held-out high mean → +1, low mean → −1. */
  calibration: { layer: number; center: number; scale: number };
  datasetVersion: string;
  prompts: { extraction: number; evaluation: number };
  elapsedMs: number;
  /** True when this result came from the IndexedDB cache. */
  fromCache: boolean;
}

export interface ExtractResult {
  traits: ExtractedTrait[];
  elapsedMs: number;
}

export interface ExtractProgress {
  traitId: string;
  /** Index of the trait in the request, and how many there are. */
  trait: number;
  traits: number;
  phase: 'prepare' | 'extraction' | 'evaluation' | 'cached' | 'done';
  /** Prompts run so far in this phase, of `total`. */
  done: number;
  total: number;
  message: string;
}

/** Thrown (name 'AbortError') when extraction was stopped; the engine stays usable. */
export class ExtractionCancelled extends Error {
  override name = 'AbortError';
  constructor() {
    super('Trait extraction was stopped.');
  }
}
