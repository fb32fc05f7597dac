/**
 * The steering engine: loads a model (hub id or hub-layout folder; load-model.ts), cuts it at
 * the residual stream, runs it as a chain of ORT sessions with our kernels between them, and
 * generates. Orchestration only: loading, steering plans, generation and extraction each call
 * into their own modules. Lives in the worker; the UI reaches it only through the protocol.
 */
import type { EngineApi } from '../protocol/engine-api';
import type { GenerateRequest, GenerateResult, ModelInfo, ModelSource, ProgressInfo, Projections, TokenEvent, WireVector } from '../protocol/messages';
import type { DeviceInfo } from '../shared/device';
import { TextStreamer } from './hub/tokenizer';
import { runDecodeLoop } from './runtime/decode-loop';
import { probeDevice } from './runtime/device';
import { assertFinite, NonFiniteError, withDtypeAdvice } from './runtime/finite-guard';
import { ortDevice } from './runtime/gpu-backend';
import { needsF16 } from '../shared/dtype';
import { planLayers, type LayerPlan, type TraitSetting } from '../steering/plan';
import { validateVector, type TraitVector } from '../steering/vector';
import { runExtraction, type ExtractionHost, type ExtractProgress, type ExtractRequest, type ExtractResult } from './extraction';
import { VectorCache, type VectorStore } from '../traits/vector-cache';
import type { CheckReport, CheckRequest } from '../protocol/check';
import { CheckCache, runSelfCheck, type CheckStore } from './check';
import { EngineLoadError, extractionHost, loadModel, releaseModel, type LoadedModel, type ModelLoader } from './load-model';
import { measureOptions, rereadReply } from './psychometrics';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from '../protocol/psychometrics';

export { EngineLoadError } from './load-model';

export interface EngineOptions {
  fetchFn?: typeof fetch;
  /** How models are loaded (default load-model.ts loadModel). */
  loadModel?: ModelLoader;
  /** Called once when the GPUDevice the engine runs on is lost (its `lost` promise resolved). */
  onDeviceLost?: (message: string) => void;
  /** Where self-check reports are cached (default IndexedDB). */
  checkStore?: CheckStore;
}

export class Engine implements EngineApi {
  private loaded: LoadedModel | null = null;
  private vectors = new Map<string, TraitVector>();
  private settings: TraitSetting[] = [];
  private stopRequested = false;
  private deviceInfo: DeviceInfo | null = null;
  private vectorCache: VectorStore | null = null;
  private checkStore: CheckStore | null;
  private readonly fetchFn: typeof fetch;
  private readonly loader: ModelLoader;
  private readonly onDeviceLost?: (message: string) => void;
  private watchedDevice: GPUDevice | null = null;

  constructor(opts: EngineOptions = {}) {
    this.fetchFn = opts.fetchFn ?? ((...a) => fetch(...a));
    this.loader = opts.loadModel ?? loadModel;
    this.onDeviceLost = opts.onDeviceLost;
    this.checkStore = opts.checkStore ?? null;
  }

  /** Reads `lost` on ORT's GPUDevice (the one our kernels share) once it exists. */
  private async watchDevice(): Promise<void> {
    if (!this.onDeviceLost || this.loaded?.ep !== 'webgpu') return;
    const device = await ortDevice();
    if (device === this.watchedDevice) return;
    this.watchedDevice = device;
    void device.lost.then((info) => this.onDeviceLost?.(`${info.reason}${info.message ? `: ${info.message}` : ''}`));
  }

  async device(): Promise<DeviceInfo> {
    this.deviceInfo ??= await probeDevice();
    return this.deviceInfo;
  }

  async load(source: ModelSource, onProgress: (p: ProgressInfo) => void): Promise<ModelInfo> {
    const started = performance.now();
    const device = await this.device();
    // The previous model stays loaded (and usable) until the new one is ready.
    const next = await this.loader(source, { device, onProgress, fetchFn: this.fetchFn, started });
    await this.unload();
    this.loaded = next;
    this.applyPlans();
    await this.watchDevice();
    return next.info;
  }

  private async unload(): Promise<void> {
    if (!this.loaded) return;
    await releaseModel(this.loaded);
    this.loaded = null;
  }

  private requireModel(): LoadedModel {
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
      const v: TraitVector = { model: w.model, hidden: w.hidden, layers: w.layers, units: w.units };
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
    this.stopRequested = false; // before the first await: a stop that comes while the host is prepared counts
    const host = await this.extractionHost();
    this.vectorCache ??= new VectorCache();
    return runExtraction(host, request, { onProgress, shouldStop: () => this.stopRequested, cache: this.vectorCache, fetchFn: this.fetchFn });
  }

  /** What extraction needs from the loaded model (also the bench's forwards-only baseline). */
  async extractionHost(): Promise<ExtractionHost> {
    return extractionHost(this.requireModel(), this.fetchFn);
  }

  /**
   * "Check this model" (engine/check/): the cached report for this model on this device, or a
   * fresh run (force, or none cached). Restores the current steering afterwards.
   */
  async check(request: CheckRequest = {}): Promise<CheckReport> {
    const m = this.requireModel();
    this.checkStore ??= new CheckCache();
    const key = { model: m.info.model, revision: m.files.src.revision, dtype: m.info.dtype, cutLayers: m.info.cutLayers, device: m.info.device.adapter };
    if (!request.force) {
      const hit = await this.checkStore.get(key);
      if (hit) return { ...hit, cached: true };
    }
    try {
      const report = await runSelfCheck(m, { fetchFn: this.fetchFn });
      await this.checkStore.put(key, report);
      return report;
    } finally {
      m.forward.cache.clear();
      this.applyPlans();
    }
  }

  /**
   * Option probabilities of multiple-choice prompts (inventory items, judge questions) through a
   * private KV cache, under the current steering or with steering off (engine/psychometrics/).
   */
  async scoreOptions(request: ScoreOptionsRequest, onProgress: (p: ScoreProgress) => void = () => undefined): Promise<ScoreOptionsResult> {
    const m = this.requireModel();
    this.stopRequested = false;
    return measureOptions(m, request, onProgress, () => this.stopRequested);
  }

  /** The unsteered re-read of a reply: per-token projections at each trait's readout layer. */
  async reread(request: RereadRequest): Promise<RereadResult> {
    return rereadReply(this.requireModel(), this.plans(), this.readouts, request);
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
        for (const p of Object.values(projections)) assertFinite([p.pre, p.post], 'trait readouts', index);
        onToken({ index, tokenId, text: streamer.push(generated), projections });
      },
    }).catch((err: unknown) => {
      throw err instanceof NonFiniteError ? withDtypeAdvice(err, m.info.dtype, needsF16(m.info.dtype)) : err;
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
