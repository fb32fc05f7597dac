/**
 * Next-token choice from one row of logits: greedy, or seeded sampling with temperature,
 * top-k, top-p and a repetition penalty (HF convention: positive logits divided by the
 * penalty, negative ones multiplied).
 */
import { mulberry32 } from './rng';

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature: number;
  topK: number; // 0 = off
  topP: number; // 1 = off
  repetitionPenalty: number; // 1 = off
  seed: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export function validateSampling(s: SamplingOptions): string | null {
  if (!(s.temperature >= 0 && s.temperature <= 10)) return 'temperature must be between 0 and 10';
  if (!(Number.isInteger(s.topK) && s.topK >= 0)) return 'top-k must be a whole number >= 0';
  if (!(s.topP > 0 && s.topP <= 1)) return 'top-p must be in (0, 1]';
  if (!(s.repetitionPenalty >= 1 && s.repetitionPenalty <= 10)) return 'repetition penalty must be between 1 and 10';
  if (!Number.isFinite(s.seed)) return 'seed must be a number';
  return null;
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export class Sampler {
  private readonly rand: () => number;

  constructor(private readonly opts: SamplingOptions) {
    this.rand = mulberry32(opts.seed);
  }

  /** `logits` // [vocab] (not modified); `history` = tokens seen so far (prompt + generated). */
  next(logits: Float32Array, history: readonly number[]): number {
    const { temperature, topK, topP, repetitionPenalty } = this.opts;
    let scores = logits;
    if (repetitionPenalty !== 1 && history.length > 0) {
      scores = Float32Array.from(logits);
      for (const t of new Set(history)) {
        if (t < 0 || t >= scores.length) continue;
        scores[t] = scores[t] > 0 ? scores[t] / repetitionPenalty : scores[t] * repetitionPenalty;
      }
    }
    if (temperature === 0) return argmax(scores);

    // Candidates sorted by score, cut by top-k, softmax at temperature, cut by top-p.
    let idx = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
    if (topK > 0 && topK < idx.length) idx = idx.slice(0, topK);
    const max = scores[idx[0]];
    const probs = idx.map((i) => Math.exp((scores[i] - max) / temperature));
    const total = probs.reduce((a, b) => a + b, 0);
    let keep = probs.length;
    if (topP < 1) {
      let acc = 0;
      for (let i = 0; i < probs.length; i++) {
        acc += probs[i] / total;
        if (acc >= topP) {
          keep = i + 1;
          break;
        }
      }
    }
    const kept = probs.slice(0, keep);
    const keptTotal = kept.reduce((a, b) => a + b, 0);
    let r = this.rand() * keptTotal;
    for (let i = 0; i < kept.length; i++) {
      r -= kept[i];
      if (r <= 0) return idx[i];
    }
    return idx[kept.length - 1];
  }
}
