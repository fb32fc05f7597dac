/**
 * The measurement paths of the engine in headless Chromium WebGPU on the planted model: option
 * probabilities equal an independent onnxruntime-node computation from the prompt text
 * (≤ 1e-3), steering +d raises the planted self-report monotonically in both option orders,
 * prompts share their prefix through the KV cache, an option pass reads back only the option
 * logits (a few dozen bytes, not the vocabulary row) and gives the CPU path's probabilities,
 * and the judge and the re-read run with steering off (they do not see the steering).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseItemFile, type Item } from '../../../src/traits/psychometrics/items';
import { expectedValue, keyedScore, mean, renormalise } from '../../../src/traits/psychometrics/scoring';
import { INVENTORY_TEMPLATES, inventoryCells, JUDGE_TEMPLATES, judgeCells, ORDERS } from '../../../src/traits/psychometrics/templates';
import type { OptionPrompt, RereadResult, ScoreOptionsResult } from '../../../src/protocol/psychometrics';
import { PLANTED } from '../../../src/testmodels';
import { ensureTestModels } from '../../../src/testmodels/write-hub-folder';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import { encodeText, lastLogits, nodeTokenizer, referenceSession, refLabelId, refProbs } from '../../support/option-reference';

const MODELS_DIR = '.models';
const C = PLANTED.config;
const REF = { numLayers: C.numLayers, kvHeads: C.numKvHeads, headDim: C.headDim };
const TRAIT = 'planted-cheerful';
const P = PLANTED.layer;

let browser: BrowserHandle;
let page: Page;
let tok: PreTrainedTokenizer;
let modelBytes: Uint8Array;
let items: Item[];
let typical: number;

function call<T>(fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([f, a]) => (window as unknown as { psychHarness: Record<string, (...x: unknown[]) => unknown> }).psychHarness[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;
}

const steer = (strength: number) => call('setSteering', [{ traitId: TRAIT, strength, mode: 'add', layer: P, enabled: true }]);

beforeAll(async () => {
  const res = await ensureTestModels(MODELS_DIR);
  modelBytes = new Uint8Array(readFileSync(join(res.folders[PLANTED.modelId], 'onnx', 'model.onnx')));
  tok = await nodeTokenizer(MODELS_DIR, PLANTED.modelId);
  const parsed = parseItemFile(readFileSync('public/psychometrics/items.json', 'utf8'), 'items.json');
  if (!parsed.ok) throw new Error(parsed.error);
  items = parsed.set.items.filter((i) => i.trait === TRAIT);
  browser = await launchBrowser();
  page = await browser.open('/tests/browser/pages/psych.html');
  const info = await call<{ typicalNorm: Record<number, number> }>('load', {
    model: PLANTED.modelId,
    remoteHost: `${baseUrl()}/hub/`,
    dtype: 'fp32',
    cutLayers: [P],
  });
  typical = info.typicalNorm[P];
  await call('setVectors', [{ traitId: TRAIT, layers: { [P]: Array.from(PLANTED.direction) } }]);
});

afterAll(async () => {
  await browser?.close();
});

const mood = INVENTORY_TEMPLATES.find((t) => t.id === 'planted-mood')!;

describe('engine measurement paths on the planted model', () => {
  it('option probabilities equal onnxruntime-node from the prompt text (<= 1e-3); +d raises the planted self-report monotonically in both orders', async () => {
    // Two items, the mood-word template, both orders: prompts of one order share their prefix.
    const two = items.slice(0, 2);
    const series: Record<string, number[]> = { normal: [], reversed: [] };
    let worst = 0;
    // The demo model (v4) is near the top of the scale unsteered and saturates by |strength| 0.2: the sweep climbs to 0 in small steps.
    for (const strength of [-0.1, -0.05, -0.025, 0]) {
      await steer(strength);
      const cells = inventoryCells(two, [mood], ORDERS, null);
      const r = await call<ScoreOptionsResult>(
        'scoreOptions',
        cells.map((c) => c.prompt),
        'current',
      );
      const delta = PLANTED.direction.map((v) => strength * typical * v);
      const session = await referenceSession(modelBytes, strength ? { layer: P, delta } : undefined);
      for (const [i, sc] of r.scores.entries()) {
        const ids = sc.labelTexts.map((l) => refLabelId(tok, sc.promptText, l));
        expect(sc.labelTokenIds).toEqual(ids);
        expect(sc.promptTokens).toBe(encodeText(tok, sc.promptText).length);
        const ref = refProbs(await lastLogits(session, encodeText(tok, sc.promptText), REF), ids);
        for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(sc.probs[k] - ref[k]));
        if (i % two.length > 0) expect(sc.reusedTokens, 'the second item reuses the shared prefix').toBeGreaterThan(40);
      }
      await session.release();
      for (const order of ORDERS) {
        const idx = cells.map((c, i) => (c.order === order ? i : -1)).filter((i) => i >= 0);
        series[order].push(mean(idx.map((i) => keyedScore(expectedValue(renormalise(r.scores[i].probs), cells[i].values), two[cells[i].item].key))));
        // The same prompts keyed the other way score 6 - s.
        for (const i of idx) {
          const v = expectedValue(renormalise(r.scores[i].probs), cells[i].values);
          expect(keyedScore(v, -1)).toBeCloseTo(6 - keyedScore(v, 1), 12);
        }
      }
    }
    console.log(`max |p_app - p_ref| = ${worst.toExponential(2)}; planted self-report by strength ${JSON.stringify(series)}`);
    expect(worst).toBeLessThanOrEqual(1e-3);
    for (const order of ORDERS) {
      const xs = series[order];
      for (let i = 1; i < xs.length; i++) expect(xs[i], `${order}, step ${i}`).toBeGreaterThan(xs[i - 1]);
    }
  }, 600_000);

  it("an option pass reads back [max, lse, option logits] only (<= 64 + 4K bytes, one map), with the CPU path's probabilities", async () => {
    await steer(-0.05);
    const cells = inventoryCells(items.slice(0, 2), [mood], ORDERS, null);
    const prompts = cells.map((c) => c.prompt);
    const { result, counts, logitsShape } = await call<{
      result: ScoreOptionsResult;
      counts: { blockingReads: number; readbackBytes: number; sessionRuns: number };
      logitsShape: (number | string)[] | null;
    }>('scoreOptionsCounted', prompts, 'current');
    const K = prompts[0].labels.length;
    const expected = prompts.reduce((a, p) => a + 4 * (2 + p.labels.length), 0);
    console.log(
      `option passes: ${prompts.length}, K ${K}, vocab ${C.vocabSize}; counted ${JSON.stringify(counts)}; engine readbackBytes ${result.readbackBytes}`,
    );
    expect(result.readbackBytes).toBe(expected);
    expect(logitsShape?.[1], 'the cut graph outputs the last position only (the option reader binds its buffer)').toBe(1);
    // Every mapAsync of the whole call (ORT's included): one per pass, a few dozen bytes each.
    expect(counts.blockingReads).toBe(prompts.length);
    expect(counts.readbackBytes).toBeLessThanOrEqual(prompts.length * (64 + 4 * K));
    expect(counts.readbackBytes).toBeLessThan(C.vocabSize * 4);
    const cpu = await call<number[][]>('cpuPathProbs', result.scores, 'current');
    let worst = 0;
    for (const [i, sc] of result.scores.entries()) {
      for (let k = 0; k < K; k++) {
        const d = Math.abs(sc.probs[k] - cpu[i][k]);
        worst = Math.max(worst, d / cpu[i][k]);
        expect(d, `prompt ${i}, option ${k}: ${sc.probs[k]} vs ${cpu[i][k]}`).toBeLessThanOrEqual(1e-12 + 1e-5 * cpu[i][k]);
      }
    }
    console.log(`max |p_gpu - p_cpu| / p_cpu = ${worst.toExponential(2)}; p of prompt 0: ${JSON.stringify(cpu[0])}`);
  }, 600_000);

  it('the judge and the re-read run with steering off: they do not see the steering', async () => {
    const reply = 'What a sunny day, I feel happy and glad.';
    const context = [{ role: 'user' as const, content: 'How are you?' }];
    const judge = judgeCells(
      reply,
      [{ traitId: TRAIT, high: 'cheerful' }],
      JUDGE_TEMPLATES.filter((t) => t.id === 'judge-mood'),
      ['normal'],
    ).map((c) => c.prompt);
    const run = async (strength: number) => {
      await steer(strength);
      const off = await call<ScoreOptionsResult>('scoreOptions', judge, 'off');
      const current = await call<ScoreOptionsResult>('scoreOptions', judge, 'current');
      const rr = await call<RereadResult>('reread', context, reply);
      return { off: off.scores.map((s) => s.probs), current: current.scores.map((s) => s.probs), rr };
    };
    const before = await call<number[]>('chatCacheTokens');
    const plain = await run(0);
    const steered = await run(1);
    expect(steered.off).toEqual(plain.off); // bit for bit
    expect(steered.rr.projections).toEqual(plain.rr.projections);
    // The same prompts under the steering do change: the test could fail.
    expect(steered.current).not.toEqual(plain.current);
    expect(plain.current).toEqual(plain.off); // strength 0 = unsteered
    expect(plain.rr.replyTokens).toBe(encodeText(tok, reply).length);
    expect(plain.rr.projections[TRAIT]).toHaveLength(plain.rr.replyTokens);
    // The re-read reads the reply: cheerful words project above gloomy ones.
    const gloomy = await call<RereadResult>('reread', context, 'What a grim day, I feel sad and miserable.');
    expect(mean(plain.rr.projections[TRAIT])).toBeGreaterThan(mean(gloomy.projections[TRAIT]));
    expect(await call<number[]>('chatCacheTokens')).toEqual(before);
  }, 600_000);

  it('a label the tokenizer cannot read is a clear error', async () => {
    const bad: OptionPrompt = { messages: [{ role: 'user', content: 'Pick.' }], answerPrefix: 'Answer:', labels: ['yes', 'yes!'], labelSpace: true };
    const err = await page.evaluate(
      (p) =>
        (window as unknown as { psychHarness: { scoreOptions: (x: unknown, s: string) => Promise<unknown> } }).psychHarness.scoreOptions([p], 'off').then(
          () => 'no error',
          (e: Error) => `${e.name}: ${e.message}`,
        ),
      bad,
    );
    expect(err).toMatch(/^LabelTokenError: .*cannot read the options yes, yes!.*Choose another template/);
  });
});
