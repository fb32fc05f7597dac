/**
 * Types of trait extraction on the user's GPU (request, progress, result). They cross the
 * worker boundary by structured clone (Float32Array vectors included).
 */
import type { QuestionSet, TraitDataset } from '../traits/dataset';
import type { ExtractedTrait, ExtractionMethod } from '../traits/extracted';
import type { PositionMode } from '../traits/prompts';

export interface ExtractRequest {
  /** Trait datasets (validated again here) or ids of built-in traits (fetched from `traitsBaseUrl`). */
  traits: (TraitDataset | string)[];
  /** Question set; default: the built-in one (`${traitsBaseUrl}questions.json`). */
  questions?: QuestionSet;
  /** Default 'mean-diff'. */
  method?: ExtractionMethod;
  /** Pooled token positions (see src/traits/prompts.ts); default 'last'. */
  positions?: PositionMode;
  /** positions 'response': tokens the model writes per prompt (unsteered, greedy); default 16, at most 64. */
  responseTokens?: number;
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

export interface ExtractResult {
  traits: ExtractedTrait[];
  elapsedMs: number;
}

export interface ExtractProgress {
  traitId: string;
  /** Index of the trait in the request, and how many there are. */
  trait: number;
  traits: number;
  /** 'generation': writing the replies ('response' positions) before their residuals are read. */
  phase: 'prepare' | 'generation' | 'extraction' | 'evaluation' | 'cached' | 'done';
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
