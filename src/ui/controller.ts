/**
 * Glue between the engine client and the store: every user action that talks to the engine
 * goes through here. Errors end up in the store as messages; nothing the user had is dropped.
 */
import type { EngineClient } from '../client/engine-client';
import { validateSampling } from '../shared/sampling';
import type { TraitSetting } from '../steering/plan';
import type { TraitVector } from '../steering/vector';
import type { BuiltinPreset } from '../presets/builtins';
import { customTrait, slugify } from '../traits/dataset';
import type { GenerateRequest, GenerateResult } from '../protocol/messages';
import type { ChatMessage } from '../shared/chat';
import type { Dtype } from '../shared/dtype';
import { fromExtraction } from './extracted-data';
import { FrameBuffer } from './frame-buffer';
import { deleteCachedModel, listCachedModels } from './models/model-cache';
import type { AppStore } from './store';
import type { CompareSide } from './store/compare-slice';
import type { TokenPoint } from './store/metrics-slice';
import { applyLink, shareCurrent } from './share-link';
import { traitsForModel } from './store/steering-slice';
import { engineSettings, unsteeredSettings, vectorsFor } from './trait-vectors';
import { ggufDownload, jsonDownload, readVectorFile, steeringVector, type VectorDownload } from './vector-files';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function parseLayers(text: string): number[] | undefined | string {
  const t = text.trim();
  if (!t) return undefined;
  const parts = t.split(/[\s,]+/).map(Number);
  if (parts.some((x) => !Number.isInteger(x) || x < 0)) return `"${text}" is not a list of layer numbers`;
  return parts;
}

export class Controller {
  /** Extracted (or imported) vectors of built-in traits, by trait id. */
  private extracted: Record<string, TraitVector> = {};
  /** While a compare run holds the engine's steering, slider moves are not sent. */
  private holdSteering = false;
  private compareStopped = false;

  constructor(
    private readonly client: EngineClient,
    private readonly store: AppStore,
  ) {}

  private get s() {
    return this.store.getState();
  }

  async probeDevice(): Promise<void> {
    try {
      this.s.setDevice(await this.client.device());
    } catch (err) {
      this.s.loadFailed(message(err));
    }
  }

  async load(): Promise<void> {
    const s = this.s;
    const layers = parseLayers(s.cutLayersInput);
    if (typeof layers === 'string') return s.loadFailed(layers);
    s.loadStarted();
    try {
      const info = await this.client.load(
        { model: s.modelInput, dtype: s.dtypeChoice === 'auto' ? undefined : (s.dtypeChoice as Dtype), cutLayers: layers },
        (p) => this.s.loadProgress(p),
      );
      this.s.loadDone(info);
      this.extracted = {};
      this.s.clearExtractedData();
      await this.pushVectors();
      this.s.clearPoints();
    } catch (err) {
      this.s.loadFailed(message(err));
    }
    void this.refreshCache();
  }

