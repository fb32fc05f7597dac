/**
 * Deterministic random weights. Every tensor is drawn from its own seeded stream
 * (seed ⊕ hash(name)), so tensors can be produced one at a time, in any order, without keeping
 * the whole model in memory. Matrices are returned in MatMul "B" layout [in, out].
 */
import type { TestModelConfig } from './config';
import { mulberry32 } from '../shared/rng';

/** FNV-1a 32-bit hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `n` samples of N(mean, std²) (Box–Muller on mulberry32). */
export function normalArray(seed: number, n: number, std: number, mean = 0): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - rand();
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

export type LinearName = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';

/**
 * Std = gain / sqrt(fan_in) per projection. Large o/down gains make every layer's write dominate
 * the (tied) embedding, so the residual norm grows and greedy decoding does not just repeat the
 * current token; moderate q/k/gate gains keep the model smooth enough that q4 tracks fp32.
 */
export const GAIN: Readonly<Record<LinearName, number>> = Object.freeze({
  q_proj: 1.2,
  k_proj: 1.2,
  v_proj: 1.0,
  o_proj: 6.0,
  gate_proj: 1.0,
  up_proj: 1.0,
  down_proj: 6.0,
});

/** [in, out] of each projection. */
export function linearShape(cfg: TestModelConfig, which: LinearName): [number, number] {
  const h = cfg.hiddenSize;
  switch (which) {
    case 'q_proj':
      return [h, cfg.numHeads * cfg.headDim];
    case 'k_proj':
    case 'v_proj':
      return [h, cfg.numKvHeads * cfg.headDim];
    case 'o_proj':
      return [cfg.numHeads * cfg.headDim, h];
    case 'gate_proj':
    case 'up_proj':
      return [h, cfg.intermediateSize];
    case 'down_proj':
      return [cfg.intermediateSize, h];
  }
}

function seedFor(cfg: TestModelConfig, name: string): number {
  return (fnv1a(name) ^ Math.imul(cfg.seed, 0x9e3779b1)) >>> 0;
}

/** Projection weight of a layer, [in, out] (i.e. the transpose of the PyTorch Linear weight). */
export function linearWeight(cfg: TestModelConfig, layer: number, which: LinearName): Float32Array {
  const [fanIn, fanOut] = linearShape(cfg, which);
  return normalArray(seedFor(cfg, `layers.${layer}.${which}`), fanIn * fanOut, GAIN[which] / Math.sqrt(fanIn));
}

/** RMSNorm gamma: 1 + small noise. `which` = input_layernorm | post_attention_layernorm | norm. */
export function normWeight(cfg: TestModelConfig, layer: number, which: string): Float32Array {
  return normalArray(seedFor(cfg, `layers.${layer}.${which}`), cfg.hiddenSize, 0.1, 1);
}

/** Token embedding [vocab, hidden], unit-scale entries. */
export function embedWeight(cfg: TestModelConfig): Float32Array {
  return normalArray(seedFor(cfg, 'embed_tokens'), cfg.vocabSize * cfg.hiddenSize, 1);
}

/** Transpose of a row-major [rows, cols] matrix. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[base + c];
  }
  return out;
}

/** RoPE inverse frequencies θ^(-2i/d), i < d/2. */
export function invFreq(cfg: TestModelConfig): Float32Array {
  const half = cfg.headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / Math.pow(cfg.ropeTheta, (2 * i) / cfg.headDim);
  return out;
}
