/**
 * What trait extraction produces for one trait on one model: a direction per layer, per-layer
 * separation, the chosen layer and its calibration. Plain data: it is cached in IndexedDB,
 * crosses the worker boundary by structured clone and is what the UI steers with.
 */
import type { PositionMode } from './prompts';

/** 'mean-diff': mean(high) − mean(low) (raw size). 'pca': first principal component of the paired differences (unit length). */
export type ExtractionMethod = 'mean-diff' | 'pca';

export interface LayerSeparation {
  layer: number;
  /** Cohen's d of held-out projections (high vs low) on this layer's unit vector. */
  effectSize: number;
  /** Midpoint-threshold accuracy on the held-out prompts. */
  accuracy: number;
  meanHigh: number;
  meanLow: number;
}

/** One contrastive prompt's replies, generated unsteered for 'response' extraction (token ids and text). */
export interface ExtractionResponse {
  split: 'extraction' | 'evaluation';
  pair: number;
  question: number;
  high: number[];
  low: number[];
  highText: string;
  lowText: string;
}

export interface ExtractedTrait {
  traitId: string;
  method: ExtractionMethod;
  /** Which token positions were averaged: prompt tokens ('last', 'reply-prompt') or the model's own reply ('response'). */
  positions: PositionMode;
  /** 'response' only: the reply budget per prompt and the replies themselves. */
  responseTokens?: number;
  responses?: ExtractionResponse[];
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
