/**
 * Sampling options as the user sets them (and a share link carries them), with validation.
 * The sampler that applies them lives in the engine (src/engine/runtime/sampler.ts).
 */

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  topK: number; // 0 = off
  topP: number; // 1 = off
  repetitionPenalty: number; // 1 = off
  seed: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

/** A plain-language problem with the options, or null when they are valid. */
export function validateSampling(s: SamplingOptions): string | null {
  if (!(s.temperature >= 0 && s.temperature <= 10)) return 'temperature must be between 0 and 10';
  if (!(Number.isInteger(s.topK) && s.topK >= 0)) return 'top-k must be a whole number >= 0';
  if (!(s.topP > 0 && s.topP <= 1)) return 'top-p must be in (0, 1]';
  if (!(s.repetitionPenalty >= 1 && s.repetitionPenalty <= 10)) return 'repetition penalty must be between 1 and 10';
  if (!Number.isFinite(s.seed)) return 'seed must be a number';
  return null;
}
