/**
 * Browser harness for tests/browser/extraction.test.ts: the extraction statistics kernels on
 * ORT's WebGPU device, and the real Engine's extract() on this page's thread (no worker), so the
 * test can compare with onnxruntime-node references. Floats travel as base64 of f32 bytes.
 */
import { configureOrt } from '../../../src/engine/runtime/ort';
import type { ExtractProgress, ExtractRequest } from '../../../src/protocol/extraction';
import type { ModelSource } from '../../../src/protocol/messages';
import type { ChatMessage } from '../../../src/shared/chat';
import type { LoadedModel } from '../../../src/engine/load-model';
import type { ExtractionResponse } from '../../../src/traits/extracted';

configureOrt('/ort/');
const { Engine } = await import('../../../src/engine/engine');
const { StatsPass } = await import('../../../src/engine/kernels/stats-pass');
const { PcaPass } = await import('../../../src/engine/kernels/pca-pass');
const { readBuffer } = await import('../../../src/engine/kernels/gpu-buffers');
const { ortDevice } = await import('../../../src/engine/runtime/gpu-backend');
const { resolveTraits, prepareTrait, tokenizePairs } = await import('../../../src/engine/extraction/run');
const { VectorCache } = await import('../../../src/traits/vector-cache');
const { loadModel, tappedSource } = await import('../../../src/engine/load-model');
const { TappedSession } = await import('../../../src/engine/extraction/tapped-session');
const { runForwardsOnly } = await import('../../../bench/forwards-only');

// The engine's own loader, wrapped to keep the LoadedModel it builds.
let loaded: LoadedModel | null = null;
const engine = new Engine({ loadModel: async (source, ctx) => (loaded = await loadModel(source, ctx)) });

function model(): LoadedModel {
  if (!loaded) throw new Error('harness: no model loaded');
  return loaded;
}

