/**
 * Loading a model, step by step: choose the dtype for the device, fetch config, tokenizer and
 * ONNX bytes (hub/), check the requested cut layers, cut the graph at the residual stream
 * (surgery/), create the session chain and the steering backend (runtime/), and measure the
 * residual norms that define strength 1.0 per cut. The result is one LoadedModel, which also
 * knows how to read its own files again for extraction.
 */
import type { ModelInfo, ModelSource, ProgressInfo } from '../protocol/messages';
import type { DeviceInfo } from '../shared/device';
import { defaultDtype, needsF16, type Dtype } from '../shared/dtype';
import { fetchBytes, type FileProgress } from './hub/download';
import { isOutOfMemory, OutOfMemoryError, outOfMemoryMessage, parseOrEvict } from './load-errors';
import { fetchModelBytes, modelFileSet, type ModelBytes, type ModelFileSet } from './hub/model-bytes';
import { eosIds, kvLayout, textConfig, type GenerationConfig, type ModelConfig } from './hub/model-files';
import { fileUrl, resolveSource, type ResolvedSource } from './hub/source';
import { loadTokenizer, type ChatTokenizer } from './hub/tokenizer';
import type { ExtractionHost } from './extraction/run';
import type { TappedSource } from './extraction/tapped-session';
import { decodeResponder } from './extraction/responses';
import { createBackend } from './runtime/backends';
import { SessionChain } from './runtime/chain';
import { GpuBackend, ortDevice } from './runtime/gpu-backend';
import type { KvLayout } from './runtime/kv-cache';
import { gpuForwardOptions, ModelForward } from './runtime/model-forward';
import { prefillChunk } from './runtime/prefill';
import type { ExecutionProvider } from './runtime/session-options';
import type { SteeringBackend } from './runtime/steering-backend';
import { cutModel, type CutModel } from './surgery';
import { StructureError } from './surgery/residual-chain';

export class EngineLoadError extends Error {
  override name = 'EngineLoadError';
}

/** Short neutral texts whose residual norms define strength 1.0 per layer. */
const CALIBRATION_TEXTS = [
  'The weather today is mild, with a light breeze from the west.',
  'Please summarize the main points of the meeting in a few sentences.',
  'Water boils at one hundred degrees Celsius at sea level.',
];

export interface LoadedModel {
  info: ModelInfo;
  tokenizer: ChatTokenizer;
  chain: SessionChain;
  backend: SteeringBackend;
  forward: ModelForward;
  eos: number[];
  ep: ExecutionProvider;
  kv: KvLayout;
  /** The model's ONNX files (what load cut; what extraction taps). */
  files: ModelFileSet;
}

export interface LoadContext {
  device: DeviceInfo;
  onProgress: (p: ProgressInfo) => void;
  fetchFn?: typeof fetch;
  /** performance.now() when the load began (for info.loadMs); default: now. */
  started?: number;
}

/** How the engine loads a model (injectable: a harness may wrap it to reach the parts). */
export type ModelLoader = (source: ModelSource, ctx: LoadContext) => Promise<LoadedModel>;

function chooseDtype(source: ModelSource, device: DeviceInfo, modelType?: string): Dtype {
  const dtype: Dtype = source.dtype ?? defaultDtype(device.shaderF16, modelType);
  if (needsF16(dtype) && device.webgpu && !device.shaderF16) {
    throw new EngineLoadError(`The ${dtype} files need the GPU feature "shader-f16", which this device lacks. Choose q4 or fp32.`);
  }
  return dtype;
}

function chooseCutLayers(requested: number[] | undefined, numLayers: number): number[] {
  const cutLayers = [...new Set(requested ?? [Math.floor((numLayers - 1) / 2)])].sort((a, b) => a - b);
  for (const l of cutLayers) {
    if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new EngineLoadError(`Layer ${l} does not exist: this model has layers 0-${numLayers - 1}.`);
  }
  return cutLayers;
}

interface FetchedModel {
  config: ModelConfig;
  /** config.json's own model_type (the top level, not text_config's). */
  modelType: string;
  gen: GenerationConfig | null;
  dtype: Dtype;
  tokenizer: ChatTokenizer;
  files: ModelFileSet;
  bytes: ModelBytes;
}

type OnFile = (p: FileProgress | { file: string; loaded: number; total: number }) => void;

