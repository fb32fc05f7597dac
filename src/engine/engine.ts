/**
 * The steering engine: loads a model (hub id or hub-layout folder), cuts it at the residual
 * stream, runs it as a chain of ORT sessions with our kernels between them, and generates.
 * Lives in the worker; the UI reaches it only through the protocol.
 */
import type { EngineApi } from '../protocol/engine-api';
import type { GenerateRequest, GenerateResult, ModelInfo, ModelSource, ProgressInfo, Projections, TokenEvent, WireVector } from '../protocol/messages';
import type { DeviceInfo } from '../shared/device';
import type { Dtype } from '../shared/dtype';
import { fetchBytes, fetchJson, type FileProgress } from './hub/download';
import {
  eosIds,
  externalDataFiles,
  kvCacheType,
  onnxFileName,
  textConfig,
  type GenerationConfig,
  type ModelConfig,
} from './hub/model-files';
import { fileUrl, resolveSource } from './hub/source';
import { defaultDtype, needsF16 } from '../shared/dtype';
import { loadTokenizer, TextStreamer, type ChatTokenizer } from './hub/tokenizer';
import { SessionChain } from './runtime/chain';
import { runDecodeLoop } from './runtime/decode-loop';
import { probeDevice } from './runtime/device';
import { ModelForward } from './runtime/model-forward';
import type { SteeringBackend } from './runtime/steering-backend';
import { createBackend } from './runtime/backends';
import { ortDevice } from './runtime/gpu-backend';
import { planLayers, type LayerPlan, type TraitSetting } from '../steering/plan';
import { validateVector, type TraitVector } from '../steering/vector';
import { cutModel } from './surgery';
import {
  runExtraction,
  runForwardsOnly,
  type ExtractionHost,
  type ExtractProgress,
  type ExtractRequest,
  type ExtractResult,
  type ForwardsOnlyResult,
  type TappedSource,
} from './extraction';
import { VectorCache, type VectorStore } from '../traits/vector-cache';

/**
 * ORT WebGPU's GroupQueryAttention (model-builder exports) returned wrong prefill results for
 * 32 or more new tokens in one pass (onnxruntime-web 1.31.0-dev, uncut models too, measured
 * against onnxruntime-node): such prompts are run in chunks through the KV cache instead.
 */
export const GQA_PREFILL_CHUNK = 16;

function prefillChunk(style: 'optimum' | 'model-builder', ep: 'webgpu' | 'wasm'): number {
  return style === 'model-builder' && ep === 'webgpu' ? GQA_PREFILL_CHUNK : Infinity;
}

export class EngineLoadError extends Error {
  override name = 'EngineLoadError';
}

/** Short neutral texts whose residual norms define strength 1.0 per layer. */
const CALIBRATION_TEXTS = [
  'The weather today is mild, with a light breeze from the west.',
  'Please summarize the main points of the meeting in a few sentences.',
  'Water boils at one hundred degrees Celsius at sea level.',
];

export interface Loaded {
  info: ModelInfo;
  tokenizer: ChatTokenizer;
  chain: SessionChain;
  backend: SteeringBackend;
  forward: ModelForward;
  eos: number[];
}

export class Engine implements EngineApi {
  private loaded: Loaded | null = null;
  private vectors = new Map<string, TraitVector>();
  private settings: TraitSetting[] = [];
  private stopRequested = false;
  private deviceInfo: DeviceInfo | null = null;
  /**
   * How to get the loaded model's original files again for the tapped extraction session (re-read
   * from the Cache API on demand, so the bytes are not held in memory between extractions).
   */
  private extractionFiles: { source: () => Promise<TappedSource>; revision: string } | null = null;
  private vectorCache: VectorStore | null = null;

  constructor(private readonly fetchFn: typeof fetch = (...a) => fetch(...a)) {}

  async device(): Promise<DeviceInfo> {
    this.deviceInfo ??= await probeDevice();
    return this.deviceInfo;
  }

