/**
 * A scripted stand-in for the engine client (src/client/engine-client.ts), for unit tests of
 * src/ui/actions/ without a browser or a worker: it records every call in order and answers
 * from a script (replies, load result, extraction result, failures).
 */
import { createActions, type Engine } from '../../src/ui/actions';
import { createAppStore } from '../../src/ui/store';
import type { ExtractProgress, ExtractRequest, ExtractResult } from '../../src/protocol/extraction';
import type { GenerateRequest, GenerateResult, ModelInfo, ModelSource, ProgressInfo, TokenEvent, WireVector } from '../../src/protocol/messages';
import type { DeviceInfo } from '../../src/shared/device';
import type { TraitSetting } from '../../src/steering/plan';
import type { ExtractedTrait } from '../../src/traits/extracted';
import type { TraitIndexEntry } from '../../src/traits/dataset';
import { vectorToJson, type TraitVectorFile } from '../../src/traits/vector-json';

export const DEVICE: DeviceInfo = { webgpu: true, shaderF16: false, adapter: 'fake', limits: { maxBufferSize: 256 << 20 } };

export const INFO: ModelInfo = {
  model: 'org/fake',
  dtype: 'q4',
  style: 'optimum',
  structure: {
    exporter: 'optimum',
    attention: 'decomposed',
    embedding: 'Gather',
    embeddingScaled: false,
    residualOps: 'add',
    writesPerBlock: 2,
    residualType: 'float32',
    tiedLmHead: false,
    cutTensors: { 1: '/model/layers.1/Add_1_output_0', 2: '/model/layers.2/Add_1_output_0' },
  },
  numLayers: 4,
  hidden: 8,
  vocabSize: 10,
  contextLength: 64,
  cutLayers: [1, 2],
  typicalNorm: { 1: 2, 2: 4 },
  device: DEVICE,
  loadMs: 1,
};

export const INDEX: TraitIndexEntry[] = [
  { id: 'openness', label: 'Openness', file: 'openness.json' },
  { id: 'extraversion', label: 'Extraversion', file: 'extraversion.json' },
  { id: 'neuroticism', label: 'Neuroticism', file: 'neuroticism.json' },
  { id: 'planted-cheerful', label: 'Cheerful', file: 'planted-cheerful.json', onlyForModel: 'traitlab/planted-cheerful' },
];

/** The built-in traits shown for INFO's model (planted-cheerful belongs to another model). */
export const SHOWN = ['openness', 'extraversion', 'neuroticism'];

export function freshStore() {
  const store = createAppStore();
  store.getState().setBuiltinTraits(INDEX);
  return store;
}

/** A direction of `hidden` numbers that is `value` everywhere. */
export function filled(hidden: number, value: number): Float32Array {
  return new Float32Array(hidden).fill(value);
}

/** An extraction result for one trait on INFO's model: every layer's direction filled with `value`. */
export function extractedTrait(traitId: string, value = 0.5, fromCache = false): ExtractedTrait {
  const layers: Record<number, Float32Array> = {};
  for (let l = 0; l < INFO.numLayers; l++) layers[l] = filled(INFO.hidden, value + l);
  return {
    traitId,
    method: 'mean-diff',
    positions: 'last',
    model: INFO.model,
    revision: 'main',
    dtype: INFO.dtype,
    hidden: INFO.hidden,
    layers,
    bestLayer: 3,
    separation: [0, 1, 2, 3].map((layer) => ({ layer, effectSize: layer, accuracy: 0.5 + layer / 10, meanHigh: 2 + layer, meanLow: -layer })),
    calibration: { layer: 3, center: 1, scale: 4 },
    datasetVersion: '1',
    prompts: { extraction: 3, evaluation: 3 },
    elapsedMs: 1,
    fromCache,
  };
}

export interface Reply {
  tokens: string[];
  /** Wait for stop() after the tokens, then finish as 'stopped'. */
  holdUntilStop?: boolean;
  /** Thrown after the tokens (and the hold). */
  error?: Error;
}

export type Call =
  | { method: 'device' }
  | { method: 'load'; source: ModelSource }
  | { method: 'generate'; request: GenerateRequest }
  | { method: 'stop' }
  | { method: 'setSteering'; settings: TraitSetting[] }
  | { method: 'setVectors'; vectors: WireVector[] }
  | { method: 'resetCache' }
  | { method: 'extract'; request: ExtractRequest };