/** A JSON file of the model; one that does not parse evicts the model's cached files. */
async function readJson<T>(src: ResolvedSource, file: string, onFile: OnFile, fetchFn?: typeof fetch): Promise<T> {
  const url = fileUrl(src, file);
  const bytes = await fetchBytes(url, file, onFile, { fetchFn });
  return parseOrEvict(src.base, file, url, () => JSON.parse(new TextDecoder().decode(bytes)) as T);
}

async function fetchModel(src: ResolvedSource, source: ModelSource, ctx: LoadContext): Promise<FetchedModel> {
  const onFile: OnFile = (p) =>
    ctx.onProgress({
      phase: 'download',
      file: p.file,
      loaded: p.loaded,
      total: p.total,
      message: 'warning' in p && p.warning ? p.warning : `Downloading ${p.file}`,
      ...('warning' in p && p.warning ? { warning: p.warning } : {}),
    });
  const raw = await readJson<ModelConfig>(src, 'config.json', onFile, ctx.fetchFn);
  const config = textConfig(raw);
  const dtype = chooseDtype(source, ctx.device, raw.model_type ?? config.model_type);
  const gen = await readJson<GenerationConfig>(src, 'generation_config.json', onFile, ctx.fetchFn).catch(() => null);
  const tokenizer = await parseOrEvict(src.base, 'tokenizer.json', fileUrl(src, 'tokenizer.json'), () => loadTokenizer(src, onFile));
  const files = modelFileSet(src, config, dtype);
  const bytes = await fetchModelBytes(files, { onProgress: onFile, fetchFn: ctx.fetchFn });
  return { config, modelType: raw.model_type ?? config.model_type ?? 'unknown', gen, dtype, tokenizer, files, bytes };
}

/** Sessions for the cut parts, the steering backend at the cuts, and the forward pass over both. */
async function startRuntime(
  cut: CutModel,
  bytes: ModelBytes,
  ep: ExecutionProvider,
  kv: KvLayout,
  cutCount: number,
  model: { contextLength: number; vocab: number },
  ctx: LoadContext,
) {
  let chain: SessionChain;
  try {
    chain = await SessionChain.create(cut.parts, {
      ep,
      host: cut.host,
      externalData: bytes.externalData,
      onPart: (i, n) => ctx.onProgress({ phase: 'compile', loaded: i, total: n, message: `Creating session ${i + 1} of ${n}` }),
    });
  } catch (err) {
    if (!isOutOfMemory(err)) throw err;
    const sizes = [bytes.graph.byteLength, ...bytes.externalData.map((f) => f.data.byteLength)];
    throw new OutOfMemoryError(outOfMemoryMessage(err, sizes, ctx.device));
  }
  try {
    const backend = await createBackend(ep, cut.hidden, cutCount);
    const device = ep === 'webgpu' ? await ortDevice() : null;
    // WebGPU: static KV cache, logits into a buffer of ours, the token chosen on the GPU with the
    // projections in the same readback (one sync per step).
    // Model-builder GroupQueryAttention writes the KV cache in place when past and present share a buffer.
    const kvShared = cut.structure.attention === 'GroupQueryAttention';
    const readback = backend instanceof GpuBackend ? backend : null;
    const gpu = device ? gpuForwardOptions(chain, device, { ...model, hidden: cut.hidden, logitsRows: 'last', readback, kvShared }) : null;
    const forward = new ModelForward(chain, backend, kv, device, prefillChunk(cut.structure, ep), gpu);
    return { chain, backend, forward };
  } catch (err) {
    await chain.release();
    throw err;
  }
}

/** Median residual norm per cut over the calibration texts (before any steering). */
async function measureNorms(
  forward: ModelForward,
  backend: SteeringBackend,
  tokenizer: ChatTokenizer,
  cutLayers: number[],
  ctx: LoadContext,
): Promise<number[]> {
  const total = CALIBRATION_TEXTS.length;
  const message = 'Measuring residual norms';
  ctx.onProgress({ phase: 'calibrate', loaded: 0, total, message });
  backend.setPlans(cutLayers.map((layer) => ({ layer, slots: [] })));
  backend.measureNorms(true);
  for (const [i, text] of CALIBRATION_TEXTS.entries()) {
    forward.cache.clear();
    await forward.forward(tokenizer.encode(text));
    ctx.onProgress({ phase: 'calibrate', loaded: i + 1, total, message });
  }
  backend.measureNorms(false);
  const norms = await backend.takeNorms();
  forward.cache.clear();
  return norms;
}

