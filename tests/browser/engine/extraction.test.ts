/**
 * Trait extraction on WebGPU (headless Chromium, SwiftShader) through
 * tests/browser/pages/extraction-harness.ts:
 *  - Engine.extract on tiny-llama against an onnxruntime-node reference (tapResiduals + the
 *    CPU math of src/traits/extract-math.ts on the very same tokens);
 *  - the planted-trait model: both methods recover the planted direction at the planted layer,
 *    the layer rule picks it, held-out readout separates the personas, calibration maps the
 *    held-out means to ±1;
 *  - the IndexedDB cache (second run identical, fromCache) and cancellation (engine still usable).
 * Prompt counts are kept small (SwiftShader on 2 cores). The statistics kernels themselves
 * (stats.wgsl, pca.wgsl) are checked against their CPU twins in tests/browser/engine/kernels/.
 */
import { readControlVector, writeControlVector } from '../../../src/traits/gguf';
import { readFileSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED } from '../../../src/testmodels/planted';
import { score } from '../../../src/traits/calibration';
import { project } from '../../../src/traits/extract-math';
import { cosine, unitVector } from '../../../src/steering/vector';
import { checkAgainstCpu, cpuActivations, cpuExtract, cpuTapped, unb64, type PromptSet } from '../../support/extraction-reference';
import type { ExtractRequest } from '../../../src/protocol/extraction';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import type { ExtractionHarness, WireExtracted } from '../pages/extraction-harness';

// ---------- helpers ----------

let browser: BrowserHandle;
let page: Page;

