/**
 * Drives the real Engine on this page's thread (no worker) so tests can reach its internals:
 * logits with given steering, residual captures at the cuts, greedy generation.
 */
import { configureOrt } from '../../../src/engine/runtime/ort';
import type { GpuBackend } from '../../../src/engine/runtime/gpu-backend';
import type { ModeCode } from '../../../src/steering/mode';
import type { TraitSetting } from '../../../src/steering/plan';
import type { ModelSource, WireVector } from '../../../src/protocol/messages';
import type { ChatMessage } from '../../../src/shared/chat';
import { GREEDY } from '../../../src/shared/sampling';

configureOrt('/ort/');
const { Engine } = await import('../../../src/engine/engine');
const engine = new Engine();

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
    const m = engine.internals();
    engine.setVectors(toWire(opts.vectors, m.info.hidden));
    engine.setSteering(opts.settings);
    const backend = m.backend as GpuBackend;
    const device = m.info.device.webgpu ? ((await (await import('../../../src/engine/runtime/gpu-backend')).ortDevice()) as GPUDevice) : null;
    if (opts.capture) backend.captureResiduals(true);
    const { value, validation } = await withValidation(device, async () => {
      m.forward.cache.clear();
      const logits = await m.forward.forward(opts.tokens);
      const captures = opts.capture ? await backend.takeCaptures() : [];
      const projections = await m.backend.lastProjections();
      return { logits, captures, projections };
    });
    if (opts.capture) backend.captureResiduals(false);
    m.forward.cache.clear();
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
    const m = engine.internals();
    const backend = m.backend as GpuBackend;
    const device = (await (await import('../../../src/engine/runtime/gpu-backend')).ortDevice()) as GPUDevice;
    const plans = opts.plans.map((p) => ({ layer: p.layer, slots: p.slots.map((s, i) => ({ traitId: `t${i}`, ...s, vector: Float32Array.from(s.vector) })) }));
    backend.setPlans(plans);
    if (opts.capture) backend.captureResiduals(true);
    const { value, validation } = await withValidation(device, async () => {
      m.forward.cache.clear();
      const logits = await m.forward.forward(opts.tokens);
      const captures = opts.capture ? await backend.takeCaptures() : [];
      return { logits, captures };
    });
    if (opts.capture) backend.captureResiduals(false);
    m.forward.cache.clear();
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
    return engine.internals().tokenizer.encodeChat(messages);
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
  setSteering(settings: TraitSetting[], vectors: VectorSpec[]) {
    engine.setVectors(toWire(vectors, engine.internals().info.hidden));
    engine.setSteering(settings);
  },
  resetCache() {
    engine.resetCache();
  },
};

(window as unknown as { engineHarness: typeof harness; harnessReady: boolean }).engineHarness = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
