/**
 * Response-token extraction (positions 'response') on WebGPU (headless Chromium, SwiftShader)
 * through tests/browser/pages/extraction-harness.ts, on the planted-trait model:
 *  - the replies are the unsteered model's greedy replies under each persona: equal to greedy
 *    decoding of the uncut model in onnxruntime-node, although the engine's chat is steered hard
 *    at the time (and its steered reply differs);
 *  - the vectors, per-layer separation, layer and calibration equal a CPU reference that taps
 *    every layer's residual of prompt + reply and averages exactly the reply positions;
 *  - both methods' separation and time on the same prompts are logged (README numbers).
 * Few pairs, questions and reply tokens (SwiftShader on 2 cores).
 */
import type * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED } from '../../../src/testmodels/planted';
import type { ExtractRequest } from '../../../src/protocol/extraction';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import { checkAgainstCpu, cpuActivations, cpuExtract, cpuGreedy, cpuModel, cpuTapped, type PromptSet } from '../../support/extraction-reference';
import type { ExtractionHarness, WireExtracted } from '../pages/extraction-harness';

let browser: BrowserHandle;
let page: Page;

function call<K extends keyof ExtractionHarness>(fn: K, ...args: Parameters<ExtractionHarness[K]>): Promise<Awaited<ReturnType<ExtractionHarness[K]>>> {
  return page.evaluate(
    ([f, a]) => (window as unknown as { extraction: Record<string, (...x: unknown[]) => unknown> }).extraction[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<Awaited<ReturnType<ExtractionHarness[K]>>>;
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.open('/tests/browser/pages/extraction.html');
});

afterAll(async () => {
  await browser?.close();
});

// The built-in chats are ~140 tokens here (~2 s per prefill on SwiftShader under load): the exact
// comparison uses short personas made of the planted model's word tokens and short questions.
const SHORT_TRAIT = {
  format: 'traitlab-trait/1' as const,
  id: 'short-cheerful',
  label: 'Short cheerful',
  description: '',
  high: 'cheerful',
  low: 'gloomy',
  pairs: [
    { high: 'Be cheerful and happy.', low: 'Be gloomy and sad.' },
    { high: 'Be sunny and bright.', low: 'Be bleak and grim.' },
    { high: 'Be glad.', low: 'Be sad.' },
    { high: 'Be merry.', low: 'Be grim.' },
    { high: 'Be joyful.', low: 'Be bleak.' },
  ],
};
const SHORT_QUESTIONS = {
  format: 'traitlab-questions/1' as const,
  version: 'short-1',
  questions: ['Hi?', 'Why?', 'Cats?', 'Rain?', 'Tea?', 'Sea?', 'Sun?', 'Art?', 'Maps?', 'Jazz?'],
  split: { extraction: [0, 2, 4, 6, 8], evaluation: [1, 3, 5, 7, 9] },
};

describe('response-token extraction on the planted-trait model', () => {
  const C = PLANTED.config;
  const P = PLANTED.layer;
  const KV = { heads: C.numKvHeads, dim: C.headDim };
  const REPLY = 6;
  const req: ExtractRequest = {
    traits: [SHORT_TRAIT],
    questions: SHORT_QUESTIONS,
    maxPairs: 2,
    maxQuestions: { extraction: 2, evaluation: 2 },
    cache: false,
    method: 'mean-diff',
    positions: 'response',
    responseTokens: REPLY,
  };
  let tapped: ort.InferenceSession;
  let plain: ort.InferenceSession;
  let eos: number[];

  beforeAll(async () => {
    const info = await call('load', { model: PLANTED.modelId, remoteHost: `${baseUrl()}/hub/`, dtype: 'fp32', cutLayers: [P] });
    expect(info.numLayers).toBe(C.numLayers);
    tapped = await cpuTapped(`.models/${PLANTED.modelId}/onnx/model.onnx`, C.numLayers);
    plain = await cpuModel(`.models/${PLANTED.modelId}/onnx/model.onnx`);
    eos = await call('eos');
  });

  it('replies are the unsteered greedy replies; vectors, separation, layer and calibration match a CPU reference over exactly the reply tokens', async () => {
    // The chat is steered hard toward gloomy at the planted layer while extraction runs.
    await call('steer', b64(PLANTED.direction), P, -2);
    const r = await call('extract', req);
    expect(r.error).toBeNull();
    expect(r.validation).toBeNull();
    const t: WireExtracted = r.traits[0];
    expect(t).toMatchObject({ positions: 'response', method: 'mean-diff', responseTokens: REPLY, prompts: { extraction: 8, evaluation: 8 } });
    expect(r.progress.filter((p) => p.includes(':generation:') && !p.includes(':0/'))).toHaveLength(16);
    expect(r.progress.findIndex((p) => p.includes(':generation:16/16'))).toBeLessThan(r.progress.findIndex((p) => p.includes(':extraction:')));

    // The prompts alone (positions 'last' tokenizes the same chats), then the CPU's greedy replies.
    const [prompts] = await call('prompts', { ...req, positions: 'last' });
    const responses = t.responses!;
    expect(responses).toHaveLength(8);
    const set: PromptSet = { extraction: [], evaluation: [] };
    let margin = Infinity;
    let k = 0;
    for (const split of ['extraction', 'evaluation'] as const) {
      for (const p of prompts[split]) {
        const got = responses[k++];
        expect(got.split).toBe(split);
        const sides = [];
        for (const [side, reply] of [
          [p.high, got.high],
          [p.low, got.low],
        ] as const) {
          const cpu = await cpuGreedy(plain, side.tokens, REPLY, eos, KV);
          margin = Math.min(margin, cpu.margin);
          expect(reply, `${split} pair ${got.pair} question ${got.question}`).toEqual(cpu.tokens);
          sides.push({ tokens: [...side.tokens, ...reply], first: side.tokens.length, count: reply.length });
        }
        set[split].push({ high: sides[0], low: sides[1] });
      }
    }
    console.log(`replies: min greedy margin ${margin.toFixed(3)}; e.g. high "${responses[0].highText}" / low "${responses[0].lowText}"`);
    // The steered chat forward answers the first high prompt differently: the steering was on.
    const steered = await call('chatGreedy', prompts.extraction[0].high.tokens, REPLY);
    expect(steered).not.toEqual(responses[0].high);
    await call('steer', b64(PLANTED.direction), P, 0);

    const acts = await cpuActivations(tapped, set, C.numLayers, C.hiddenSize, KV);
    checkAgainstCpu(t, cpuExtract(acts, 'mean-diff', C.numLayers, 100), C.numLayers);
  }, 400_000);

  it('both methods on the built-in planted trait: per-layer separation and time (logged for the README)', async () => {
    const runs: Record<string, WireExtracted> = {};
    for (const positions of ['last', 'response'] as const) {
      const r = await call('extract', {
        traits: ['planted-cheerful'],
        traitsBaseUrl: '/traits/',
        maxPairs: 2,
        maxQuestions: { extraction: 2, evaluation: 2 },
        cache: false,
        positions,
        responseTokens: 8,
      });
      expect(r.error).toBeNull();
      runs[positions] = r.traits[0];
      const t = r.traits[0];
      console.log(
        `planted ${positions}: ${t.elapsedMs.toFixed(0)} ms, best layer ${t.bestLayer}; ` +
          t.separation.map((s) => `L${s.layer} d=${s.effectSize.toFixed(2)} acc=${s.accuracy.toFixed(2)}`).join(' '),
      );
    }
    // The reply words carry the persona: the response vector separates held-out replies at the planted layer.
    expect(runs.response.separation.find((s) => s.layer === P)!.accuracy).toBe(1);
    expect(runs.response.elapsedMs).toBeGreaterThan(runs.last.elapsedMs);
  }, 600_000);
});