export class FakeEngine implements Engine {
  readonly calls: Call[] = [];
  /** One per generate() call, in order; when empty, every reply is DEFAULT_REPLY. */
  replies: Reply[] = [];
  deviceResult: DeviceInfo | Error = DEVICE;
  loadResult: ModelInfo | Error = INFO;
  loadProgress: ProgressInfo[] = [{ phase: 'download', file: 'onnx/model_q4.onnx', loaded: 5, total: 10, message: 'downloading' }];
  extractResult: ExtractResult | Error = { traits: [], elapsedMs: 1500 };
  extractProgress: ExtractProgress[] = [];
  failSetVectors: Error | null = null;
  failSetSteering: Error | null = null;
  failResetCache: Error | null = null;
  private stopWaiters: (() => void)[] = [];

  static readonly DEFAULT_REPLY: Reply = { tokens: ['Hi', ' there'] };

  /** The calls of one method, in order. */
  of<M extends Call['method']>(method: M): Extract<Call, { method: M }>[] {
    return this.calls.filter((c): c is Extract<Call, { method: M }> => c.method === method);
  }

  async device(): Promise<DeviceInfo> {
    this.calls.push({ method: 'device' });
    if (this.deviceResult instanceof Error) throw this.deviceResult;
    return this.deviceResult;
  }

  async load(source: ModelSource, onProgress?: (p: ProgressInfo) => void): Promise<ModelInfo> {
    this.calls.push({ method: 'load', source });
    for (const p of this.loadProgress) onProgress?.(p);
    if (this.loadResult instanceof Error) throw this.loadResult;
    return { ...this.loadResult, model: source.model };
  }

  async *generate(request: GenerateRequest): AsyncGenerator<TokenEvent, GenerateResult> {
    this.calls.push({ method: 'generate', request });
    const reply = this.replies.shift() ?? FakeEngine.DEFAULT_REPLY;
    for (const [index, text] of reply.tokens.entries()) {
      yield { index, tokenId: index, text, projections: { openness: { pre: index, post: index + 0.5 } } };
    }
    if (reply.holdUntilStop) await new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (reply.error) throw reply.error;
    const text = reply.tokens.join('');
    return {
      finishReason: reply.holdUntilStop ? 'stopped' : 'eos',
      promptTokens: 5,
      prefillTokens: 5,
      generatedTokens: reply.tokens.length,
      prefillMs: 1,
      decodeMs: 1,
      text,
    };
  }

  async stop(): Promise<void> {
    this.calls.push({ method: 'stop' });
    for (const wake of this.stopWaiters.splice(0)) wake();
  }

  async setSteering(settings: TraitSetting[]): Promise<void> {
    this.calls.push({ method: 'setSteering', settings });
    if (this.failSetSteering) throw this.failSetSteering;
  }

  async setVectors(vectors: WireVector[]): Promise<void> {
    this.calls.push({ method: 'setVectors', vectors });
    if (this.failSetVectors) throw this.failSetVectors;
  }

  async resetCache(): Promise<void> {
    this.calls.push({ method: 'resetCache' });
    if (this.failResetCache) throw this.failResetCache;
  }

  async extract(request: ExtractRequest, onProgress?: (p: ExtractProgress) => void): Promise<ExtractResult> {
    this.calls.push({ method: 'extract', request });
    for (const p of this.extractProgress) onProgress?.(p);
    if (this.extractResult instanceof Error) throw this.extractResult;
    return this.extractResult;
  }
}

/** Frames run by hand: the frame buffer's flushes wait until the test calls runFrames(). */
export class ManualFrames {
  private pending: (() => void)[] = [];
  readonly schedule = (fn: () => void) => void this.pending.push(fn);
  get count(): number {
    return this.pending.length;
  }
  runFrames(): void {
    for (const fn of this.pending.splice(0)) fn();
  }
}

/** A fresh store, fake engine, hand-run frames and a clock that moves 100 ms per reading, wired by createActions. */
export function setup() {
  const store = freshStore();
  const engine = new FakeEngine();
  const frames = new ManualFrames();
  let t = 0;
  const actions = createActions(store, engine, { schedule: frames.schedule, now: () => (t += 100) });
  return { store, engine, frames, actions, state: () => store.getState() };
}

/** setup() with INFO's model loaded, the engine's call log emptied. */
export async function loaded() {
  const t = setup();
  t.store.getState().setModelInput(INFO.model);
  t.store.getState().setDtypeChoice('auto'); // the first-visit default is the demo's fp32
  await t.actions.session.load();
  t.engine.calls.length = 0;
  return t;
}

/** The bytes of a traitlab-vector/1 JSON file. */
export function vectorFileBytes(file: TraitVectorFile): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(vectorToJson(file)));
}

/** A vector on INFO's model with the given layers, each filled with `value`. */
export function vectorOn(layers: number[], value = 1, hidden = INFO.hidden) {
  return { model: INFO.model, hidden, layers: Object.fromEntries(layers.map((l) => [l, filled(hidden, value)])) as Record<number, Float32Array> };
}
