/**
 * CPU twin of shaders/argmax.wgsl: the index of the first largest value of row `row`
 * (the same rule as the CPU sampler's argmax: a later equal value does not win).
 */
export function argmaxRef(logits: ArrayLike<number>, vocab: number, row = 0): number {
  const base = row * vocab;
  if (logits.length < base + vocab) throw new RangeError(`logits hold ${logits.length} values, row ${row} needs ${base + vocab}`);
  let best = 0;
  for (let i = 1; i < vocab; i++) if (logits[base + i] > logits[base + best]) best = i;
  return best;
}
