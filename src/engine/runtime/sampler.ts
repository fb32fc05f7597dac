/**
 * Next-token choice from one row of logits: greedy, or seeded sampling with temperature,
 * top-k, top-p and a repetition penalty (HF convention: positive logits divided by the
 * penalty, negative ones multiplied).
 */
import { mulberry32 } from '../../shared/rng';
import type { SamplingOptions } from '../../shared/sampling';

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
