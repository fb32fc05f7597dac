/**
 * The steering engine end to end in headless Chromium WebGPU (SwiftShader): real hub-layout
 * loading from the local server, the cut model as ORT sessions with our kernels between them,
 * steering invariants, and generation against onnxruntime-node CPU references.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertResidualAdd } from '../../support/steer-reference';
import { mulberry32 } from '../../../src/shared/rng';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import { compareGreedy, cpuSession, greedyNoCache, lastLogits } from '../../support/cpu-reference';

const SHAPE = { kvHeads: 2, headDim: 16 };
const HIDDEN = 64;

function randomVector(seed: number, n = HIDDEN): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround(r() * 2 - 1));
}

/** WebGPU vs onnxruntime-node CPU: WGSL transcendental and summation-order differences. */
const TOL = 5e-3;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sameBits(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const excess = Math.abs(got[i] - ref[i]) - (atol + rtol * Math.abs(ref[i]));
    worst = Math.max(worst, excess);
  }
  expect(worst).toBeLessThanOrEqual(0);
}

type H = {
  load: (s: unknown) => Promise<{
    cutLayers: number[];
    typicalNorm: Record<number, number>;
    hidden: number;
    style: string;
    dtype: string;
    structure?: { cutTensors: Record<number, string> };
  }>;
  logitsWithPlans: (o: unknown) => Promise<{ logits: number[]; captures: { pre: number[]; post: number[] }[]; validation: string | null }>;
  logits: (o: unknown) => Promise<{ logits: number[]; projections: { pre: number[]; post: number[] }[]; validation: string | null }>;
  encodeChat: (m: unknown) => number[];
  generate: (
    m: unknown,
    n: number,
    reuse?: boolean,
  ) => Promise<{
    tokens: number[];
    projections: Record<string, { pre: number; post: number }>[];
    result: { finishReason: string; promptTokens: number; prefillTokens: number; text: string };
  }>;
  setSteering: (s: unknown, v: unknown) => void;
};

function call<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([f, a]) => (window as unknown as { engineHarness: Record<string, (...x: unknown[]) => unknown> }).engineHarness[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;
}

let browser: BrowserHandle;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const MESSAGES = [{ role: 'user', content: 'Tell me about the sea.' }];

