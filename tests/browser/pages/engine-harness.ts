/**
 * Drives the real Engine on this page's thread (no worker) so tests can reach its parts:
 * logits with given steering, residual captures at the cuts, greedy generation. The engine's
 * own loader is wrapped to keep the LoadedModel it builds.
 */
import { configureOrt } from '../../../src/engine/runtime/ort';
import type { LoadedModel } from '../../../src/engine/load-model';
import type { ModeCode } from '../../../src/steering/mode';
import type { TraitSetting } from '../../../src/steering/plan';
import type { ModelSource, WireVector } from '../../../src/protocol/messages';
import type { ChatMessage } from '../../../src/shared/chat';
import { GREEDY, type SamplingOptions } from '../../../src/shared/sampling';

configureOrt('/ort/');
const { Engine } = await import('../../../src/engine/engine');
const { loadModel } = await import('../../../src/engine/load-model');
const { ModelForward } = await import('../../../src/engine/runtime/model-forward');
const { prefillChunk } = await import('../../../src/engine/runtime/prefill');
const { ortDevice } = await import('../../../src/engine/runtime/gpu-backend');
const { ResidualCapture } = await import('../../support/residual-capture');
const { runDecodeLoop } = await import('../../../src/engine/runtime/decode-loop');
const { ort } = await import('../../../src/engine/runtime/ort');
const counters = await import('../../support/gpu-counters');
counters.installCounters((ort.InferenceSession as unknown as { prototype: object }).prototype);

let loaded: LoadedModel | null = null;
const engine = new Engine({ loadModel: async (source, ctx) => (loaded = await loadModel(source, ctx)) });

function model(): LoadedModel {
  if (!loaded) throw new Error('harness: no model loaded');
  return loaded;
}

/**
 * A fresh prefill's last-token logits through the engine's chain and backend; with `capture`,
 * through a forward whose interventor wraps the backend to copy the residual around it.
 */
async function prefill(tokens: number[], capture: boolean) {
  const m = model();
  m.forward.cache.clear();
  if (!capture) {
    const logits = await m.forward.forward(tokens);
    m.forward.cache.clear();
    return { logits, captures: [] as { pre: Float32Array; post: Float32Array }[] };
  }
  const rc = new ResidualCapture(await ortDevice(), m.backend);
  const forward = new ModelForward(m.chain, rc, m.kv, await ortDevice(), prefillChunk(m.info.structure, m.ep));
  try {
    const logits = await forward.forward(tokens);
    return { logits, captures: await rc.take() };
  } finally {
    forward.cache.clear();
    m.forward.cache.clear();
    rc.dispose();
  }
}

interface VectorSpec {
  traitId: string;
  layers: Record<number, number[]>;
}

function toWire(specs: VectorSpec[], hidden: number): WireVector[] {
  return specs.map((s) => ({
    traitId: s.traitId,
    model: 'test',
    hidden,
    layers: Object.fromEntries(Object.entries(s.layers).map(([k, v]) => [Number(k), Float32Array.from(v)])),
  }));
}

async function withValidation<T>(device: GPUDevice | null, run: () => Promise<T>): Promise<{ value: T; validation: string | null }> {
  device?.pushErrorScope('validation');
  const value = await run();
  const err = device ? await device.popErrorScope() : null;
  return { value, validation: err ? err.message : null };
}