  async load(source: ModelSource, onProgress: (p: ProgressInfo) => void): Promise<ModelInfo> {
    const started = performance.now();
    const device = await this.device();
    const src = resolveSource(source.model, source.revision, source.remoteHost);
    const dtype: Dtype = source.dtype ?? defaultDtype(device.shaderF16);
    if (needsF16(dtype) && device.webgpu && !device.shaderF16) {
      throw new EngineLoadError(`The ${dtype} files need the GPU feature "shader-f16", which this device lacks. Choose q4 or fp32.`);
    }
    const fileProgress = (phase: ProgressInfo['phase']) => (p: FileProgress | { file: string; loaded: number; total: number }) =>
      onProgress({ phase, file: p.file, loaded: p.loaded, total: p.total, message: `Downloading ${p.file}` });

    const rawConfig = await fetchJson<ModelConfig>(fileUrl(src, 'config.json'), 'config.json', fileProgress('download'), this.fetchFn);
    const config = textConfig(rawConfig);
    const gen = await fetchJson<GenerationConfig>(
      fileUrl(src, 'generation_config.json'),
      'generation_config.json',
      fileProgress('download'),
      this.fetchFn,
    ).catch(() => null);
    const tokenizer = await loadTokenizer(src, fileProgress('download'));

    const modelFile = onnxFileName(dtype);
    const graph = await fetchBytes(fileUrl(src, modelFile), modelFile, fileProgress('download'), { fetchFn: this.fetchFn });
    const externalData: { path: string; data: Uint8Array }[] = [];
    for (const f of externalDataFiles(config, dtype)) {
      const data = await fetchBytes(fileUrl(src, f), f, fileProgress('download'), { fetchFn: this.fetchFn });
      externalData.push({ path: f.slice(f.lastIndexOf('/') + 1), data });
    }

    onProgress({ phase: 'prepare', loaded: 0, total: 1, message: 'Cutting the model at the residual stream' });
    const numLayers = config.num_hidden_layers;
    const cutLayers = [...new Set(source.cutLayers ?? [Math.floor((numLayers - 1) / 2)])].sort((a, b) => a - b);
    for (const l of cutLayers) {
      if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new EngineLoadError(`Layer ${l} does not exist: this model has layers 0-${numLayers - 1}.`);
    }
    const cut = cutModel(graph, cutLayers, { lastTokenLogits: true });

    // The previous model stays loaded (and usable) until the new one is ready.
    const ep = device.webgpu ? 'webgpu' : 'wasm';
    const chain = await SessionChain.create(cut.parts, {
      ep,
      externalData,
      onPart: (i, n) => onProgress({ phase: 'compile', loaded: i, total: n, message: `Creating session ${i + 1} of ${n}` }),
    });
    try {
      const backend = await createBackend(ep, cut.hidden, cutLayers.length);
      const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
      const forward = new ModelForward(
        chain,
        backend,
        {
          numLayers,
          kvHeads: config.num_key_value_heads ?? config.num_attention_heads,
          headDim,
          type: kvCacheType(config, dtype),
        },
        ep === 'webgpu' ? await ortDevice() : null,
        prefillChunk(cut.style, ep),
      );

      onProgress({ phase: 'calibrate', loaded: 0, total: CALIBRATION_TEXTS.length, message: 'Measuring residual norms' });
      backend.setPlans(cutLayers.map((layer) => ({ layer, slots: [] })));
      backend.measureNorms(true);
      for (const [i, text] of CALIBRATION_TEXTS.entries()) {
        forward.cache.clear();
        await forward.forward(tokenizer.encode(text));
        onProgress({ phase: 'calibrate', loaded: i + 1, total: CALIBRATION_TEXTS.length, message: 'Measuring residual norms' });
      }
      backend.measureNorms(false);
      const norms = await backend.takeNorms();
      forward.cache.clear();

      const info: ModelInfo = {
        model: src.id,
        dtype,
        style: cut.style,
        numLayers,
        hidden: cut.hidden,
        vocabSize: config.vocab_size,
        contextLength: config.max_position_embeddings ?? 2048,
        cutLayers,
        typicalNorm: Object.fromEntries(cutLayers.map((l, i) => [l, norms[i]])),
        device,
        loadMs: performance.now() - started,
      };
      await this.unload();
      this.loaded = { info, tokenizer, chain, backend, forward, eos: eosIds(config, gen) };
      const kv = { numLayers, kvHeads: config.num_key_value_heads ?? config.num_attention_heads, headDim, type: kvCacheType(config, dtype) };
      const dataFiles = externalDataFiles(config, dtype);
      const fetchFn = this.fetchFn;
      this.extractionFiles = {
        source: async () => {
          const none = () => undefined;
          const bytes = await fetchBytes(fileUrl(src, modelFile), modelFile, none, { fetchFn });
          const data: { path: string; data: Uint8Array }[] = [];
          for (const f of dataFiles) data.push({ path: f.slice(f.lastIndexOf('/') + 1), data: await fetchBytes(fileUrl(src, f), f, none, { fetchFn }) });
          return { graph: bytes, externalData: data, ep, kv };
        },
        revision: src.revision,
      };
      this.applyPlans();
      return info;
    } catch (err) {
      await chain.release();
      throw err;
    }
  }

  private async unload(): Promise<void> {
    if (!this.loaded) return;
    this.loaded.forward.cache.clear();
    this.loaded.backend.dispose();
    await this.loaded.chain.release();
    this.loaded = null;
    this.extractionFiles = null;
  }

  /** Diagnostics and tests: the loaded pieces (never crosses the worker boundary). */
  internals(): Loaded {
    return this.requireModel();
  }

  private requireModel(): Loaded {
    if (!this.loaded) throw new EngineLoadError('No model is loaded yet.');
    return this.loaded;
  }

  /** The current kernel plan per cut (also what "export current steering" reads). */
  plans(): LayerPlan[] {
    const m = this.loaded;
    if (!m) return [];
    const norms = new Map(Object.entries(m.info.typicalNorm).map(([k, v]) => [Number(k), v]));
    return planLayers(m.info.cutLayers, this.vectors, this.settings, norms);
  }