export const loadModel: ModelLoader = async (source, ctx) => {
  const started = ctx.started ?? performance.now();
  const { device } = ctx;
  const src = resolveSource(source.model, source.revision, source.remoteHost);
  const { config, modelType, gen, dtype, tokenizer, files, bytes } = await fetchModel(src, source, ctx);
  const graphUrl = fileUrl(src, files.graph);

  ctx.onProgress({ phase: 'prepare', loaded: 0, total: 1, message: 'Cutting the model at the residual stream' });
  const numLayers = config.num_hidden_layers;
  const cutLayers = chooseCutLayers(source.cutLayers, numLayers);
  // A graph that does not parse (e.g. a truncated download) evicts the model's cached files.
  const cut = await parseOrEvict(src.base, files.graph, graphUrl, () => {
    try {
      // WebGPU: the int64 preamble runs in a CPU session of its own (surgery/host-preamble.ts).
      return cutModel(bytes.graph, cutLayers, { lastTokenLogits: true, hostPreamble: device.webgpu });
    } catch (err) {
      const e = new EngineLoadError(`${src.id} (${files.graph}): ${err instanceof Error ? err.message : String(err)}`);
      // An unknown graph structure is not a broken download: keep the cached files.
      if (err instanceof StructureError) Object.assign(e, { keepCache: true });
      throw e;
    }
  });

  const ep: ExecutionProvider = device.webgpu ? 'webgpu' : 'wasm';
  const kv = kvLayout(config, dtype);
  const contextLength = config.max_position_embeddings ?? 2048;
  // Sessions that fail for any reason but memory mean bad ONNX bytes: evict them too.
  const start = (c: CutModel) => startRuntime(c, bytes, ep, kv, cutLayers.length, { contextLength, vocab: config.vocab_size }, ctx);
  const { chain, backend, forward } = await parseOrEvict(src.base, files.graph, graphUrl, () =>
    start(cut).catch((err: unknown) => {
      // The host preamble is an optimisation: a graph whose split sessions fail runs as exported.
      if (!cut.host || err instanceof OutOfMemoryError) throw err;
      console.warn(`traitlab: the split-off preamble of ${src.id} failed (${err instanceof Error ? err.message : String(err)}); running the graph as exported`);
      return start(cutModel(bytes.graph, cutLayers, { lastTokenLogits: true }));
    }),
  );
  try {
    const norms = await measureNorms(forward, backend, tokenizer, cutLayers, ctx);
    const info: ModelInfo = {
      model: src.id,
      modelType,
      dtype,
      style: cut.style,
      structure: cut.structure,
      numLayers,
      hidden: cut.hidden,
      vocabSize: config.vocab_size,
      contextLength,
      cutLayers,
      typicalNorm: Object.fromEntries(cutLayers.map((l, i) => [l, norms[i]])),
      device,
      loadMs: performance.now() - started,
    };
    return { info, tokenizer, chain, backend, forward, eos: eosIds(config, gen), ep, kv, files };
  } catch (err) {
    forward.destroy();
    backend.dispose();
    await chain.release();
    throw err;
  }
};

export async function releaseModel(m: LoadedModel): Promise<void> {
  m.forward.destroy();
  m.backend.dispose();
  await m.chain.release();
}

/** The model's original files for a tapped session (re-read from the Cache API, no progress). */
export async function tappedSource(m: LoadedModel, fetchFn?: typeof fetch): Promise<TappedSource> {
  return {
    ...(await fetchModelBytes(m.files, { fetchFn })),
    ep: m.ep,
    kv: m.kv,
    maxChunk: prefillChunk(m.info.structure, m.ep),
    device: m.ep === 'webgpu' ? await ortDevice() : null,
  };
}

/** What extraction needs from the loaded model (replies: the loaded chain, no interventor = steering off, its own KV cache). */
export async function extractionHost(m: LoadedModel, fetchFn?: typeof fetch): Promise<ExtractionHost> {
  const device = m.ep === 'webgpu' ? await ortDevice() : null;
  return {
    responder: async () => decodeResponder(new ModelForward(m.chain, null, m.kv, device, prefillChunk(m.info.structure, m.ep)), m.eos, m.info.contextLength),
    tokenizer: m.tokenizer,
    loadSource: () => tappedSource(m, fetchFn),
    model: m.info.model,
    revision: m.files.src.revision,
    dtype: m.info.dtype,
    numLayers: m.info.numLayers,
    hidden: m.info.hidden,
    device,
  };
}
