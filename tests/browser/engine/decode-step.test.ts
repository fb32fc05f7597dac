/**
 * The engine's decode step on WebGPU (SwiftShader): sampling on the GPU chooses exactly the
 * tokens the CPU sampler chooses from the full logits (same seed, steering on); a steady-state
 * step syncs once, creates no GPU buffer at all (ours or ORT's: the host preamble's values are
 * written into buffers of ours) and none of the engine's bind groups (the cuts' residuals are
 * buffers of ours bound as the sessions' outputs); one-token passes through those buffers
 * give a fresh prefill's logits. Counts come from tests/support/gpu-counters.ts (wrapped WebGPU
 * methods); no timing is asserted.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplingOptions } from '../../../src/shared/sampling';
import { mulberry32 } from '../../../src/shared/rng';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import type { Counts } from '../../support/gpu-counters';

interface Counted {
  tokens: number[];
  cpuTokens: number[];
  steps: Counts[];
  fallbacks: number;
}

function call<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([f, a]) => (window as unknown as { engineHarness: Record<string, (...x: unknown[]) => unknown> }).engineHarness[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;
}

function vector(seed: number, n: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Math.fround(r() * 2 - 1));
}

const MESSAGES = [{ role: 'user', content: 'Tell me about the sea.' }];
const opts = (o: Partial<SamplingOptions>): SamplingOptions => ({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1, ...o });

let browser: BrowserHandle;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each([
  { model: 'traitlab/tiny-llama', dtype: 'fp32' },
  { model: 'traitlab/tiny-llama-mb', dtype: 'q4' },
  { model: 'traitlab/tiny-gemma3', dtype: 'q4' },
])('decode step: $model $dtype, two traits steered', ({ model, dtype }) => {
  let page: Page;
  beforeAll(async () => {
    page = await browser.open('/tests/browser/pages/engine.html');
    await call(page, 'load', { model, remoteHost: `${baseUrl()}/hub/`, dtype, cutLayers: [1, 2] });
    await call(
      page,
      'setSteering',
      [
        { traitId: 'v', strength: 0.4, mode: 'add', layer: 1, enabled: true },
        { traitId: 'w', strength: -0.3, mode: 'add', layer: 2, enabled: true },
      ],
      [
        { traitId: 'v', layers: { 1: vector(1, 64) } },
        { traitId: 'w', layers: { 2: vector(2, 64) } },
      ],
    );
  });

  it('one-token passes (residuals in our bound buffers) give the logits of a fresh prefill', async () => {
    const tokens = await call<number[]>(page, 'encodeChat', MESSAGES);
    const r = await call<{ decoded: number[]; prefilled: number[]; validation: string | null }>(page, 'decodeVsPrefill', [...tokens, 11, 12, 13], 3);
    expect(r.validation).toBeNull();
    expect(r.decoded.length).toBe(r.prefilled.length);
    const bad = r.decoded.findIndex((x, i) => !(Math.abs(x - r.prefilled[i]) <= 1e-3 + 1e-3 * Math.abs(r.prefilled[i])));
    expect(bad, `logit ${bad}: decoded ${r.decoded[bad]}, prefilled ${r.prefilled[bad]}`).toBe(-1);
  });

  it.each([
    { name: 'greedy', sampling: opts({}) },
    { name: 'greedy, repetition penalty 1.1', sampling: opts({ repetitionPenalty: 1.1 }) },
    {
      name: 'temperature 0.9, top-k 40, top-p 0.95, penalty 1.1, seed 7',
      sampling: opts({ temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: 7 }),
    },
    { name: 'temperature 1.2, no top-k (full row), seed 3', sampling: opts({ temperature: 1.2, seed: 3 }) },
  ])("$name: GPU sampling gives the CPU sampler tokens; one sync, no buffer (ours or ORT's) or bind group of ours per step", async ({ sampling }) => {
    const r = await call<Counted>(page, 'generateCounted', MESSAGES, 12, sampling);
    expect(r.tokens.length).toBe(12);
    expect(r.tokens).toEqual(r.cpuTokens);
    // Steady state: every step after the first decode step.
    for (const s of r.steps.slice(2)) {
      expect(s.blockingReads).toBe(1);
      expect(s.engineBuffers).toBe(0);
      // Nor any of ORT's: the host preamble's values (ids, positions, mask row, seqlens_k) go
      // into buffers of ours, so ORT makes no upload staging buffer.
      expect(s.buffersCreated).toBe(0);
      // The cuts' residuals are our buffers bound as the parts' outputs: the kernels' bind groups are reused.
      expect(s.engineBindGroups).toBe(0);
      if (sampling.temperature === 0 && sampling.repetitionPenalty === 1) expect(s.readbackBytes).toBeLessThanOrEqual(64);
    }
  });
});
