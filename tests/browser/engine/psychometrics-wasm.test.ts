/**
 * The option passes without WebGPU (ORT's WASM EP): the logits come to the CPU anyway, so the
 * CPU path (labelProbabilities, float64) scores them; its probabilities equal an independent
 * onnxruntime-node computation from the prompt text (<= 1e-3) and nothing is read from a GPU.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreOptionsResult } from '../../../src/protocol/psychometrics';
import { PLANTED } from '../../../src/testmodels';
import { ensureTestModels } from '../../../src/testmodels/write-hub-folder';
import { parseItemFile } from '../../../src/traits/psychometrics/items';
import { INVENTORY_TEMPLATES, inventoryCells, ORDERS } from '../../../src/traits/psychometrics/templates';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import { encodeText, lastLogits, nodeTokenizer, referenceSession, refLabelId, refProbs } from '../../support/option-reference';

const C = PLANTED.config;
let browser: BrowserHandle;
let page: Page;

const call = <T>(fn: string, ...args: unknown[]) =>
  page.evaluate(
    ([f, a]) => (window as unknown as { psychHarness: Record<string, (...x: unknown[]) => unknown> }).psychHarness[f as string](...(a as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;

beforeAll(async () => {
  await ensureTestModels('.models');
  browser = await launchBrowser();
  await browser.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  page = await browser.open('/tests/browser/pages/psych.html');
});
afterAll(async () => {
  await browser?.close();
});

describe('option passes on the WASM EP', () => {
  it('score with the CPU softmax, equal to onnxruntime-node (<= 1e-3), reading nothing from a GPU', async () => {
    const info = await call<{ device: { webgpu: boolean } }>('load', {
      model: PLANTED.modelId,
      remoteHost: `${baseUrl()}/hub/`,
      dtype: 'fp32',
      cutLayers: [PLANTED.layer],
    });
    expect(info.device.webgpu).toBe(false);
    const parsed = parseItemFile(readFileSync('public/psychometrics/items.json', 'utf8'), 'items.json');
    if (!parsed.ok) throw new Error(parsed.error);
    const items = parsed.set.items.filter((i) => i.trait === 'planted-cheerful').slice(0, 1);
    const prompts = inventoryCells(items, [INVENTORY_TEMPLATES.find((t) => t.id === 'planted-mood')!], ORDERS, null).map((c) => c.prompt);
    const { result, counts } = await call<{ result: ScoreOptionsResult; counts: { blockingReads: number } }>('scoreOptionsCounted', prompts, 'off');
    expect(result.readbackBytes).toBe(0);
    expect(counts.blockingReads).toBe(0);

    const res = await ensureTestModels('.models');
    const session = await referenceSession(new Uint8Array(readFileSync(join(res.folders[PLANTED.modelId], 'onnx', 'model.onnx'))));
    const tok = await nodeTokenizer('.models', PLANTED.modelId);
    let worst = 0;
    for (const sc of result.scores) {
      const ids = sc.labelTexts.map((l) => refLabelId(tok, sc.promptText, l));
      expect(sc.labelTokenIds).toEqual(ids);
      const ref = refProbs(
        await lastLogits(session, encodeText(tok, sc.promptText), { numLayers: C.numLayers, kvHeads: C.numKvHeads, headDim: C.headDim }),
        ids,
      );
      for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(sc.probs[k] - ref[k]));
    }
    await session.release();
    console.log(`WASM EP: max |p_app - p_ref| = ${worst.toExponential(2)} over ${result.scores.length} prompts`);
    expect(worst).toBeLessThanOrEqual(1e-3);
  }, 600_000);
});
