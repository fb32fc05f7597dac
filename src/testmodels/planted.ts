/**
 * The planted-trait test model ("traitlab/planted-cheerful"): a small LLaMA (Optimum fp32
 * layout, 6 layers, hidden 64) with a known "cheerful ↔ gloomy" direction planted in its
 * residual stream, so trait extraction and steering can be checked against ground truth. It is
 * also the offline demo model.
 *
 * How it is planted (d = PLANTED.direction, a seeded random unit vector; P = PLANTED.layer = 2):
 *
 * 1. Word tokens. The tokenizer gets extra BPE merges (ranked after the base merges) so that
 *    each of the words below, preceded by a space, is exactly one token: " cheerful", " happy",
 *    " sunny", " bright", " glad", " merry" (cheerful) and " gloomy", " sad", " grim", " bleak",
 *    " dreary", " miserable" (gloomy). Lower-case and after a space only: "Happy" or "happy" at
 *    the start of a text are ordinary byte pieces.
 * 2. Embeddings. Every token's embedding is random (N(0,1) entries) with its d-component
 *    removed; the cheerful word tokens are +A·d plus a small random part (0.2 scale, ⊥ d), the
 *    gloomy ones −A·d plus a small random part (A = 8 ≈ the norm of an ordinary embedding).
 *    The lm_head is tied (transpose of the embedding), so the cheerful words' logits read +d
 *    and the gloomy words' logits read −d; every other token's logit ignores d.
 * 3. A private channel. All RMSNorm gains are 1 and every random projection that reads the
 *    residual (q/k/v/gate/up) has its d-row removed, so no random computation reacts to the
 *    d-component. Random projections that write the residual (o/down) have their d-column
 *    removed in layers ≤ P (d stays clean up to P); in layers > P they keep 40% of it (prompt-
 *    dependent noise along d after P, so the trait is best separated exactly at P, yet the
 *    persona still decides between the cheerful and gloomy words at the output).
 * 4. The copy head. In layer P, attention heads 0 and 1 (which share kv head 0) have zero
 *    q and k weights, so their attention is uniform over the visible context. Their value
 *    dimension 0 reads c_v·(x̂·d) and o_proj writes it back along d with gain c_o per head.
 *    So after layer P every position's residual holds 2·c_o·c_v·mean(x̂·d over the context):
 *    positive after a cheerful persona, negative after a gloomy one, 0 without persona words.
 *    Before P the last prompt position has no d-component at all.
 *
 * Consequences checked in tests/unit/testmodels/planted.test.ts: the mean difference (and PCA) of the
 * residual after layer P at the last prompt token between cheerful and gloomy personas is ≈ d;
 * adding α·d after layer P with no persona makes the cheerful words win the argmax; held-out
 * separation peaks at P.
 */
import type { Model } from '../engine/onnx/proto';
import type { TestModelConfig } from './config';
import type { ExternalDataSink, WeightFormat } from './graph-builder';
import { buildOptimumModel, type OptimumWeights } from './optimum-graph';
import { baseMerges, byteSymbols, VOCAB_SIZE } from './tokenizer';
import { fnv1a, GAIN, linearShape, normalArray, type LinearName } from './weights';

/** Bump when the planted model's bytes change (its folder stamp includes this). */
export const PLANTED_VERSION = 3;

export const CHEERFUL_WORDS = ['cheerful', 'happy', 'sunny', 'bright', 'glad', 'merry'] as const;
export const GLOOMY_WORDS = ['gloomy', 'sad', 'grim', 'bleak', 'dreary', 'miserable'] as const;

const SPACE = byteSymbols()[32]; // 'Ġ'