describe('engine: tiny-llama fp32 (Optimum export), cut after layers 1 and 2', () => {
  let page: Page;
  let tokens: number[];
  const v = randomVector(1);
  const w = randomVector(2);

  beforeAll(async () => {
    page = await browser.open('/tests/browser/pages/engine.html');
    // A hub id, resolved against the local server in the hub's URL layout.
    const info = await call<Awaited<ReturnType<H['load']>>>(page, 'load', {
      model: 'traitlab/tiny-llama',
      remoteHost: `${baseUrl()}/hub/`,
      dtype: 'fp32',
      cutLayers: [2, 1],
    });
    expect(info.cutLayers).toEqual([1, 2]);
    expect(info.style).toBe('optimum');
    tokens = await call<number[]>(page, 'encodeChat', MESSAGES);
  });

  const plans = (slots1: unknown[], slots2: unknown[]) => [
    { layer: 1, slots: slots1 },
    { layer: 2, slots: slots2 },
  ];
  const add = (vector: number[], alpha: number) => ({ vector, mode: 1, alpha, target: 0 });

  it('strength 0 equals no steering bit for bit', async () => {
    const none = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([], []) });
    const zero = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([add(v, 0)], [add(w, 0)]) });
    expect(none.validation).toBeNull();
    expect(zero.validation).toBeNull();
    expect(sameBits(zero.logits, none.logits)).toBe(true);
    const steered = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([add(v, 4)], []) });
    expect(sameBits(steered.logits, none.logits)).toBe(false);
  });

  it('(v, 2) equals (2v, 1) bit for bit', async () => {
    const a = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([add(v, 2)], []) });
    const b = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', {
      tokens,
      plans: plans(
        [
          add(
            v.map((x) => 2 * x),
            1,
          ),
        ],
        [],
      ),
    });
    expect(sameBits(a.logits, b.logits)).toBe(true);
  });

  it('v then -v returns the baseline', async () => {
    const base = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([], []) });
    const back = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', {
      tokens,
      plans: plans(
        [
          add(v, 3),
          add(
            v.map((x) => -x),
            3,
          ),
        ],
        [],
      ),
    });
    expectClose(back.logits, base.logits, 1e-4, 1e-4);
  });

  it('layers before the steered one are untouched; the steered layer equals original + alpha*v', async () => {
    const base = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([], []), capture: true });
    const alpha = 1.5;
    const steered = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', {
      tokens,
      plans: plans([], [add(w, alpha)]),
      capture: true,
    });
    expect(steered.validation).toBeNull();
    // Cut 0 (layer 1) comes before the steered layer 2: identical, before and after.
    expect(sameBits(steered.captures[0].pre, base.captures[0].pre)).toBe(true);
    expect(sameBits(steered.captures[0].post, base.captures[0].post)).toBe(true);
    // Layer 2 itself: the residual arriving is unchanged, the one leaving is original + alpha*w on every token.
    expect(sameBits(steered.captures[1].pre, base.captures[1].pre)).toBe(true);
    const pre = steered.captures[1].pre;
    const expected = pre.map((x, i) => Math.fround(x + Math.fround(alpha * w[i % HIDDEN])));
    expect(sameBits(steered.captures[1].post, expected)).toBe(true);
    expect(pre.length).toBe(tokens.length * HIDDEN);
  });

  it('cut model equals the uncut model, and steering equals a reference graph with an Add node (onnxruntime-node CPU)', async () => {
    const path = '.models/traitlab/tiny-llama/onnx/model.onnx';
    const bytes = readFileSync(path);
    const base = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([], []) });
    const baseRef = await lastLogits(await cpuSession(bytes, path), tokens, SHAPE);
    expectClose(base.logits, baseRef, TOL, TOL);
    const alpha = 2;
    const steered = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens, plans: plans([add(v, alpha)], []) });
    const ref = insertResidualAdd(
      bytes,
      1,
      Float32Array.from(v, (x) => alpha * x),
    );
    const refLogits = await lastLogits(await cpuSession(ref, path), tokens, SHAPE);
    expectClose(steered.logits, refLogits, TOL, TOL);
    // The steering effect is far larger than the tolerance, so the match is meaningful.
    expect(maxAbsDiff(refLogits, baseRef)).toBeGreaterThan(50 * TOL);
  });

  it('strength is in units of the typical residual norm, and the readout shows the shift', async () => {
    const info = await call<Awaited<ReturnType<H['load']>>>(page, 'load', {
      model: 'traitlab/tiny-llama',
      remoteHost: `${baseUrl()}/hub/`,
      dtype: 'fp32',
      cutLayers: [1, 2],
    });
    const typical = info.typicalNorm[2];
    expect(typical).toBeGreaterThan(0);
    const r = await call<Awaited<ReturnType<H['logits']>>>(page, 'logits', {
      tokens,
      vectors: [{ traitId: 'w', layers: { 2: w } }],
      settings: [{ traitId: 'w', strength: 0.5, mode: 'add', layer: 2, enabled: true }],
    });
    const [, cut2] = r.projections;
    expect(Math.abs(cut2.post[0] - cut2.pre[0] - 0.5 * typical)).toBeLessThan(1e-3 * typical);
    const clamp = await call<Awaited<ReturnType<H['logits']>>>(page, 'logits', {
      tokens,
      vectors: [{ traitId: 'w', layers: { 2: w } }],
      settings: [{ traitId: 'w', strength: -0.25, mode: 'clamp', layer: 2, enabled: true }],
    });
    expect(Math.abs(clamp.projections[1].post[0] + 0.25 * typical)).toBeLessThan(1e-3 * typical);
  });

  it('greedy generation with the KV cache equals CPU recomputation without cache', async () => {
    await call(page, 'setSteering', [], []);
    const gen = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', MESSAGES, 16, false);
    const path = '.models/traitlab/tiny-llama/onnx/model.onnx';
    const ref = await greedyNoCache(await cpuSession(readFileSync(path), path), tokens, 16, SHAPE);
    expect(compareGreedy(gen.tokens, ref)).toBeGreaterThanOrEqual(4);
  });

  it('steered generation follows the steered reference graph', async () => {
    const info = await call<Awaited<ReturnType<H['load']>>>(page, 'load', {
      model: 'traitlab/tiny-llama',
      remoteHost: `${baseUrl()}/hub/`,
      dtype: 'fp32',
      cutLayers: [1, 2],
    });
    const strength = 0.6;
    await call(page, 'setSteering', [{ traitId: 'v', strength, mode: 'add', layer: 1, enabled: true }], [{ traitId: 'v', layers: { 1: v } }]);
    const gen = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', MESSAGES, 12, false);
    const norm = Math.hypot(...v);
    const alpha = (strength * info.typicalNorm[1]) / norm;
    const path = '.models/traitlab/tiny-llama/onnx/model.onnx';
    const ref = insertResidualAdd(
      readFileSync(path),
      1,
      Float32Array.from(v, (x) => Math.fround(alpha * x)),
    );
    const steps = await greedyNoCache(await cpuSession(ref, path), tokens, 12, SHAPE);
    expect(compareGreedy(gen.tokens, steps)).toBeGreaterThanOrEqual(3);
    expect(gen.projections[0].v.post - gen.projections[0].v.pre).toBeCloseTo(strength * info.typicalNorm[1], 2);
    await call(page, 'setSteering', [], []);
  });

  it('a second chat turn reuses the KV cache and matches a fresh prefill', async () => {
    const first = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', MESSAGES, 6, false);
    // Turn 2 as the chat sends it: the whole conversation, with turn 1's reply as text.
    const turn2 = [...MESSAGES, { role: 'assistant', content: first.result.text }, { role: 'user', content: 'And the mountains?' }];
    const reused = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', turn2, 8, true);
    const fresh = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', turn2, 8, false);
    expect(first.tokens.length).toBeGreaterThan(0);
    // At least turn 1's prompt came from the cache.
    expect(reused.result.promptTokens - reused.result.prefillTokens).toBeGreaterThanOrEqual(tokens.length);
    expect(fresh.result.prefillTokens).toBe(fresh.result.promptTokens);
    expect(reused.tokens).toEqual(fresh.tokens);
  });

  it('an over-long conversation is a clear error; hitting the context ends with context-full', async () => {
    const long = [{ role: 'user', content: 'word '.repeat(200) }];
    await expect(call(page, 'generate', long, 4, false)).rejects.toThrow(/context holds 512/);
    const near = [{ role: 'user', content: 'x'.repeat(490) }];
    const r = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', near, 64, false);
    expect(r.result.finishReason).toBe('context-full');
  });
});

