import { SAMPLE_NONE } from './sample-common';

/**
 * CPU twin of shaders/argmax.wgsl: the index of the first largest value of row `row`
 * (the same rule as the CPU sampler's argmax: a later equal value does not win), or
 * SAMPLE_NONE when the row holds a NaN or ±Infinity.
 */
export function argmaxRef(logits: ArrayLike<number>, vocab: number, row = 0): number {
  const base = row * vocab;
  if (logits.length < base + vocab) throw new RangeError(`logits hold ${logits.length} values, row ${row} needs ${base + vocab}`);
  let best = 0;
  for (let i = 0; i < vocab; i++) {
    if (!Number.isFinite(logits[base + i])) return SAMPLE_NONE;
    if (logits[base + i] > logits[base + best]) best = i;
  }
  return best;
}
