/**
 * Without WebGPU the engine runs the model on ORT's WASM EP and steers with the kernels' CPU
 * references: same results as the steered reference graph, and a notice for the user.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertResidualAdd } from '../../support/steer-reference';
import { mulberry32 } from '../../../src/shared/rng';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import { compareGreedy, cpuSession, greedyNoCache } from '../../support/cpu-reference';

let browser: BrowserHandle;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  // A browser without WebGPU.
  await browser.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  page = await browser.open('/tests/browser/pages/engine.html');
});
afterAll(async () => {
  await browser?.close();
});

const call = <T>(fn: string, ...args: unknown[]) =>
  page.evaluate(
    ([f, a]) => (window as unknown as { engineHarness: Record<string, (...x: unknown[]) => unknown> }).engineHarness[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;

describe('engine without WebGPU', () => {
  it('runs on the WASM EP with a notice, and steering matches the reference graph', async () => {
    const info = await call<{ device: { webgpu: boolean; notice?: string }; typicalNorm: Record<number, number> }>('load', {
      model: `${baseUrl()}/local-models/traitlab/tiny-llama/`,
      dtype: 'fp32',
      cutLayers: [1],
    });
    expect(info.device.webgpu).toBe(false);
    expect(info.device.notice).toMatch(/WebGPU is not available.*slower/);

    const r = mulberry32(5);
    const v = Array.from({ length: 64 }, () => Math.fround(r() * 2 - 1));
    const strength = 0.5;
    await call('setSteering', [{ traitId: 'v', strength, mode: 'add', layer: 1, enabled: true }], [{ traitId: 'v', layers: { 1: v } }]);
    const messages = [{ role: 'user', content: 'Hi there' }];
    const tokens = await call<number[]>('encodeChat', messages);
    const gen = await call<{ tokens: number[]; projections: Record<string, { pre: number; post: number }>[] }>('generate', messages, 8, false);

    const alpha = (strength * info.typicalNorm[1]) / Math.hypot(...v);
    const path = '.models/traitlab/tiny-llama/onnx/model.onnx';
    const ref = insertResidualAdd(
      readFileSync(path),
      1,
      Float32Array.from(v, (x) => Math.fround(alpha * x)),
    );
    const steps = await greedyNoCache(await cpuSession(ref, path), tokens, 8, { kvHeads: 2, headDim: 16 });
    expect(compareGreedy(gen.tokens, steps)).toBeGreaterThanOrEqual(3);
    expect(gen.projections[0].v.post - gen.projections[0].v.pre).toBeCloseTo(strength * info.typicalNorm[1], 3);
  });
});