function call<K extends keyof ExtractionHarness>(fn: K, ...args: Parameters<ExtractionHarness[K]>): Promise<Awaited<ReturnType<ExtractionHarness[K]>>> {
  return page.evaluate(
    ([f, a]) => (window as unknown as { extraction: Record<string, (...x: unknown[]) => unknown> }).extraction[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<Awaited<ReturnType<ExtractionHarness[K]>>>;
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.open('/tests/browser/pages/extraction.html');
});

afterAll(async () => {
  await browser?.close();
});

// ---------- tiny-llama vs CPU ----------

// The built-in chats are ~140 tokens with the tiny byte-level tokenizer (~1 s per prefill on
// SwiftShader): the CPU comparisons use a short trait and short questions instead.
const SHORT_TRAIT = {
  format: 'traitlab-trait/1' as const,
  id: 'short-test',
  label: 'Short test trait',
  description: '',
  high: 'loud',
  low: 'quiet',
  pairs: ['loud/quiet', 'bold/shy', 'wild/calm', 'glad/sad', 'fast/slow'].map((w) => ({ high: `Be ${w.split('/')[0]}.`, low: `Be ${w.split('/')[1]}.` })),
};
const SHORT_QUESTIONS = {
  format: 'traitlab-questions/1' as const,
  version: 'short-1',
  questions: ['Hi?', 'Why?', 'Cats?', 'Rain?', 'Tea?', 'Sea?', 'Sun?', 'Art?', 'Maps?', 'Jazz?'],
  split: { extraction: [0, 2, 4, 6, 8], evaluation: [1, 3, 5, 7, 9] },
};

describe('extraction on tiny-llama (fp32, Optimum) vs onnxruntime-node', () => {
  const NUM_LAYERS = 4;
  const HIDDEN = 64;
  const KV = { heads: 2, dim: 16 };
  const base: ExtractRequest = { traits: [SHORT_TRAIT], questions: SHORT_QUESTIONS, maxPairs: 3, maxQuestions: { extraction: 3, evaluation: 2 }, cache: false };
  let session: ort.InferenceSession;
  let first: WireExtracted;

  beforeAll(async () => {
    const info = await call('load', { model: 'traitlab/tiny-llama', remoteHost: `${baseUrl()}/hub/`, dtype: 'fp32' });
    expect(info.numLayers).toBe(NUM_LAYERS);
    session = await cpuTapped('.models/traitlab/tiny-llama/onnx/model.onnx', NUM_LAYERS);
    await call('clearCache');
  });

  const cases: { method: 'mean-diff' | 'pca'; positions: 'last' | 'reply-prompt'; req: ExtractRequest; prompts: [number, number] }[] = [
    { method: 'mean-diff', positions: 'last', req: { ...base, cache: true }, prompts: [18, 12] },
    { method: 'pca', positions: 'last', req: { ...base, cache: true }, prompts: [18, 12] },
    { method: 'mean-diff', positions: 'reply-prompt', req: { ...base, maxPairs: 2, maxQuestions: { extraction: 2, evaluation: 2 } }, prompts: [8, 8] },
  ];
  for (const c of cases) {
    it(`${c.method}, positions=${c.positions}: vectors (cos > 0.999), separation, layer and calibration match`, async () => {
      const req: ExtractRequest = { ...c.req, method: c.method, positions: c.positions };
      const [set] = await call('prompts', req);
      const r = await call('extract', req);
      expect(r.error).toBeNull();
      expect(r.validation).toBeNull();
      expect(r.traits).toHaveLength(1);
      const gpu = r.traits[0];
      // (The pca run uses the cache too: another method is another key.)
      expect(gpu).toMatchObject({
        traitId: 'short-test',
        method: c.method,
        positions: c.positions,
        fromCache: false,
        prompts: { extraction: c.prompts[0], evaluation: c.prompts[1] },
        datasetVersion: set.version,
        dtype: 'fp32',
      });
      expect(Object.keys(gpu.layers).map(Number)).toEqual([0, 1, 2, 3]);
      // One progress event per prompt (plus a 0/n start per phase).
      expect(r.progress.filter((p) => p.includes(':extraction:') && !p.includes(':0/'))).toHaveLength(c.prompts[0]);
      expect(r.progress.filter((p) => p.includes(':evaluation:') && !p.includes(':0/'))).toHaveLength(c.prompts[1]);
      const acts = await cpuActivations(session, set, NUM_LAYERS, HIDDEN, KV);
      checkAgainstCpu(gpu, cpuExtract(acts, c.method, NUM_LAYERS, 100), NUM_LAYERS);
      if (c.method === 'mean-diff' && c.positions === 'last') first = gpu;
    });
  }

  it('cache: a second extraction comes from IndexedDB with identical floats', async () => {
    expect(first, 'needs the first mean-diff run').toBeDefined();
    const second = await call('extract', { ...base, cache: true, method: 'mean-diff' });
    expect(second.error).toBeNull();
    expect(second.traits[0].fromCache).toBe(true);
    expect(second.progress.some((p) => p.includes(':cached:'))).toBe(true);
    expect(second.progress.some((p) => p.includes(':extraction:'))).toBe(false);
    expect(second.traits[0].layers).toEqual(first.layers); // base64 of the f32 bytes: bit-identical
    expect(second.traits[0].calibration).toEqual(first.calibration);
    expect(second.traits[0].separation).toEqual(first.separation);
    // Same trait with other prompts: another dataset version, so not cached.
    const [other] = await call('prompts', { ...base, maxQuestions: { extraction: 1, evaluation: 1 } });
    expect(other.version).not.toBe(first.datasetVersion);
  });

  it('cancellation: stop() between prompts rejects with AbortError and the engine stays usable', async () => {
    const chat = [{ role: 'user' as const, content: 'Hello there.' }];
    const before = await call('logits', chat);
    const stopped = await call('extract', { ...base, method: 'pca' }, 3);
    expect(stopped.error?.name).toBe('AbortError');
    expect(stopped.validation).toBeNull();
    expect(stopped.traits).toHaveLength(0);
    expect(stopped.progress.filter((p) => p.includes(':extraction:')).length).toBeLessThanOrEqual(3);
    // The engine's own sessions are untouched: the same logits, bit for bit.
    expect(await call('logits', chat)).toBe(before);
  });

  it('forwards-only baseline (bench) runs the same prompts through a new tapped session; built-in traits by id', async () => {
    const req: ExtractRequest = { traits: ['extraversion'], traitsBaseUrl: '/traits/', maxPairs: 1, maxQuestions: { extraction: 1, evaluation: 1 } };
    const [set] = await call('prompts', req);
    const r = await call('forwardsOnly', req);
    expect(r.prompts).toBe(4);
    const tokens = [...set.extraction, ...set.evaluation].reduce((n, p) => n + p.high.tokens.length + p.low.tokens.length, 0);
    expect(r.tokens).toBe(tokens);
    expect(r.forwardMs).toBeGreaterThan(0);
  });
});

// ---------- model-builder graphs (GroupQueryAttention) with long prompts ----------

// ORT WebGPU's GroupQueryAttention is wrong for prefills of >= 32 new tokens in one pass; the
// tapped extraction session must prefill in chunks like generation does (runtime/prefill.ts).
const LONG_TRAIT = {
  ...SHORT_TRAIT,
  id: 'long-test',
  pairs: ['loud/quiet', 'bold/shy', 'wild/calm', 'glad/sad', 'fast/slow'].map((w) => {
    const [hi, lo] = w.split('/');
    return {
      high: `You are always very ${hi} in every single reply you give to anyone.`,
      low: `You are always very ${lo} in every single reply you give to anyone.`,
    };
  }),
};

describe.each([
  { model: 'traitlab/tiny-llama-mb', file: 'model_q4.onnx', what: 'model builder, q4' },
  { model: 'traitlab/tiny-gemma3', file: 'model_q4.onnx', what: 'gemma-3 script, q4' },
])('extraction on $model ($what, GroupQueryAttention) with prompts over 32 tokens vs onnxruntime-node', ({ model, file }) => {
  const NUM_LAYERS = 4;
  const HIDDEN = 64;
  const KV = { heads: 2, dim: 16 };
  const req: ExtractRequest = {
    traits: [LONG_TRAIT],
    questions: SHORT_QUESTIONS,
    maxPairs: 2,
    maxQuestions: { extraction: 2, evaluation: 2 },
    cache: false,
    method: 'mean-diff',
  };

  it('vectors, separation, layer and calibration match the CPU reference', async () => {
    const info = await call('load', { model, remoteHost: `${baseUrl()}/hub/`, dtype: 'q4' });
    expect(info.numLayers).toBe(NUM_LAYERS);
    const session = await cpuTapped(`.models/${model}/onnx/${file}`, NUM_LAYERS);
    const [set] = await call('prompts', req);
    for (const p of [...set.extraction, ...set.evaluation]) for (const side of [p.high, p.low]) expect(side.tokens.length).toBeGreaterThan(40);
    const r = await call('extract', req);
    expect(r.error).toBeNull();
    expect(r.validation).toBeNull();
    checkAgainstCpu(r.traits[0], cpuExtract(await cpuActivations(session, set, NUM_LAYERS, HIDDEN, KV), 'mean-diff', NUM_LAYERS, 100), NUM_LAYERS);
  });
});

// ---------- planted-trait model ----------

describe('extraction on the planted-trait model', () => {
  const C = PLANTED.config;
  const P = PLANTED.layer;
  const KV = { heads: C.numKvHeads, dim: C.headDim };
  const req: ExtractRequest = {
    traits: ['planted-cheerful'],
    maxPairs: 2,
    maxQuestions: { extraction: 2, evaluation: 2 },
    cache: false,
    traitsBaseUrl: '/traits/',
  };
  let session: ort.InferenceSession;
  let set: PromptSet;
  let heldAtP: { high: Float32Array[]; low: Float32Array[] };

  beforeAll(async () => {
    const info = await call('load', { model: PLANTED.modelId, remoteHost: `${baseUrl()}/hub/`, dtype: 'fp32' });
    expect(info.numLayers).toBe(C.numLayers);
    session = await cpuTapped(`.models/${PLANTED.modelId}/onnx/model.onnx`, C.numLayers);
    [set] = await call('prompts', req);
    const acts = await cpuActivations(session, { ...set, extraction: [] }, C.numLayers, C.hiddenSize, KV);
    heldAtP = { high: acts.held.high[P], low: acts.held.low[P] };
  });

  for (const method of ['mean-diff', 'pca'] as const) {
    it(`${method}: recovers the planted direction, picks the planted layer, separates and calibrates held-out personas`, async () => {
      const r = await call('extract', { ...req, method });
      expect(r.error).toBeNull();
      expect(r.validation).toBeNull();
      const t = r.traits[0];
      const v = unb64(t.layers[P]);
      const cos = cosine(v, PLANTED.direction);
      const sepP = t.separation.find((s) => s.layer === P)!;
      console.log(
        `planted ${method}: cos(v_P, d) = ${cos.toFixed(4)}; best layer ${t.bestLayer}; d at P ${sepP.effectSize.toFixed(2)}; ` +
          t.separation.map((s) => `L${s.layer} d=${s.effectSize.toFixed(2)}`).join(' '),
      );
      expect(cos).toBeGreaterThan(0.9);
      expect(t.bestLayer).toBe(P);
      expect(sepP.accuracy).toBe(1);
      for (const s of t.separation) if (s.layer !== P) expect(s.effectSize).toBeLessThan(sepP.effectSize);
      // Calibration: held-out means (recomputed on the CPU with the GPU's vector) read as ±1.
      const u = unitVector(v);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const cal = { center: t.calibration.center, scale: t.calibration.scale };
      expect(t.calibration.layer).toBe(P);
      expect(score(mean(project(heldAtP.high, u)), cal)).toBeCloseTo(1, 2);
      expect(score(mean(project(heldAtP.low, u)), cal)).toBeCloseTo(-1, 2);
    });
  }

  it('every built-in trait extracts, is cached, and reloads from the cache bit for bit (GGUF round trip too)', async () => {
    const index = JSON.parse(readFileSync('public/traits/index.json', 'utf8')) as { traits: { id: string }[] };
    const ids = index.traits.map((t) => t.id);
    expect(ids.length).toBeGreaterThanOrEqual(9); // Big Five + 3 user traits + the planted one
    const quick: ExtractRequest = { traits: ids, traitsBaseUrl: '/traits/', maxPairs: 1, maxQuestions: { extraction: 1, evaluation: 1 } };
    await call('clearCache');
    const first = await call('extract', quick);
    expect(first.error).toBeNull();
    expect(first.validation).toBeNull();
    expect(first.traits.map((t) => t.traitId).sort()).toEqual([...ids].sort());
    expect(first.traits.every((t) => !t.fromCache)).toBe(true);
    const again = await call('extract', quick);
    expect(again.traits.every((t) => t.fromCache)).toBe(true);
    expect(again.progress.some((p) => p.includes(':extraction:'))).toBe(false);
    for (const [i, t] of again.traits.entries()) {
      expect(t.layers).toEqual(first.traits[i].layers);
      // llama.cpp GGUF round trip: identical floats for every layer it can hold (1..n-1).
      const layers = Object.fromEntries(
        Object.entries(t.layers)
          .filter(([l]) => Number(l) > 0)
          .map(([l, b]) => [Number(l), unb64(b)]),
      );
      const back = readControlVector(writeControlVector({ model: PLANTED.modelId, hidden: C.hiddenSize, layers }), C.hiddenSize);
      for (const [l, x] of Object.entries(layers)) expect(Array.from(back.layers[Number(l)])).toEqual(Array.from(x));
    }
  }, 600_000); // nine traits on 2 shared cores: minutes under load
});