function fromB64(s: string): Float32Array<ArrayBuffer> {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function toB64(a: Float32Array | ArrayBuffer): string {
  const bytes = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export interface StatsCase {
  hidden: number;
  layers: number;
  maxPairs: number;
  /** Each prompt: one residual `// [rows, hidden]` (base64) per layer slot, pooled over [first, first + count). */
  prompts: { residuals: string[]; first: number; count: number; cls: 0 | 1; pair?: number }[];
  nHigh: number;
  nLow: number;
  pca?: { pairs: number; iterations: number; center: boolean };
  /** Extra bytes after each residual (like ORT's rounded-up buffers). */
  padBytes?: number;
  maxWorkgroupsPerDimension?: number;
  /** Submit once per prompt (like extraction) instead of one command buffer. */
  submitEach?: boolean;
}

export interface StatsResult {
  sums: string;
  diffs: string;
  meanDiff: string;
  pca: string | null;
  error: string | null;
  exception: string | null;
}

let ownDevice: Promise<GPUDevice> | null = null;

/** A device of our own for kernel cases (they need no model; ORT's device exists only after a load). */
async function kernelDevice(): Promise<GPUDevice> {
  ownDevice ??= (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    const device = await adapter.requestDevice({ label: 'extraction-harness device' });
    device.addEventListener('uncapturederror', (e) => console.error('uncaptured WebGPU error:', (e as GPUUncapturedErrorEvent).error.message));
    return device;
  })();
  return ownDevice;
}

async function runStats(spec: StatsCase): Promise<StatsResult> {
  const device = await kernelDevice();
  const created: GPUBuffer[] = [];
  const owned: { destroy(): void }[] = [];
  let exception: string | null = null;
  let result: Omit<StatsResult, 'error' | 'exception'> = { sums: '', diffs: '', meanDiff: '', pca: null };
  device.pushErrorScope('validation');
  try {
    const stats = new StatsPass(device, {
      hidden: spec.hidden,
      layers: spec.layers,
      maxPairs: spec.maxPairs,
      label: 'test.stats',
      maxWorkgroupsPerDimension: spec.maxWorkgroupsPerDimension,
    });
    owned.push(stats);
    let enc = device.createCommandEncoder({ label: 'test.stats.encoder' });
    stats.encodeReset(enc);
    for (const p of spec.prompts) {
      p.residuals.forEach((b64, layer) => {
        const h = fromB64(b64);
        const buf = device.createBuffer({
          label: `test.residual.l${layer}`,
          size: h.byteLength + (spec.padBytes ?? 0),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        created.push(buf);
        device.queue.writeBuffer(buf, 0, h);
        stats.encodeAccumulate(enc, buf, { layer, first: p.first, count: p.count, cls: p.cls, pair: p.pair });
      });
      if (spec.submitEach) {
        device.queue.submit([enc.finish()]);
        stats.releaseCallBuffers();
        enc = device.createCommandEncoder({ label: 'test.stats.encoder' });
      }
    }
    stats.encodeMeanDiff(enc, spec.nHigh, spec.nLow);
    let pcaOut: GPUBuffer | null = null;
    if (spec.pca) {
      const pca = new PcaPass(device, { hidden: spec.hidden, layers: spec.layers, label: 'test.pca' });
      owned.push(pca);
      pcaOut = pca.encode(enc, stats.diffs, stats.meanDiff, spec.pca);
    }
    device.queue.submit([enc.finish()]);
    result = {
      sums: toB64(await readBuffer(device, stats.sums, 0, 2 * spec.layers * spec.hidden * 4)),
      diffs: toB64(await readBuffer(device, stats.diffs, 0, Math.max(1, spec.maxPairs) * spec.layers * spec.hidden * 4)),
      meanDiff: toB64(await readBuffer(device, stats.meanDiff, 0, spec.layers * spec.hidden * 4)),
      pca: pcaOut ? toB64(await readBuffer(device, pcaOut, 0, spec.layers * spec.hidden * 4)) : null,
    };
  } catch (e) {
    exception = e instanceof Error ? e.message : String(e);
  }
  const err = await device.popErrorScope();
  for (const o of owned) o.destroy();
  for (const b of created) b.destroy();
  return { ...result, error: err ? err.message : null, exception };
}

/** An extraction result with Float32Arrays as base64 (JSON-safe). */
export interface WireExtracted {
  traitId: string;
  method: string;
  positions: string;
  layers: Record<string, string>;
  bestLayer: number;
  separation: { layer: number; effectSize: number; accuracy: number; meanHigh: number; meanLow: number }[];
  calibration: { layer: number; center: number; scale: number };
  datasetVersion: string;
  prompts: { extraction: number; evaluation: number };
  fromCache: boolean;
  elapsedMs: number;
  model: string;
  revision: string;
  dtype: string;
  responseTokens?: number;
  responses?: ExtractionResponse[];
}

const harness = {
  runStats,
  async load(source: ModelSource) {
    return engine.load(source, () => undefined);
  },
  /** The token lists (and pooled ranges) extract() will run for `request`, for CPU references. */
  async prompts(request: ExtractRequest) {
    const { traits, questions } = await resolveTraits(request);
    const tok = model().tokenizer;
    return traits.map((t) => {
      const p = prepareTrait(t, questions, request);
      return {
        traitId: t.id,
        version: p.version,
        extraction: tokenizePairs(tok, p.extraction, request.positions ?? 'last'),
        evaluation: tokenizePairs(tok, p.evaluation, request.positions ?? 'last'),
      };
    });
  },
  /** engine.extract inside a validation error scope; `stopAfter` progress events → engine.stop(). */
  async extract(request: ExtractRequest, stopAfter?: number) {
    const device = await ortDevice();
    const progress: ExtractProgress[] = [];
    device.pushErrorScope('validation');
    let error: { name: string; message: string } | null = null;
    let traits: WireExtracted[] = [];
    try {
      const r = await engine.extract(request, (p) => {
        progress.push(p);
        if (stopAfter !== undefined && progress.length >= stopAfter) engine.stop();
      });
      traits = r.traits.map((t) => ({ ...t, layers: Object.fromEntries(Object.entries(t.layers).map(([k, v]) => [k, toB64(v)])) }));
    } catch (e) {
      error = { name: (e as Error).name, message: (e as Error).message };
    }
    const v = await device.popErrorScope();
    return { traits, error, validation: v ? v.message : null, progress: progress.map((p) => `${p.traitId}:${p.phase}:${p.done}/${p.total}`) };
  },
  /** Diagnostics only: every tapped layer's full residual `// [tokens, hidden]` (base64) for one prompt. */
  async residuals(tokens: number[]) {
    const m = model();
    const session = await TappedSession.create(
      await tappedSource(m),
      Array.from({ length: m.info.numLayers }, (_, i) => i),
    );
    try {
      const out = await session.run(tokens);
      const device = await ortDevice();
      const res: string[] = [];
      for (const t of out) {
        res.push(toB64(await readBuffer(device, t.gpuBuffer as GPUBuffer, 0, tokens.length * t.dims[2] * 4)));
        t.dispose();
      }
      return res;
    } finally {
      await session.release();
    }
  },
  /** The bench's forwards-only baseline (bench/forwards-only.ts) through the engine's extraction host. */
  async forwardsOnly(request: ExtractRequest) {
    return runForwardsOnly(await engine.extractionHost(), request);
  },
  /** The loaded model's EOS ids (what generation stops at). */
  eos() {
    return model().eos;
  },
  /** Steer the engine's chat generation with `vector` (base64 f32) at `layer`: extraction replies must not see it. */
  steer(vector: string, layer: number, strength: number) {
    const m = model();
    engine.setVectors([{ traitId: 'test-steer', model: m.info.model, hidden: m.info.hidden, layers: { [layer]: fromB64(vector) } }]);
    engine.setSteering([{ traitId: 'test-steer', strength, mode: 'add', layer, enabled: true }]);
  },
  /** Greedy reply of the engine's own (steered) chat forward, for contrast with extraction's unsteered replies. */
  async chatGreedy(tokens: number[], maxNew: number) {
    const m = model();
    m.forward.cache.clear();
    const out: number[] = [];
    let next = tokens;
    for (let i = 0; i < maxNew; i++) {
      const logits = await m.forward.forward(next);
      let best = 0;
      for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
      out.push(best);
      next = [best];
    }
    m.forward.cache.clear();
    return out;
  },
  async clearCache() {
    await new VectorCache().clear();
  },
  /** Last-token logits of a fresh prefill through the engine's own (cut) chain, base64 f32. */
  async logits(messages: ChatMessage[]) {
    const m = model();
    m.forward.cache.clear();
    const out = await m.forward.forward(m.tokenizer.encodeChat(messages));
    m.forward.cache.clear();
    return toB64(out);
  },
};

export type ExtractionHarness = typeof harness;
(window as unknown as { extraction: typeof harness }).extraction = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
