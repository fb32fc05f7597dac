/**
 * Trait extraction for the loaded model, on the user's GPU.
 *
 * For each trait: contrastive chats (persona pair × question, high and low, src/traits/prompts.ts)
 * are tokenized with the model's chat template and run one at a time through ONE tapped session
 * (the model's own bytes with `residual.{L}` outputs for every layer; a fresh prefill each, no
 * KV cache). Our kernels pool each prompt's residual rows at the chosen token positions and
 * accumulate per-layer sums and per-pair differences on the GPU (GpuStats); the vectors per layer
 * (mean difference, or PCA of the paired differences by power iteration) are the first thing
 * read back. The held-out (evaluation) questions are then projected on each layer's unit vector
 * (ReadoutPass; only scalars come back) to measure separation (Cohen's d, accuracy), choose the
 * layer (extract-math's chooseLayer) and calibrate (held-out high mean → +1, low mean → −1).
 *
 * Token positions: default 'last' = the last prompt token, whose output is the first reply token
 * (the residual the steering readout sees when the reply starts); option 'reply-prompt' = the
 * mean over the assistant-header tokens at the end of the prompt; option 'response' = the mean
 * over a short reply the unsteered model writes first under each persona (responses.ts; phase
 * 'generation'), read as prompt + reply. All are contiguous ranges.
 *
 * Cancellation: `shouldStop` is checked before every forward pass (each prompt, each reply token), after the model
 * bytes are read, after the tapped session is created and before the vectors are computed, so a
 * stop waits for one forward pass at most; it throws ExtractionCancelled after releasing the
 * session and GPU buffers, so the engine stays usable.
 */
import { calibrate } from '../../traits/calibration';
import { datasetVersion, type QuestionSet, type TraitDataset } from '../../traits/dataset';
import { chooseLayer, separation } from '../../traits/extract-math';
import {
  contrastivePrompts,
  DEFAULT_RESPONSE_TOKENS,
  extractionPositions,
  MAX_RESPONSE_TOKENS,
  POSITION_MODES,
  type ContrastivePrompt,
  type PositionMode,
} from '../../traits/prompts';
import { TraitFileError, TraitFiles, defaultTraitsBase } from '../../traits/trait-files';
import type { VectorCacheKey, VectorStore } from '../../traits/vector-cache';
import type { ChatTokenizer } from '../hub/tokenizer';
import type { OrtTensor } from '../runtime/ort';
import { CpuStats, GpuStats, type StatsBackend } from './stats-backend';
import { TappedSession, type TappedSource } from './tapped-session';
import { replyPairs, responseRecords, type Responder } from './responses';
import { ExtractionCancelled, type ExtractProgress, type ExtractRequest, type ExtractResult } from '../../protocol/extraction';
import type { ExtractedTrait, ExtractionMethod, ExtractionResponse, LayerSeparation } from '../../traits/extracted';

export interface ExtractionHost {
  tokenizer: ChatTokenizer;
  /** The model's original files for the tapped session (fetched once per run, dropped after session creation). */
  loadSource: () => Promise<TappedSource>;
  model: string;
  revision: string;
  dtype: string;
  numLayers: number;
  hidden: number;
  /** ORT's GPUDevice on WebGPU (statistics on the GPU); null on WASM (CPU statistics). */
  device: GPUDevice | null;
  /** Unsteered greedy replies for positions 'response' (created once per run, disposed after); absent: 'response' is refused. */
  responder?: () => Promise<Responder>;
}

export interface ExtractionHooks {
  onProgress?: (p: ExtractProgress) => void;
  shouldStop?: () => boolean;
  cache?: VectorStore | null;
  /** Fetch for built-in trait files (default globalThis.fetch). */
  fetchFn?: typeof fetch;
}

/** One tokenized contrastive pair: tokens and pooled range for each side. */
interface TokenizedPair {
  pair: number;
  question: number;
  high: { tokens: number[]; first: number; count: number };
  low: { tokens: number[]; first: number; count: number };
}

/** A trait with the prompts actually used (after maxPairs / maxQuestions). */
export interface PreparedTrait {
  trait: TraitDataset;
  questions: QuestionSet;
  version: string;
  extraction: ContrastivePrompt[];
  evaluation: ContrastivePrompt[];
}