  /** Registers every trait's direction for the loaded model, then the settings. */
  async pushVectors(): Promise<void> {
    const { info, traits, customTraits } = this.s;
    if (!info) return;
    const { vectors, kinds } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, this.extracted);
    this.s.setVectorKinds(kinds);
    try {
      await this.client.setVectors(vectors);
    } catch (err) {
      this.s.setSteeringError(message(err));
      return;
    }
    await this.pushSteering();
  }

  private async sendSettings(settings: TraitSetting[]): Promise<void> {
    await this.client.setSteering(settings);
  }

  /** Sends the current trait settings; the engine applies them from the next token on. */
  async pushSteering(): Promise<void> {
    const { traits, info, setSteeringError } = this.s;
    if (!info || this.holdSteering) return;
    try {
      await this.sendSettings(engineSettings(traits, info));
      setSteeringError(null);
    } catch (err) {
      setSteeringError(message(err));
    }
  }

  /** Runs one generation, handing its tokens to `sink` once per animation frame. */
  private async stream(request: GenerateRequest, sink: (batch: TokenPoint[]) => void): Promise<GenerateResult> {
    const buffer = new FrameBuffer<TokenPoint>(sink, 1 << 16);
    try {
      const it = this.client.generate(request);
      let r = await it.next();
      while (!r.done) {
        buffer.push({ index: r.value.index, text: r.value.text, projections: r.value.projections });
        r = await it.next();
      }
      return r.value;
    } finally {
      buffer.flush();
    }
  }

  private promptMessages(history: ChatMessage[], content: string): ChatMessage[] {
    const sys = this.s.systemPrompt;
    return [...(sys.trim() ? [{ role: 'system' as const, content: sys }] : []), ...history, { role: 'user', content }];
  }

  private busy(): boolean {
    return this.s.streaming !== null || this.s.compareStatus === 'running' || this.s.extractStatus === 'running';
  }

  async send(content: string): Promise<void> {
    const s = this.s;
    if (!content.trim() || this.busy()) return;
    const problem = validateSampling(s.sampling);
    if (problem) return s.replyFailed(problem);
    const messages = this.promptMessages(s.messages, content);
    s.userSent(content);
    s.clearPoints();
    const started = performance.now();
    try {
      const result = await this.stream({ messages, sampling: s.sampling, maxNewTokens: s.maxNewTokens }, (batch) => {
        this.s.replyDelta(batch.map((p) => p.text).join(''));
        this.s.appendPoints(batch);
      });
      this.s.setTokensPerSecond(result.generatedTokens / ((performance.now() - started) / 1000));
      this.s.replyDone(result);
    } catch (err) {
      this.s.replyFailed(message(err));
    }
  }

  /** Re-runs the last user turn (its reply is replaced). */
  async regenerate(): Promise<void> {
    if (this.busy()) return;
    const content = this.s.retractLastTurn();
    if (content !== null) await this.send(content);
  }

  /** Stops the running generation, compare or extraction (the engine stops at the next token). */
  async stop(): Promise<void> {
    if (this.s.compareStatus === 'running') this.compareStopped = true;
    await this.client.stop().catch(() => undefined);
  }

  async clearChat(): Promise<void> {
    this.s.clearChat();
    this.s.clearPoints();
    await this.client.resetCache().catch(() => undefined);
  }

  /**
   * The same prompt and seed twice: unsteered (every intervention off, readout on), then with
   * the current steering, the KV cache reset before each, so both start from the same state.
   */
  async compare(prompt: string): Promise<void> {
    const s = this.s;
    if (!prompt.trim() || this.busy() || !s.info) return;
    const problem = validateSampling(s.sampling);
    if (problem) return s.compareFailed(problem);
    const request = { messages: this.promptMessages([], prompt), sampling: s.sampling, maxNewTokens: s.maxNewTokens, reuseCache: false };
    const steered = engineSettings(s.traits, s.info);
    s.compareStarted(prompt);
    this.holdSteering = true;
    try {
      const run = async (side: CompareSide, settings: TraitSetting[]) => {
        this.s.comparePhaseStarted(side);
        await this.sendSettings(settings);
        await this.client.resetCache();
        await this.stream(request, (batch) => this.s.compareAppend(side, batch));
      };
      this.compareStopped = false;
      await run('unsteered', unsteeredSettings(steered));
      if (!this.compareStopped) await run('steered', steered);
      if (this.compareStopped) this.s.compareFailed('Compare stopped.');
      else this.s.compareDone();
    } catch (err) {
      this.s.compareFailed(message(err));
    } finally {
      this.holdSteering = false;
      await this.client.resetCache().catch(() => undefined);
      await this.pushSteering();
    }
  }

  // ---- traits -------------------------------------------------------------------------

  /**
   * Extracts the built-in traits shown for the loaded model on the user's GPU (cached in the
   * worker), then steers and scores with the extracted directions and calibrations.
   */
  async extractTraits(only?: string[]): Promise<void> {
    const s = this.s;
    if (!s.info || this.busy()) return;
    const ids = traitsForModel(s.traits, s.info.model)
      .filter((t) => !t.custom && (!only || only.includes(t.traitId)))
      .map((t) => t.traitId);
    if (ids.length === 0) return;
    const quick = s.extractQuick ? { maxPairs: 2, maxQuestions: { extraction: 3, evaluation: 3 } } : {};
    s.extractStarted();
    try {
      const result = await this.client.extract({ traits: ids, ...quick }, (p) =>
        this.s.extractProgress(`${p.traitId} (${p.trait + 1}/${p.traits}): ${p.message}`, p.done, p.total),
      );
      for (const t of result.traits) {
        const { vector, data } = fromExtraction(t);
        this.extracted[t.traitId] = vector;
        this.s.setTraitData(t.traitId, data);
      }
      await this.pushVectors();
      const cached = result.traits.filter((t) => t.fromCache).length;
      this.s.extractFinished(
        `Extracted ${result.traits.length} traits in ${(result.elapsedMs / 1000).toFixed(1)} s${cached ? ` (${cached} from the cache)` : ''}.`,
      );
    } catch (err) {
      this.s.extractFailed(err instanceof Error && err.name === 'AbortError' ? 'Extraction stopped.' : `Extraction failed: ${message(err)}`);
    }
  }

  /**
   * A trait from the user's own words: persona pairs from templates, extracted on the loaded
   * model. Only the steerable (cut) layers and the best layer are kept, so share links stay short.
   */
  async createCustomTrait(name: string, high: string, low: string): Promise<void> {
    const s = this.s;
    if (!s.info || this.busy()) return;
    let dataset;
    try {
      dataset = customTrait(name, high, low);
    } catch (err) {
      return s.extractFailed(message(err).replace(/^customTrait: /, ''));
    }
    const quick = s.extractQuick ? { maxPairs: 3, maxQuestions: { extraction: 3, evaluation: 3 } } : {};
    s.extractStarted();
    try {
      const result = await this.client.extract({ traits: [dataset], ...quick }, (p) =>
        this.s.extractProgress(`${dataset.label}: ${p.message}`, p.done, p.total),
      );
      const t = result.traits[0];
      const { vector, data } = fromExtraction(t);
      const keep = new Set([...this.s.info!.cutLayers, t.bestLayer]);
      const layers = Object.fromEntries(Object.entries(vector.layers).filter(([l]) => keep.has(Number(l))));
      this.s.addCustomTrait({ id: dataset.id, label: dataset.label, vector: { ...vector, layers }, ...data });
      await this.pushVectors();
      this.s.extractFinished(`Created "${dataset.label}" (best separated at layer ${t.bestLayer}).`);
    } catch (err) {
      this.s.extractFailed(err instanceof Error && err.name === 'AbortError' ? 'Extraction stopped.' : `Extraction failed: ${message(err)}`);
    }
  }

  /**
   * A vector file (traitlab-vector/1 JSON): for a built-in trait id it becomes that trait's
   * direction (with its calibration and per-layer separation); otherwise a custom trait.
   */
  async importVector(bytes: Uint8Array, fileName: string): Promise<void> {
    try {
      const file = readVectorFile(bytes, this.s.info?.hidden);
      const id = file.trait?.id ?? slugify(fileName.replace(/\.(json|gguf)$/i, ''));
      const data = { calibration: file.calibration, separation: file.separation, bestLayer: file.bestLayer };
      const builtin = this.s.traits.find((t) => t.traitId === id && !t.custom);
      if (builtin) {
        this.extracted[id] = file.vector;
        this.s.setTraitData(id, data);
      } else {
        this.s.addCustomTrait({ id, label: file.trait?.label ?? id, vector: file.vector, ...data });
      }
      this.s.setSteeringError(null);
      await this.pushVectors();
    } catch (err) {
      this.s.setSteeringError(`Could not import ${fileName}: ${message(err)}`);
    }
  }

  /** A trait's direction (GGUF or JSON) or the combined current steering (GGUF), for download. */
  exportVector(what: { traitId: string; format: 'gguf' | 'json' } | 'steering'): VectorDownload | null {
    const { info, traits, customTraits } = this.s;
    try {
      if (!info) throw new Error('Load a model first.');
      const { vectors } = vectorsFor(info, traitsForModel(traits, info.model), customTraits, this.extracted);
      if (what === 'steering') return ggufDownload(steeringVector(info, vectors, engineSettings(traits, info)), 'traitlab-steering');
      const w = vectors.find((v) => v.traitId === what.traitId);
      if (!w) throw new Error(`No vector for "${what.traitId}" on this model.`);
      const vector = { model: w.model, hidden: w.hidden, layers: w.layers };
      const data = this.s.traitData[what.traitId];
      return what.format === 'gguf' ? ggufDownload(vector, what.traitId) : jsonDownload({ vector, ...data }, what.traitId);
    } catch (err) {
      this.s.setSteeringError(`Export failed: ${message(err)}`);
      return null;
    }
  }

  async removeCustomTrait(id: string): Promise<void> {
    this.s.removeCustomTrait(id);
    await this.pushVectors();
  }

  async applyBuiltinPreset(p: BuiltinPreset): Promise<void> {
    this.s.applyBuiltinPreset(p);
    await this.pushSteering();
  }

  // ---- share links ----------------------------------------------------------------------

  share(): string | null {
    return shareCurrent(this.store);
  }

  /** Restores a link's settings (the model download waits for confirmation) or explains why not. */
  async openLink(hash: string): Promise<void> {
    if (applyLink(this.store, hash) && this.s.info) await this.pushVectors();
  }

  async confirmPendingLoad(): Promise<void> {
    await this.load();
  }

  // ---- cache ----------------------------------------------------------------------------

  async refreshCache(): Promise<void> {
    try {
      this.s.setCachedModels(await listCachedModels());
    } catch (err) {
      this.s.setCachedModels(null, message(err));
    }
  }

  async deleteCached(model: string): Promise<void> {
    try {
      await deleteCachedModel(model);
    } catch (err) {
      this.s.setCachedModels(this.s.cachedModels, message(err));
    }
    await this.refreshCache();
  }
}
