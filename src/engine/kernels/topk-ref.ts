/**
 * CPU twin of shaders/topk.wgsl, step for step in f32: scores (seen tokens: x * fround(1/p)
 * when x > 0, else x * fround(p), each rounded once), the `pick` = min(k + 1, vocab) largest
 * scores (ties: smaller index), and the output words in the kernel's order.
 */
import { SAMPLE_NONE } from './sample-common';
import { topkOutputWords } from './topk-pass';

const f = Math.fround;

export interface TopkOutput {
  /** The row held a NaN or ±Infinity (the kernel's count word is SAMPLE_NONE); nothing else is meaningful. */
  nonFinite: boolean;
  /** Candidates written (min(k, vocab)). */
  count: number;
  /** The pick-th largest score: no token outside the candidates scores above it (-inf: none outside). */
  bound: number;
  ids: Uint32Array; // [count]
  raw: Float32Array; // [count] logits before the penalty
}

/** Decode the kernel's output words (a view of at least topkOutputWords(count) u32). */
export function parseTopk(words: Uint32Array): TopkOutput {
  if (words[0] === SAMPLE_NONE) return { nonFinite: true, count: 0, bound: NaN, ids: new Uint32Array(0), raw: new Float32Array(0) };
  const count = words[0];
  const floats = new Float32Array(words.buffer, words.byteOffset, topkOutputWords(count));
  const ids = new Uint32Array(count);
  const raw = new Float32Array(count);
  for (let c = 0; c < count; c++) {
    ids[c] = words[2 + 2 * c];
    raw[c] = floats[3 + 2 * c];
  }
  return { nonFinite: false, count, bound: floats[1], ids, raw };
}

function key(x: number): number {
  return x === 0 ? 0 : x; // -0 and +0 tie, as in the kernel
}

export function topkRef(
  logits: ArrayLike<number>, // [rows, vocab] (f32 values)
  vocab: number,
  opts: { k: number; penalty: number; seen: ReadonlySet<number>; row?: number },
): TopkOutput {
  const base = (opts.row ?? 0) * vocab;
  for (let i = 0; i < vocab; i++) {
    if (!Number.isFinite(logits[base + i])) return { nonFinite: true, count: 0, bound: NaN, ids: new Uint32Array(0), raw: new Float32Array(0) };
  }
  const p = f(opts.penalty);
  const inv = f(1 / opts.penalty);
  const use = opts.penalty !== 1;
  const score = new Float64Array(vocab);
  for (let i = 0; i < vocab; i++) {
    const x = f(logits[base + i]);
    score[i] = use && opts.seen.has(i) ? f(x > 0 ? x * inv : x * p) : x;
  }
  const pick = Math.min(opts.k + 1, vocab);
  const emit = Math.min(opts.k, vocab);
  const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => key(score[b]) - key(score[a]) || a - b);
  const threshold = key(score[order[pick - 1]]);
  // Kernel order: above the threshold in index order, then ties in index order.
  const chosen = order.slice(0, pick);
  const above = chosen.filter((i) => key(score[i]) > threshold).sort((a, b) => a - b);
  const ties = chosen.filter((i) => key(score[i]) === threshold).sort((a, b) => a - b);
  const list = [...above, ...ties].slice(0, emit);
  return {
    nonFinite: false,
    count: emit,
    bound: pick === vocab ? -Infinity : threshold,
    ids: Uint32Array.from(list),
    raw: Float32Array.from(list, (i) => logits[base + i]),
  };
}
