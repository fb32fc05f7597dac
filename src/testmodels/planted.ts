/**
 * The planted-trait model ("traitlab/planted-cheerful"): a small LLaMA (Optimum fp32 layout, 6
 * layers, hidden 64) with a known "cheerful ↔ gloomy" direction planted in its residual stream,
 * so trait extraction and steering can be checked against ground truth. It is also the offline
 * demo of the site, so its replies are readable: every token it can emit is a whole English word.
 *
 * How it is built (d = PLANTED.direction and u = PLANTED.wordChannel, seeded random unit vectors,
 * u ⊥ d; P = PLANTED.layer = 2):
 *
 * 1. Word tokens. The byte-level BPE tokenizer gets extra merges (ranked after the base merges)
 *    so that each word of NEUTRAL_WORDS, CHEERFUL_WORDS and GLOOMY_WORDS, preceded by a space, is
 *    exactly one token (" the", " river", " sunny", " bleak", …). Any text still encodes (byte
 *    pieces), but only these word tokens can win the output (5).
 * 2. Embeddings. Every token's embedding is random (N(0,1) entries) with its d- and u-components
 *    removed, plus U·u (the same for every token). The cheerful word tokens are +A·d plus a small
 *    random part (0.2 scale), the gloomy ones −A·d (A = 8 ≈ the norm of an ordinary embedding).
 * 3. Private channels. All RMSNorm gains are 1 and every random projection that reads the
 *    residual (q/k/v/gate/up) has its d- and u-rows removed, so no random computation reacts to
 *    either. Random projections that write the residual (o/down) have their u-column removed in
 *    every layer (the residual's u-component stays exactly U everywhere) and their d-column
 *    removed in layers ≤ P (d stays clean up to P); in layers > P they keep 40% of it (prompt-
 *    dependent noise along d after P, so the trait is best separated exactly at P, yet the
 *    persona still decides between the cheerful and gloomy words at the output).
 * 4. The copy head. In layer P, attention heads 0 and 1 (which share kv head 0) have zero
 *    q and k weights, so their attention is uniform over the visible context. Their value
 *    dimension 0 reads c_v·(x̂·d) and o_proj writes it back along d with gain c_o per head.
 *    So after layer P every position's residual holds 2·c_o·c_v·mean(x̂·d over the context):
 *    positive after a cheerful persona, negative after a gloomy one, 0 without persona words.
 *    Before P the last prompt position has no d-component at all.
 * 5. The output (untied lm_head). A word token's logit is K·(x̂·u) + a random readout of the
 *    rest of x̂ (which word comes next depends on the context); cheerful words add +A_out·(x̂·d),
 *    gloomy words −A_out·(x̂·d). Every other token (byte pieces, word fragments, specials, EOS)
 *    reads −K·(x̂·u). x̂·u = U·√hidden/‖x‖ > 0 always, so greedy decoding always picks a word
 *    (a reply runs to the token limit), and steering along ±d turns the words cheerful or gloomy.
 *
 * Consequences checked in tests/unit/testmodels/planted.test.ts: the mean difference (and PCA) of the
 * residual after layer P at the last prompt token between cheerful and gloomy personas is ≈ d;
 * adding α·d after layer P with no persona makes the cheerful words win the argmax; held-out
 * separation peaks at P; greedy output is words with and without steering.
 */
import type { Model } from '../engine/onnx/proto';
import type { TestModelConfig } from './config';
import type { ExternalDataSink, WeightFormat } from './graph-builder';
import { buildOptimumModel, type OptimumWeights } from './optimum-graph';
import { baseMerges, buildVocab, byteSymbols, SPECIAL_TOKENS, VOCAB_SIZE } from './tokenizer';
import { fnv1a, GAIN, linearShape, normalArray, type LinearName } from './weights';

/** Bump when the planted model's bytes change (its folder stamp includes this). */
export const PLANTED_VERSION = 4;