export const DEFAULT_PCA_ITERATIONS = 100;

/** Resolve trait ids against the built-in index (traits/trait-files.ts) and validate everything. */
export async function resolveTraits(
  req: ExtractRequest,
  fetchFn: typeof fetch = (...a) => fetch(...a),
): Promise<{ traits: TraitDataset[]; questions: QuestionSet }> {
  if (req.traits.length === 0) throw new Error('extract: no traits requested');
  try {
    return await new TraitFiles(req.traitsBaseUrl ?? defaultTraitsBase(), fetchFn).resolve(req);
  } catch (err) {
    if (err instanceof TraitFileError) throw new Error(`extract: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Apply maxPairs / maxQuestions and build the prompts; the version covers exactly what is used. */
export function prepareTrait(trait: TraitDataset, questions: QuestionSet, req: Pick<ExtractRequest, 'maxPairs' | 'maxQuestions'>): PreparedTrait {
  const pairs = req.maxPairs ? trait.pairs.slice(0, req.maxPairs) : trait.pairs;
  const ex = req.maxQuestions?.extraction;
  const ev = req.maxQuestions?.evaluation;
  const t: TraitDataset = { ...trait, pairs };
  const q: QuestionSet = {
    ...questions,
    split: {
      extraction: ex ? questions.split.extraction.slice(0, ex) : questions.split.extraction,
      evaluation: ev ? questions.split.evaluation.slice(0, ev) : questions.split.evaluation,
    },
  };
  return {
    trait: t,
    questions: q,
    version: datasetVersion(t, q),
    extraction: contrastivePrompts(t, q, 'extraction'),
    evaluation: contrastivePrompts(t, q, 'evaluation'),
  };
}

function pooledRange(tokenCount: number, mode: PositionMode): { first: number; count: number } {
  const pos = extractionPositions(tokenCount, mode);
  pos.forEach((p, i) => {
    if (i > 0 && p !== pos[i - 1] + 1) throw new Error(`internal: extraction positions [${pos.join(', ')}] are not contiguous`);
  });
  return { first: pos[0], count: pos.length };
}

export function tokenizePairs(tokenizer: ChatTokenizer, prompts: ContrastivePrompt[], mode: PositionMode): TokenizedPair[] {
  return prompts.map((p) => {
    const hi = tokenizer.encodeChat(p.high);
    const lo = tokenizer.encodeChat(p.low);
    return { pair: p.pair, question: p.question, high: { tokens: hi, ...pooledRange(hi.length, mode) }, low: { tokens: lo, ...pooledRange(lo.length, mode) } };
  });
}

/** Reply budget of a 'response' request (validated); undefined for prompt positions. */
export function responseTokensOf(req: ExtractRequest): number | undefined {
  if ((req.positions ?? 'last') !== 'response') return undefined;
  const n = req.responseTokens ?? DEFAULT_RESPONSE_TOKENS;
  if (!Number.isInteger(n) || n < 1 || n > MAX_RESPONSE_TOKENS) {
    throw new Error(`extract: responseTokens must be a whole number from 1 to ${MAX_RESPONSE_TOKENS}, got ${String(req.responseTokens)}`);
  }
  return n;
}

function cacheKey(host: ExtractionHost, p: PreparedTrait, method: ExtractionMethod, positions: PositionMode, req: ExtractRequest): VectorCacheKey {
  const options = [
    ...(method === 'pca' ? [`iterations=${req.pcaIterations ?? DEFAULT_PCA_ITERATIONS},center=${req.pcaCenter ? 1 : 0}`] : []),
    ...(positions === 'response' ? [`response=${responseTokensOf(req)},greedy`] : []),
  ];
  return {
    model: host.model,
    revision: host.revision,
    dtype: host.dtype,
    traitId: p.trait.id,
    datasetVersion: p.version,
    method,
    positions,
    options: options.join(';'),
  };
}

export function disposeAll(ts: OrtTensor[]): void {
  for (const t of ts) t.dispose();
}

/** Extract one trait with an open tapped session (see the file header). */
export async function extractWithSession(
  host: ExtractionHost,
  session: TappedSession,
  p: PreparedTrait,
  req: ExtractRequest,
  progress: (phase: ExtractProgress['phase'], done: number, total: number) => void,
  shouldStop: () => boolean,
  responder?: Responder,
): Promise<ExtractedTrait> {
  const started = performance.now();
  const method = req.method ?? 'mean-diff';
  const positions = req.positions ?? 'last';
  if (p.extraction.length === 0 || p.evaluation.length === 0)
    throw new Error(`extract "${p.trait.id}": needs at least one extraction and one evaluation question`);
  let train: TokenizedPair[];
  let held: TokenizedPair[];
  let responses: ExtractionResponse[] | undefined;
  const responseTokens = responseTokensOf(req);
  if (responseTokens !== undefined) {
    if (!responder) throw new Error('extract: response positions need a model that can generate (none was given)');
    const total = 2 * (p.extraction.length + p.evaluation.length);
    let done = 0;
    progress('generation', 0, total);
    const tick = () => progress('generation', ++done, total);
    const trainReplies = await replyPairs(host.tokenizer, responder, p.extraction, responseTokens, shouldStop, tick);
    const heldReplies = await replyPairs(host.tokenizer, responder, p.evaluation, responseTokens, shouldStop, tick);
    responses = [...responseRecords(host.tokenizer, 'extraction', trainReplies), ...responseRecords(host.tokenizer, 'evaluation', heldReplies)];
    train = trainReplies;
    held = heldReplies;
  } else {
    train = tokenizePairs(host.tokenizer, p.extraction, positions);
    held = tokenizePairs(host.tokenizer, p.evaluation, positions);
  }
  const layers = session.layers;
  const slotRows = Math.max(1, ...held.flatMap((h) => [h.high.count, h.low.count]));
  const shape = { hidden: host.hidden, layers: layers.length, pairs: train.length, evalSlots: 2 * held.length, slotRows };
  const stats: StatsBackend = host.device ? new GpuStats(host.device, shape, method) : new CpuStats(shape);
  try {
    const trainTotal = 2 * train.length;
    progress('extraction', 0, trainTotal);
    for (const [k, t] of train.entries()) {
      for (const [cls, side] of [t.high, t.low].entries()) {
        if (shouldStop()) throw new ExtractionCancelled();
        const residuals = await session.run(side.tokens);
        try {
          stats.accumulate(residuals, side.first, side.count, cls as 0 | 1, k);
        } finally {
          disposeAll(residuals);
        }
        progress('extraction', 2 * k + cls + 1, trainTotal);
      }
    }
    if (shouldStop()) throw new ExtractionCancelled();
    const vectors = await stats.finish({ method, pcaIterations: req.pcaIterations ?? DEFAULT_PCA_ITERATIONS, pcaCenter: req.pcaCenter });
    stats.setDirections(vectors);
    const evalTotal = 2 * held.length;
    progress('evaluation', 0, evalTotal);
    for (const [j, t] of held.entries()) {
      for (const [cls, side] of [t.high, t.low].entries()) {
        if (shouldStop()) throw new ExtractionCancelled();
        const residuals = await session.run(side.tokens);
        try {
          stats.project(residuals, side.first, side.count, 2 * j + cls);
        } finally {
          disposeAll(residuals);
        }
        progress('evaluation', 2 * j + cls + 1, evalTotal);
      }
    }
    const proj = await stats.projections();
    const sep: LayerSeparation[] = [];
    const effect = new Map<number, number>();
    const classes = (l: number) => {
      const hi: number[] = [];
      const lo: number[] = [];
      proj[l].forEach((v, s) => (s % 2 === 0 ? hi : lo).push(v));
      return { hi, lo };
    };
    layers.forEach((layer, l) => {
      const { hi, lo } = classes(l);
      const s = separation(hi, lo);
      sep.push({ layer, effectSize: s.effectSize, accuracy: s.accuracy, meanHigh: s.meanHigh, meanLow: s.meanLow });
      effect.set(layer, s.effectSize);
    });
    const bestLayer = chooseLayer(effect, host.numLayers);
    const { hi, lo } = classes(layers.indexOf(bestLayer));
    const cal = calibrate(hi, lo);
    return {
      traitId: p.trait.id,
      method,
      positions,
      ...(responses ? { responseTokens, responses } : {}),
      model: host.model,
      revision: host.revision,
      dtype: host.dtype,
      hidden: host.hidden,
      layers: Object.fromEntries(layers.map((layer, l) => [layer, vectors[l]])),
      bestLayer,
      separation: sep,
      calibration: { layer: bestLayer, center: cal.center, scale: cal.scale },
      datasetVersion: p.version,
      prompts: { extraction: trainTotal, evaluation: evalTotal },
      elapsedMs: performance.now() - started,
      fromCache: false,
    };
  } finally {
    stats.dispose();
  }
}

/** Every layer index of an n-layer model (what the tapped session taps). */
export function allLayers(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** One progress reporter for a run: the event for trait `i` at `phase`, with its message. */
function progressReporter(prepared: PreparedTrait[], onProgress: ((p: ExtractProgress) => void) | undefined) {
  const message = (p: PreparedTrait, phase: ExtractProgress['phase'], done: number, total: number, bestLayer?: number): string => {
    const label = p.trait.label;
    switch (phase) {
      case 'cached':
        return `${label}: from the cache`;
      case 'prepare':
        return 'Preparing the model for extraction';
      case 'generation':
        return `${label}: writing replies under each persona (${done}/${total})`;
      case 'extraction':
        return `${label}: reading activations (${done}/${total})`;
      case 'evaluation':
        return `${label}: measuring separation (${done}/${total})`;
      case 'done':
        return `${label}: done (best layer ${bestLayer})`;
    }
  };
  return (i: number, phase: ExtractProgress['phase'], done: number, total: number, bestLayer?: number): void => {
    const p = prepared[i];
    onProgress?.({ traitId: p.trait.id, trait: i, traits: prepared.length, phase, done, total, message: message(p, phase, done, total, bestLayer) });
  };
}

/**
 * Extract every requested trait: cached ones come from `hooks.cache`, the rest share one tapped
 * session (created only if needed, always released).
 */
export async function runExtraction(host: ExtractionHost, req: ExtractRequest, hooks: ExtractionHooks = {}): Promise<ExtractResult> {
  const started = performance.now();
  const shouldStop = hooks.shouldStop ?? (() => false);
  const method = req.method ?? 'mean-diff';
  const positions = req.positions ?? 'last';
  if (method !== 'mean-diff' && method !== 'pca') throw new Error(`extract: unknown method "${String(method)}"`);
  if (!POSITION_MODES.includes(positions)) throw new Error(`extract: unknown positions "${String(positions)}" (use ${POSITION_MODES.join(', ')})`);
  responseTokensOf(req);
  if (positions === 'response' && !host.responder) throw new Error('extract: this engine cannot generate replies, so response positions are not available');
  const { traits, questions } = await resolveTraits(req, hooks.fetchFn);
  const prepared = traits.map((t) => prepareTrait(t, questions, req));
  const report = progressReporter(prepared, hooks.onProgress);
  const useCache = req.cache !== false && hooks.cache ? hooks.cache : null;
  const results: (ExtractedTrait | null)[] = [];
  for (const [i, p] of prepared.entries()) {
    const hit = useCache ? await useCache.get(cacheKey(host, p, method, positions, req)) : null;
    if (hit) report(i, 'cached', 1, 1);
    results.push(hit ? { ...hit, fromCache: true } : null);
  }
  if (results.some((r) => r === null)) {
    if (shouldStop()) throw new ExtractionCancelled();
    report(0, 'prepare', 0, 1);
    const source = await host.loadSource();
    if (shouldStop()) throw new ExtractionCancelled();
    const session = await TappedSession.create(source, allLayers(host.numLayers));
    let responder: Responder | undefined;
    try {
      if (shouldStop()) throw new ExtractionCancelled();
      if (positions === 'response') responder = await host.responder!();
      for (const [i, p] of prepared.entries()) {
        if (results[i]) continue;
        const r = await extractWithSession(host, session, p, req, (phase, done, total) => report(i, phase, done, total), shouldStop, responder);
        results[i] = r;
        report(i, 'done', 1, 1, r.bestLayer);
        if (useCache) await useCache.put(cacheKey(host, p, method, positions, req), r).catch(() => undefined);
      }
    } finally {
      responder?.dispose();
      await session.release();
    }
  }
  return { traits: results as ExtractedTrait[], elapsedMs: performance.now() - started };
}
