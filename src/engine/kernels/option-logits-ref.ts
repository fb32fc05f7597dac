/**
 * CPU twin of shaders/option-logits.wgsl, in float64: [m, lse, x[id_0] .. x[id_{k-1}]] of row
 * `row` (m = max, lse = log-sum-exp over the whole row), and the last step both paths share:
 * option probabilities p_k = exp(x[id_k] - lse) of the full-vocabulary softmax.
 */
export function optionLogitsRef(logits: ArrayLike<number>, vocab: number, ids: readonly number[], row = 0): number[] {
  const base = row * vocab;
  if (logits.length < base + vocab) throw new RangeError(`logits hold ${logits.length} values, row ${row} needs ${base + vocab}`);
  let m = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[base + i] > m) m = logits[base + i];
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[base + i] - m);
  return [m, m + Math.log(sum), ...ids.map((id) => logits[base + id])];
}

/** p_k = exp(x_k - lse) from the words [m, lse, x_0 .. x_{k-1}] (k = words.length - 2). */
export function optionProbs(words: ArrayLike<number>): number[] {
  const lse = words[1];
  const out: number[] = [];
  for (let k = 2; k < words.length; k++) out.push(Math.exp(words[k] - lse));
  return out;
}
