/**
 * Next-token choice: greedy, or seeded sampling with temperature, top-k, top-p and a
 * repetition penalty (HF convention: positive logits divided by the penalty, negative ones
 * multiplied). Two entries that choose exactly the same token for the same seed:
 *  - next(): from a whole row of logits on the CPU;
 *  - nextFromCandidates(): from the GPU's top-k candidates (topk.wgsl), which it certifies;
 *    it returns null when the candidates cannot prove the CPU's choice, and the caller then
 *    reads the whole row and calls next().
 */
import { mulberry32 } from '../../shared/rng';
import type { SamplingOptions } from '../../shared/sampling';

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** What the GPU selection hands back (see topk-ref.ts parseTopk). */
export interface Candidates {
  ids: Uint32Array; // [count] token ids
  raw: Float32Array; // [count] their logits before the penalty
  /** No token outside the candidates has a GPU score above this (-Infinity: there is none outside). */
  bound: number;
}

/**
 * The GPU's penalised scores may differ from the CPU's in the last few ulp (f32 multiply by
 * 1/p there, f64 divide here). A token outside the candidates can then score at most this much
 * (relative) above the bound.
 */
export const PENALTY_SLACK = 4e-6;

/** How many candidates greedy decoding with a repetition penalty asks the GPU for. */
export const GREEDY_CANDIDATES = 4;

/** How the GPU should serve a step with these options. */
export type GpuPlan = { kind: 'argmax' } | { kind: 'topk'; k: number } | { kind: 'full' };

/** argmax when plain greedy, top-k candidates when they suffice (k <= maxK), else the full row. */
export function gpuPlan(o: SamplingOptions, maxK: number): GpuPlan {
  if (o.temperature === 0) return o.repetitionPenalty === 1 ? { kind: 'argmax' } : { kind: 'topk', k: Math.min(GREEDY_CANDIDATES, maxK) };
  if (o.topK >= 1 && o.topK <= maxK) return { kind: 'topk', k: o.topK };
  return { kind: 'full' };
}

export class Sampler {
  private readonly rand: () => number;

  constructor(private readonly opts: SamplingOptions) {
    this.rand = mulberry32(opts.seed);
  }

  get options(): SamplingOptions {
    return this.opts;
  }

  /** `logits` // [vocab] (not modified); `history` = tokens seen so far (prompt + generated). */
  next(logits: Float32Array, history: readonly number[]): number {
    const { temperature, topK, repetitionPenalty } = this.opts;
    let scores = logits;
    if (repetitionPenalty !== 1 && history.length > 0) {
      scores = Float32Array.from(logits);
      for (const t of new Set(history)) {
        if (t < 0 || t >= scores.length) continue;
        scores[t] = scores[t] > 0 ? scores[t] / repetitionPenalty : scores[t] * repetitionPenalty;
      }
    }
    if (temperature === 0) return argmax(scores);

    // Candidates sorted by score, cut by top-k, then drawn.
    let idx = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
    if (topK > 0 && topK < idx.length) idx = idx.slice(0, topK);
    return this.draw(idx, scores);
  }

  /**
   * The same choice as next() from the GPU's candidates; `seen` = the history as a set.
   * Returns null when a token outside the candidates might have changed the result.
   */
  nextFromCandidates(c: Candidates, seen: ReadonlySet<number>): number | null {
    const { temperature, topK, repetitionPenalty } = this.opts;
    const n = c.ids.length;
    if (n === 0) return null;
    const penalise = repetitionPenalty !== 1 && seen.size > 0;
    const scores = Float32Array.from(c.raw); // [n], position p = candidate p
    if (penalise) {
      for (let p = 0; p < n; p++) {
        if (!seen.has(c.ids[p])) continue;
        scores[p] = scores[p] > 0 ? scores[p] / repetitionPenalty : scores[p] * repetitionPenalty;
      }
    }
    // Score descending, token id ascending: the order of next()'s stable sort over all ids.
    const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || c.ids[a] - c.ids[b]);
    const need = temperature === 0 ? 1 : topK;
    if (need > n && c.bound !== -Infinity) return null;
    if (c.bound !== -Infinity) {
      // The lowest score we rely on must beat every token outside the candidates.
      const lowest = scores[order[Math.min(need, n) - 1]];
      const limit = penalise ? c.bound + PENALTY_SLACK * Math.abs(c.bound) : c.bound;
      const safe = penalise ? lowest > limit : lowest >= limit;
      if (!safe) return null;
    }
    if (temperature === 0) return c.ids[order[0]];
    const idx = topK > 0 && topK < order.length ? order.slice(0, topK) : order;
    return c.ids[this.draw(idx, scores)];
  }

  /** Softmax at the temperature over `idx` (sorted, best first), cut by top-p, one seeded draw. */
  private draw(idx: number[], scores: Float32Array): number {
    const { temperature, topP } = this.opts;
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