export const CHEERFUL_WORDS = [
  'cheerful',
  'happy',
  'sunny',
  'bright',
  'glad',
  'merry',
  'joyful',
  'lovely',
  'delighted',
  'smiling',
  'golden',
  'playful',
] as const;
export const GLOOMY_WORDS = ['gloomy', 'sad', 'grim', 'bleak', 'dreary', 'miserable', 'lonely', 'grey', 'tearful', 'weary', 'mournful', 'dismal'] as const;
/** Everyday words without a mood: what the unsteered demo says. */
export const NEUTRAL_WORDS = [
  ...['the', 'a', 'and', 'of', 'to', 'in', 'on', 'at', 'with', 'from', 'by', 'over', 'under', 'near', 'into', 'is', 'was', 'are', 'has', 'had'],
  ...['we', 'you', 'they', 'she', 'he', 'it', 'this', 'that', 'one', 'two', 'three', 'some', 'every', 'all', 'day', 'night', 'morning', 'evening'],
  ...['time', 'way', 'home', 'road', 'river', 'sea', 'hill', 'tree', 'garden', 'house', 'door', 'window', 'room', 'table', 'book', 'letter', 'song'],
  ...['story', 'friend', 'child', 'cat', 'dog', 'bird', 'horse', 'boat', 'train', 'town', 'field', 'stone', 'bread', 'tea', 'water', 'wind', 'cloud'],
  ...['walk', 'talk', 'sing', 'read', 'write', 'find', 'keep', 'make', 'see', 'hear', 'think', 'know', 'come', 'go', 'little', 'old', 'new', 'long'],
  ...['small', 'big', 'quiet', 'green', 'blue', 'red', 'white', 'here', 'there', 'now', 'then', 'again', 'still', 'very', 'soon', 'together', 'slowly'],
] as const;

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

const ALL_WORDS: readonly string[] = [...NEUTRAL_WORDS, ...CHEERFUL_WORDS, ...GLOOMY_WORDS];

/**
 * Merges that make each word (with its leading space) one token: the word's BPE pieces under
 * the merges so far are fused left to right. Words are processed in order, each simulated with
 * all earlier merges, so later merges never split an earlier word (a merge is only chosen when
 * no lower-ranked one applies, and an earlier word always has one until it is whole).
 */
function plantedMerges(): [string, string][] {
  if (new Set(ALL_WORDS).size !== ALL_WORDS.length) throw new Error('planted: a word is listed twice');
  const merges: [string, string][] = baseMerges();
  const tokens = new Set<string>([...SPECIAL_TOKENS, ...byteSymbols(), ...merges.map(([a, b]) => a + b)]);
  const extra: [string, string][] = [];
  for (const w of ALL_WORDS) {
    const pieces = bpeWord(SPACE + w, merges);
    let acc = pieces[0];
    for (let i = 1; i < pieces.length; i++) {
      const m: [string, string] = [acc, pieces[i]];
      acc += pieces[i];
      if (tokens.has(acc)) throw new Error(`planted: fusing "${w}" would create the existing token ${acc}; reorder the word lists`);
      tokens.add(acc);
      merges.push(m);
      extra.push(m);
    }
  }
  return extra;
}

/** The extra merges of the planted tokenizer (ranked after the base merges). */
export const PLANTED_MERGES: readonly [string, string][] = plantedMerges();

const PLANTED_VOCAB: Readonly<Record<string, number>> = buildVocab(VOCAB_SIZE + PLANTED_MERGES.length, PLANTED_MERGES);