  /** Where each trait's readout sits: the cut and slot at the trait's own layer (rebuilt with the plans). */
  private readouts: { traitId: string; cut: number; slot: number }[] = [];

  private applyPlans(): void {
    const m = this.loaded;
    if (!m) return;
    const plans = this.plans();
    m.backend.setPlans(plans);
    const layerOf = new Map(this.settings.map((s) => [s.traitId, s.layer]));
    this.readouts = [];
    plans.forEach((plan, cut) =>
      plan.slots.forEach((s, slot) => {
        if ((layerOf.get(s.traitId) ?? m.info.cutLayers[0]) === plan.layer) this.readouts.push({ traitId: s.traitId, cut, slot });
      }),
    );
  }

  setVectors(vectors: WireVector[]): void {
    const next = new Map<string, TraitVector>();
    for (const w of vectors) {
      const v: TraitVector = { model: w.model, hidden: w.hidden, layers: w.layers };
      if (this.loaded) {
        const problem = validateVector(v, this.loaded.info.hidden);
        if (problem) throw new Error(`Trait "${w.traitId}": ${problem}`);
      }
      next.set(w.traitId, v);
    }
    this.vectors = next;
    this.applyPlans();
  }

  setSteering(settings: TraitSetting[]): void {
    for (const s of settings) {
      if (!Number.isFinite(s.strength)) throw new Error(`Trait "${s.traitId}": strength must be a finite number`);
      if (this.loaded && !this.loaded.info.cutLayers.includes(s.layer)) {
        throw new Error(
          `Trait "${s.traitId}": layer ${s.layer} is not cut in this model (cut layers: ${this.loaded.info.cutLayers.join(', ')}); reload with that layer.`,
        );
      }
    }
    this.settings = settings;
    this.applyPlans();
  }

  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Extract trait vectors for the loaded model on this device (engine/extraction/run.ts):
   * cached results come from IndexedDB; stop() cancels between prompts (AbortError).
   */
  async extract(request: ExtractRequest, onProgress: (p: ExtractProgress) => void = () => undefined): Promise<ExtractResult> {
    const host = await this.extractionHost();
    this.stopRequested = false;
    this.vectorCache ??= new VectorCache();
    return runExtraction(host, request, { onProgress, shouldStop: () => this.stopRequested, cache: this.vectorCache, fetchFn: this.fetchFn });
  }

  /** Benchmark baseline for extract(): the same prompts through the tapped session, no statistics. */
  async extractForwardsOnly(request: ExtractRequest): Promise<ForwardsOnlyResult> {
    const host = await this.extractionHost();
    this.stopRequested = false;
    return runForwardsOnly(host, request, { shouldStop: () => this.stopRequested, fetchFn: this.fetchFn });
  }

  private async extractionHost(): Promise<ExtractionHost> {
    const m = this.requireModel();
    const files = this.extractionFiles;
    if (!files) throw new EngineLoadError('No model is loaded yet.');
    return {
      tokenizer: m.tokenizer,
      loadSource: files.source,
      model: m.info.model,
      revision: files.revision,
      dtype: m.info.dtype,
      numLayers: m.info.numLayers,
      hidden: m.info.hidden,
      device: m.info.device.webgpu ? await ortDevice() : null,
    };
  }

  resetCache(): void {
    this.loaded?.forward.cache.clear();
  }

  async generate(request: GenerateRequest, onToken: (t: TokenEvent) => void): Promise<GenerateResult> {
    const m = this.requireModel();
    this.stopRequested = false;
    const prompt = m.tokenizer.encodeChat(request.messages);
    const streamer = new TextStreamer(m.tokenizer);
    const result = await runDecodeLoop(m.forward, prompt, {
      sampling: request.sampling,
      maxNewTokens: request.maxNewTokens,
      eos: m.eos,
      contextLength: m.info.contextLength,
      reuseCache: request.reuseCache ?? true,
      shouldStop: () => this.stopRequested,
      onToken: async (tokenId, index, generated) => {
        const projections = await this.projections();
        onToken({ index, tokenId, text: streamer.push(generated), projections });
      },
    });
    return {
      finishReason: result.finishReason,
      promptTokens: prompt.length,
      prefillTokens: result.prefillTokens,
      generatedTokens: result.generated.length,
      prefillMs: result.prefillMs,
      decodeMs: result.decodeMs,
      text: m.tokenizer.decode(result.generated),
    };
  }

  /** Per trait, the projection at its own layer for the token just sampled. */
  private async projections(): Promise<Projections> {
    const m = this.requireModel();
    if (this.readouts.length === 0) return {}; // nothing to read: no GPU readback this token
    const cuts = await m.backend.lastProjections();
    const out: Projections = {};
    for (const r of this.readouts) out[r.traitId] = { pre: cuts[r.cut].pre[r.slot], post: cuts[r.cut].post[r.slot] };
    return out;
  }
}