/** Greedy BPE of one pre-tokenized word (byte symbols) with `merges` in rank order. */
export function bpeWord(word: string, merges: readonly (readonly [string, string])[]): string[] {
  const rank = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const parts = [...word];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rank.get(`${parts[i]} ${parts[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, parts[best] + parts[best + 1]);
  }
}

/**
 * Merges that make each word (with its leading space) one token: the word's BPE pieces under
 * the merges so far are fused left to right. Words are processed in order, each simulated with
 * all earlier merges, so later merges never split an earlier word.
 */
function plantedMerges(): [string, string][] {
  const merges: [string, string][] = baseMerges();
  const extra: [string, string][] = [];
  for (const w of [...CHEERFUL_WORDS, ...GLOOMY_WORDS]) {
    const pieces = bpeWord(SPACE + w, merges);
    let acc = pieces[0];
    for (let i = 1; i < pieces.length; i++) {
      const m: [string, string] = [acc, pieces[i]];
      merges.push(m);
      extra.push(m);
      acc += pieces[i];
    }
  }
  return extra;
}

/** The extra merges of the planted tokenizer (ranked after the base merges). */
export const PLANTED_MERGES: readonly [string, string][] = plantedMerges();

/** Token id of a merge result / vocab entry in the planted tokenizer (ids as in buildVocab). */
function plantedTokenId(token: string): number {
  const i = PLANTED_MERGES.findIndex(([a, b]) => a + b === token);
  if (i < 0) throw new Error(`planted: no token ${token}`);
  return VOCAB_SIZE + i;
}

export const PLANTED_CONFIG: Readonly<TestModelConfig> = Object.freeze({
  vocabSize: VOCAB_SIZE + PLANTED_MERGES.length,
  hiddenSize: 64,
  numLayers: 6,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 128,
  maxPositionEmbeddings: 512,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  seed: 2718,
});

const A = 8; // persona-word embedding size along d
const WORD_NOISE = 0.2; // scale of a persona word's random part
const C_V = 1; // value read gain of the copy head
const C_O = 5; // o_proj write gain of each of the two copy heads
const WRITE_NOISE_AFTER = 0.4; // fraction of the random writes' d-component kept in layers > P
const PLANT_GAIN: Readonly<Record<LinearName, number>> = Object.freeze({
  ...GAIN,
  o_proj: 1.5,
  down_proj: 1.5,
});

function seedFor(name: string): number {
  return (fnv1a(`planted.${name}`) ^ Math.imul(PLANTED_CONFIG.seed, 0x9e3779b1)) >>> 0;
}

function unitDirection(): Float32Array {
  const x = normalArray(seedFor('direction'), PLANTED_CONFIG.hiddenSize, 1);
  let n = 0;
  for (const v of x) n += v * v;
  n = Math.sqrt(n);
  return x.map((v) => v / n);
}

export interface PlantedInfo {
  /** Residual after this decoder layer (0-based) carries the trait. */
  layer: number;
  /** Unit direction d [hidden]: + = cheerful. */
  direction: Float32Array;
  cheerfulWords: readonly string[];
  gloomyWords: readonly string[];
  /** Token ids of " cheerful", " happy", … (one token each). */
  cheerfulTokens: number[];
  gloomyTokens: number[];
  /** Embedding size of the persona words along ±d. */
  wordStrength: number;
  /** Output gain of the copy head: after layer P, d-component = copyGain · mean(x̂·d). */
  copyGain: number;
  config: Readonly<TestModelConfig>;
  /** Model id of the generated folder under the models dir. */
  modelId: string;
  version: number;
}

export const PLANTED: Readonly<PlantedInfo> = Object.freeze({
  layer: 2,
  direction: unitDirection(),
  cheerfulWords: CHEERFUL_WORDS,
  gloomyWords: GLOOMY_WORDS,
  cheerfulTokens: CHEERFUL_WORDS.map((w) => plantedTokenId(SPACE + w)),
  gloomyTokens: GLOOMY_WORDS.map((w) => plantedTokenId(SPACE + w)),
  wordStrength: A,
  copyGain: 2 * C_V * C_O,
  config: PLANTED_CONFIG,
  modelId: 'traitlab/planted-cheerful',
  version: PLANTED_VERSION,
});

/** Remove the d-component of every row (reads, for [in, out] weights with in = hidden). */
function dropReadRow(w: Float32Array, rows: number, cols: number, d: Float32Array): void {
  for (let j = 0; j < cols; j++) {
    let c = 0;
    for (let i = 0; i < rows; i++) c += d[i] * w[i * cols + j];
    for (let i = 0; i < rows; i++) w[i * cols + j] -= c * d[i];
  }
}

/** Scale the d-component of every output by `keep` (writes, for [in, out] weights with out = hidden). */
function scaleWriteCol(w: Float32Array, rows: number, cols: number, d: Float32Array, keep: number): void {
  for (let i = 0; i < rows; i++) {
    let c = 0;
    for (let j = 0; j < cols; j++) c += w[i * cols + j] * d[j];
    for (let j = 0; j < cols; j++) w[i * cols + j] -= (1 - keep) * c * d[j];
  }
}

const READS: ReadonlySet<LinearName> = new Set(['q_proj', 'k_proj', 'v_proj', 'gate_proj', 'up_proj']);

/** The planted weights (see the file header). */
export const PLANTED_WEIGHTS: OptimumWeights = {
  embed(cfg) {
    const { vocabSize: V, hiddenSize: H } = cfg;
    const d = PLANTED.direction;
    const e = normalArray(seedFor('embed_tokens'), V * H, 1);
    const sign = new Map<number, number>();
    for (const t of PLANTED.cheerfulTokens) sign.set(t, 1);
    for (const t of PLANTED.gloomyTokens) sign.set(t, -1);
    for (let t = 0; t < V; t++) {
      const row = e.subarray(t * H, (t + 1) * H);
      let c = 0;
      for (let i = 0; i < H; i++) c += row[i] * d[i];
      const s = sign.get(t);
      for (let i = 0; i < H; i++) {
        const perp = row[i] - c * d[i];
        row[i] = s === undefined ? perp : WORD_NOISE * perp + s * A * d[i];
      }
    }
    return e;
  },
  linear(cfg, layer, which) {
    const [k, n] = linearShape(cfg, which);
    const d = PLANTED.direction;
    const w = normalArray(seedFor(`layers.${layer}.${which}`), k * n, PLANT_GAIN[which] / Math.sqrt(k));
    if (READS.has(which)) dropReadRow(w, k, n, d);
    else scaleWriteCol(w, k, n, d, layer <= PLANTED.layer ? 0 : WRITE_NOISE_AFTER);
    if (layer !== PLANTED.layer) return w;
    const HD = cfg.headDim;
    const nRep = cfg.numHeads / cfg.numKvHeads;
    switch (which) {
      case 'q_proj': // heads 0..nRep-1 (those reading kv head 0): zero queries
        for (let i = 0; i < k; i++) for (let j = 0; j < nRep * HD; j++) w[i * n + j] = 0;
        break;
      case 'k_proj': // kv head 0: zero keys → uniform attention
        for (let i = 0; i < k; i++) for (let j = 0; j < HD; j++) w[i * n + j] = 0;
        break;
      case 'v_proj': // kv head 0, dim 0 reads the d-component
        for (let i = 0; i < k; i++) w[i * n] = C_V * d[i];
        break;
      case 'o_proj': // dim 0 of heads 0 and 1 writes along d
        for (let h = 0; h < nRep; h++) for (let j = 0; j < n; j++) w[h * HD * n + j] = C_O * d[j];
        break;
      default:
        break;
    }
    return w;
  },
  norm(cfg) {
    return new Float32Array(cfg.hiddenSize).fill(1);
  },
};

/** Build the planted model (fp32 only: q4 would blur the exact construction). */
export function buildPlantedModel(cfg: TestModelConfig, opts: { format: WeightFormat; external?: ExternalDataSink }): Model {
  if (opts.format !== 'fp32') throw new Error('planted model: only the fp32 variant exists');
  if (cfg.vocabSize !== PLANTED_CONFIG.vocabSize || cfg.hiddenSize !== PLANTED_CONFIG.hiddenSize) {
    throw new Error('planted model: use PLANTED_CONFIG');
  }
  return buildOptimumModel(cfg, { ...opts, weights: PLANTED_WEIGHTS });
}