const harness = {
  async load(source: ModelSource) {
    const info = await engine.load(source, () => undefined);
    return info;
  },
  /** Last-token logits of a fresh prefill with the given vectors and settings; optional residual captures. */
  async logits(opts: { tokens: number[]; vectors: VectorSpec[]; settings: TraitSetting[]; capture?: boolean; alphaOverride?: boolean }) {
    const m = model();
    engine.setVectors(toWire(opts.vectors, m.info.hidden));
    engine.setSteering(opts.settings);
    const device = m.info.device.webgpu ? await ortDevice() : null;
    const { value, validation } = await withValidation(device, async () => {
      const { logits, captures } = await prefill(opts.tokens, opts.capture ?? false);
      const projections = await m.backend.lastProjections();
      return { logits, captures, projections };
    });
    return {
      logits: Array.from(value.logits),
      captures: value.captures.map((c) => ({ pre: Array.from(c.pre), post: Array.from(c.post) })),
      projections: value.projections.map((p) => ({ pre: Array.from(p.pre), post: Array.from(p.post) })),
      validation,
    };
  },
  /**
   * Last-token logits with raw kernel plans (alpha in model units, no strength conversion):
   * the level at which the steering invariants are defined.
   */
  async logitsWithPlans(opts: {
    tokens: number[];
    plans: { layer: number; slots: { vector: number[]; mode: ModeCode; alpha: number; target: number }[] }[];
    capture?: boolean;
  }) {
    const m = model();
    const device = await ortDevice();
    const plans = opts.plans.map((p) => ({ layer: p.layer, slots: p.slots.map((s, i) => ({ traitId: `t${i}`, ...s, vector: Float32Array.from(s.vector) })) }));
    m.backend.setPlans(plans);
    const { value, validation } = await withValidation(device, () => prefill(opts.tokens, opts.capture ?? false));
    engine.setSteering([]); // restore the engine's own plans
    return {
      logits: Array.from(value.logits),
      captures: value.captures.map((c) => ({ pre: Array.from(c.pre), post: Array.from(c.post) })),
      validation,
    };
  },
  /** Plans as the engine computes them (alpha per slot) for the current settings. */
  plans() {
    return engine.plans().map((p) => ({ layer: p.layer, slots: p.slots.map((s) => ({ traitId: s.traitId, mode: s.mode, alpha: s.alpha, target: s.target })) }));
  },
  encodeChat(messages: ChatMessage[]) {
    return model().tokenizer.encodeChat(messages);
  },
  /**
   * Last-token logits of `tokens` two ways through the engine's forward: the last `steps` tokens
   * decoded one at a time (one-token passes: the cuts' residuals in the buffers bound at load)
   * after a prefill of the rest, and one fresh prefill of them all (ORT-allocated residuals).
   */
  async decodeVsPrefill(tokens: number[], steps: number) {
    const m = model();
    const { value, validation } = await withValidation(await ortDevice(), async () => {
      m.forward.cache.clear();
      let decoded = await m.forward.forward(tokens.slice(0, tokens.length - steps));
      for (const t of tokens.slice(tokens.length - steps)) decoded = await m.forward.forward([t]);
      m.forward.cache.clear();
      const prefilled = await m.forward.forward(tokens);
      m.forward.cache.clear();
      return { decoded: Array.from(decoded), prefilled: Array.from(prefilled) };
    });
    return { ...value, validation };
  },
  /** Greedy generation through the engine's public generate(). */
  async generate(messages: ChatMessage[], maxNewTokens: number, reuseCache = true) {
    const tokens: number[] = [];
    const projections: unknown[] = [];
    const result = await engine.generate({ messages, sampling: GREEDY, maxNewTokens, reuseCache }, (t) => {
      tokens.push(t.tokenId);
      projections.push(t.projections);
    });
    return { tokens, projections, result };
  },
  /**
   * engine.generate() with `sampling` (the GPU sampling path), the GPU work counted per step
   * (gpu-counters.ts), and the same prompt through the CPU path (forward() logits +
   * Sampler.next, same steering) for comparison. EOS is ignored on both paths.
   */
  async generateCounted(messages: ChatMessage[], maxNewTokens: number, sampling: SamplingOptions) {
    const m = model();
    const eos = m.eos;
    m.eos = [];
    try {
      const tokens: number[] = [];
      const snaps = [counters.snapshot()];
      await engine.generate({ messages, sampling, maxNewTokens, reuseCache: false }, (t) => {
        snaps.push(counters.snapshot());
        tokens.push(t.tokenId);
      });
      const steps = snaps.slice(1).map((s, i) => counters.diff(s, snaps[i]));
      const cpuModel = { cache: m.forward.cache, forward: (t: number[]) => m.forward.forward(t) };
      const cpu = await runDecodeLoop(cpuModel, m.tokenizer.encodeChat(messages), {
        sampling,
        maxNewTokens,
        eos: [],
        contextLength: m.info.contextLength,
        reuseCache: false,
        shouldStop: () => false,
        onToken: () => undefined,
      });
      m.forward.cache.clear();
      return { tokens, cpuTokens: cpu.generated, steps, fallbacks: m.forward.samplingStats?.fallbacks ?? 0 };
    } finally {
      m.eos = eos;
    }
  },
  setSteering(settings: TraitSetting[], vectors: VectorSpec[]) {
    engine.setVectors(toWire(vectors, model().info.hidden));
    engine.setSteering(settings);
  },
  resetCache() {
    engine.resetCache();
  },
};

(window as unknown as { engineHarness: typeof harness; harnessReady: boolean }).engineHarness = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