/** Token id of " word" in the planted tokenizer (ids as in buildVocab). */
function wordTokenId(word: string): number {
  const id = PLANTED_VOCAB[SPACE + word];
  if (id === undefined) throw new Error(`planted: no token for " ${word}"`);
  return id;
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
const U = 4; // every embedding's component along u (the word channel)
const K = 4; // lm_head gain along u: +K for word tokens, −K for every other token
const K_TRAIT = 3; // the same for the cheerful and gloomy words (slightly below: they win only when steered)
const A_OUT = 8; // lm_head gain of the cheerful (+) and gloomy (−) words along d
const READ_GAIN = 1; // scale of a neutral word's random readout (entries N(0,1))
const TRAIT_READ_GAIN = 0.3; // the same for the cheerful and gloomy words
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

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Seeded unit vector orthogonal to `others` (orthonormal). */
function unitDirection(name: string, others: Float32Array[] = []): Float32Array {
  const x = normalArray(seedFor(name), PLANTED_CONFIG.hiddenSize, 1);
  for (const o of others) {
    const c = dot(x, o);
    for (let i = 0; i < x.length; i++) x[i] -= c * o[i];
  }
  const n = Math.sqrt(dot(x, x));
  return x.map((v) => v / n);
}

const DIRECTION = unitDirection('direction');
const WORD_CHANNEL = unitDirection('word-channel', [DIRECTION]);

export interface PlantedInfo {
  /** Residual after this decoder layer (0-based) carries the trait. */
  layer: number;
  /** Unit direction d [hidden]: + = cheerful. */
  direction: Float32Array;
  /** Unit direction u ⊥ d [hidden]: constant U in every residual; the lm_head reads it to allow only words. */
  wordChannel: Float32Array;
  cheerfulWords: readonly string[];
  gloomyWords: readonly string[];
  neutralWords: readonly string[];
  /** Token ids of " cheerful", " happy", … (one token each). */
  cheerfulTokens: number[];
  gloomyTokens: number[];
  neutralTokens: number[];
  /** Every token the model can emit (neutral, cheerful and gloomy words), ascending. */
  wordTokens: number[];
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
  direction: DIRECTION,
  wordChannel: WORD_CHANNEL,
  cheerfulWords: CHEERFUL_WORDS,
  gloomyWords: GLOOMY_WORDS,
  neutralWords: NEUTRAL_WORDS,
  cheerfulTokens: CHEERFUL_WORDS.map(wordTokenId),
  gloomyTokens: GLOOMY_WORDS.map(wordTokenId),
  neutralTokens: NEUTRAL_WORDS.map(wordTokenId),
  wordTokens: ALL_WORDS.map(wordTokenId).sort((a, b) => a - b),
  wordStrength: A,
  copyGain: 2 * C_V * C_O,
  config: PLANTED_CONFIG,
  modelId: 'traitlab/planted-cheerful',
  version: PLANTED_VERSION,
});

/** Remove the d-component of every column (reads, for [in, out] weights with in = hidden). */
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
    const u = PLANTED.wordChannel;
    const e = normalArray(seedFor('embed_tokens'), V * H, 1);
    const sign = new Map<number, number>();
    for (const t of PLANTED.cheerfulTokens) sign.set(t, 1);
    for (const t of PLANTED.gloomyTokens) sign.set(t, -1);
    for (let t = 0; t < V; t++) {
      const row = e.subarray(t * H, (t + 1) * H);
      const cd = dot(row, d);
      const cu = dot(row, u);
      const s = sign.get(t);
      for (let i = 0; i < H; i++) {
        const perp = row[i] - cd * d[i] - cu * u[i];
        row[i] = (s === undefined ? perp : WORD_NOISE * perp + s * A * d[i]) + U * u[i];
      }
    }
    return e;
  },
  lmHead(cfg) {
    const { vocabSize: V, hiddenSize: H } = cfg;
    const d = PLANTED.direction;
    const u = PLANTED.wordChannel;
    const r = normalArray(seedFor('lm_head'), V * H, 1); // [vocab, hidden] random readouts
    const kind = new Map<number, number>(); // 0 neutral word, ±1 cheerful/gloomy word
    for (const t of PLANTED.neutralTokens) kind.set(t, 0);
    for (const t of PLANTED.cheerfulTokens) kind.set(t, 1);
    for (const t of PLANTED.gloomyTokens) kind.set(t, -1);
    const w = new Float32Array(H * V); // [hidden, vocab]
    for (let t = 0; t < V; t++) {
      const k = kind.get(t);
      const row = r.subarray(t * H, (t + 1) * H);
      const cd = dot(row, d);
      const cu = dot(row, u);
      for (let i = 0; i < H; i++) {
        const perp = row[i] - cd * d[i] - cu * u[i];
        let v: number;
        if (k === undefined) v = -K * u[i];
        else if (k === 0) v = K * u[i] + READ_GAIN * perp;
        else v = K_TRAIT * u[i] + k * A_OUT * d[i] + TRAIT_READ_GAIN * perp;
        w[i * V + t] = v;
      }
    }
    return w;
  },
  linear(cfg, layer, which) {
    const [k, n] = linearShape(cfg, which);
    const d = PLANTED.direction;
    const u = PLANTED.wordChannel;
    const w = normalArray(seedFor(`layers.${layer}.${which}`), k * n, PLANT_GAIN[which] / Math.sqrt(k));
    if (READS.has(which)) {
      dropReadRow(w, k, n, d);
      dropReadRow(w, k, n, u);
    } else {
      scaleWriteCol(w, k, n, d, layer <= PLANTED.layer ? 0 : WRITE_NOISE_AFTER);
      scaleWriteCol(w, k, n, u, 0);
    }
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