describe.each([
  {
    model: 'traitlab/tiny-llama-mb',
    dtype: 'fp32',
    style: 'model-builder',
    file: 'model.onnx',
    cut: /^\/model\/layers\.2\/input_layernorm\/SkipLayerNorm\.sum$/,
  },
  { model: 'traitlab/tiny-llama', dtype: 'q4', style: 'optimum', file: 'model_q4.onnx', cut: /^\/model\/layers\.1\/Add_1_output_0$/ },
  { model: 'traitlab/tiny-llama-mb', dtype: 'q4', style: 'model-builder', file: 'model_q4.onnx', cut: /SkipLayerNorm\.sum$/ },
  // the exporter fixtures (src/testmodels: dynamo-naming.ts, gemma3-graph.ts, GatherBlockQuantized embedding)
  { model: 'traitlab/tiny-llama-dynamo', dtype: 'fp32', style: 'torch-dynamo', file: 'model.onnx', cut: /^add_\d+$/ },
  { model: 'traitlab/tiny-gemma3', dtype: 'fp32', style: 'gqa-custom', file: 'model.onnx', cut: /^\/model\/layers\.1\/Add_2\/output_0$/ },
  { model: 'traitlab/tiny-gemma3', dtype: 'q4', style: 'gqa-custom', file: 'model_q4.onnx', cut: /^\/model\/layers\.1\/Add_2\/output_0$/ },
  { model: 'traitlab/tiny-llama-gbq', dtype: 'q4', style: 'optimum', file: 'model_q4.onnx', cut: /^\/model\/layers\.1\/Add_1_output_0$/ },
])('engine: $model $dtype ($style export)', ({ model, dtype, style, file, cut }) => {
  let page: Page;
  let tokens: number[];
  const path = `.models/${model}/onnx/${file}`;
  const v = randomVector(3);

  beforeAll(async () => {
    page = await browser.open('/tests/browser/pages/engine.html');
    const info = await call<Awaited<ReturnType<H['load']>>>(page, 'load', { model, remoteHost: `${baseUrl()}/hub/`, dtype, cutLayers: [1] });
    expect(info.style).toBe(style);
    expect(info.structure?.cutTensors[1]).toMatch(cut);
    tokens = await call<number[]>(page, 'encodeChat', MESSAGES);
  });

  it('greedy generation matches the CPU reference of the same file', async () => {
    const gen = await call<Awaited<ReturnType<H['generate']>>>(page, 'generate', MESSAGES, 10, false);
    const ref = await greedyNoCache(await cpuSession(readFileSync(path), path), tokens, 10, SHAPE);
    expect(compareGreedy(gen.tokens, ref)).toBeGreaterThanOrEqual(3);
  });

  it('a 100-token prompt gives the CPU reference logits (GroupQueryAttention prompts run in chunks)', async () => {
    const long = Array.from({ length: 100 }, (_, i) => 3 + ((i * 7) % 250));
    const r = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', { tokens: long, plans: [{ layer: 1, slots: [] }] });
    expectClose(r.logits, await lastLogits(await cpuSession(readFileSync(path), path), long, SHAPE), TOL, TOL);
  });

  it('steered logits match the reference graph with an Add node', async () => {
    const alpha = 3;
    const steered = await call<Awaited<ReturnType<H['logitsWithPlans']>>>(page, 'logitsWithPlans', {
      tokens,
      plans: [{ layer: 1, slots: [{ vector: v, mode: 1, alpha, target: 0 }] }],
    });
    expect(steered.validation).toBeNull();
    const ref = insertResidualAdd(
      readFileSync(path),
      1,
      Float32Array.from(v, (x) => alpha * x),
    );
    const refLogits = await lastLogits(await cpuSession(ref, path), tokens, SHAPE);
    expectClose(steered.logits, refLogits, TOL, TOL);
    const unsteered = await lastLogits(await cpuSession(readFileSync(path), path), tokens, SHAPE);
    expect(maxAbsDiff(refLogits, unsteered)).toBeGreaterThan(50 * TOL);
  });
});
