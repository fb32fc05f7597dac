/**
 * The measurement features end to end in the built app (static site) on the planted model: item import (bad files
 * get a clear message), the inventory run and its CSV export — whose prompts reproduce its
 * probabilities in onnxruntime-node — the behaviour measures under a reply, and a short
 * dose-response sweep with its chart, cross-trait matrix and illusion reading.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResultsCsv, type ResultRow } from '../../../src/traits/psychometrics/export';
import { PLANTED } from '../../../src/testmodels';
import { ensureTestModels } from '../../../src/testmodels/write-hub-folder';
import { writeControlVector } from '../../../src/traits/gguf';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';
import { encodeText, lastLogits, nodeTokenizer, referenceSession, refLabelId, refProbs } from '../../support/option-reference';

const MODELS_DIR = '.models';
const C = PLANTED.config;
const REF = { numLayers: C.numLayers, kvHeads: C.numKvHeads, headDim: C.headDim };
const LABEL = 'Cheerful (planted test trait)';
const TRAIT = 'planted-cheerful';

let site: Site;
let browser: BrowserHandle;
let page: Page;
let tok: PreTrainedTokenizer;
let modelBytes: Uint8Array;

type Win = { traitlab: { store: { getState(): Record<string, unknown> } } };
const state = <T>(key: string) => page.evaluate((k) => (window as unknown as Win).traitlab.store.getState()[k], key) as Promise<T>;
const idle = (timeout = 300_000) =>
  page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().psychStatus !== 'running', null, { timeout });

async function download(click: () => Promise<void>): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync((await d.path())!, 'utf8');
}

// Small on purpose: SwiftShader on shared CPUs runs a few passes a second at best.
const ITEMS_CSV = [
  'text,trait,key,facet',
  '"I feel cheerful and happy most days.",planted-cheerful,+1,',
  '"My outlook is bright and sunny.",planted-cheerful,+,mood',
].join('\n');

beforeAll(async () => {
  const res = await ensureTestModels(MODELS_DIR);
  modelBytes = new Uint8Array(readFileSync(join(res.folders[PLANTED.modelId], 'onnx', 'model.onnx')));
  tok = await nodeTokenizer(MODELS_DIR, PLANTED.modelId);
  site = await startSite();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(site.url);
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Model catalog').selectOption({ label: 'Planted-trait demo (offline, tiny) · fp32 ≈ 1.3 MB' });
  await page.getByLabel('Steering layers').fill('2');
  await page.getByText('Sampling', { exact: true }).click();
  await page.getByLabel('Max new tokens').fill('8');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await page.getByTestId('model-info').waitFor({ timeout: 400_000 });
  // The planted direction as this trait's vector (instead of a slow extraction).
  const gguf = writeControlVector({ model: PLANTED.modelId, hidden: C.hiddenSize, layers: { [PLANTED.layer]: PLANTED.direction } }, 'llama');
  await page.locator('details.vector-files').evaluate((d) => ((d as HTMLDetailsElement).open = true));
  await page
    .getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)')
    .setInputFiles({ name: `${TRAIT}.gguf`, mimeType: 'application/octet-stream', buffer: Buffer.from(gguf) });
  await page.waitForFunction((id) => ((window as unknown as Win).traitlab.store.getState().vectorKind as Record<string, string>)[id] === 'extracted', TRAIT, {
    timeout: 30_000,
  });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('measurement in the app (planted model)', () => {
  const input = () => page.getByLabel('Import item file (CSV or JSON: text, trait, key, optional facet)');

  it('rejects malformed item files with a clear message and keeps the page', async () => {
    // The file is read asynchronously: wait for each message rather than reading it at once.
    const message = (hasText: RegExp) => page.getByTestId('items-message').filter({ hasText }).waitFor({ timeout: 30_000 });
    await input().setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('statement,scale\nI am calm.,N\n') });
    await message(/bad\.csv: the header row must name the columns text, trait and key/);
    await input().setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('[{"text":"Hi","trait":"extraversion","key":"x"}]') });
    await message(/bad\.json, item 1: "key" is "x"/);
    await expect(page.getByTestId('items-source').textContent()).resolves.toMatch(/built-in/);
    await input().setInputFiles({ name: 'mini.csv', mimeType: 'text/csv', buffer: Buffer.from(ITEMS_CSV) });
    await page
      .getByTestId('items-source')
      .filter({ hasText: /^2 items \(mini\.csv\)/ })
      .waitFor({ timeout: 30_000 });
    // Only the mood-word template (the one the planted model can read), both orders.
    await page.getByLabel('Accuracy, letters (A–E)').uncheck();
    await page.getByLabel('Agreement, numbers (1–5)').uncheck();
  });

  it('runs the inventory and exports a CSV whose prompts reproduce its probabilities in onnxruntime-node (<= 1e-3)', { timeout: 400_000 }, async () => {
    await page.getByRole('button', { name: 'Run inventory' }).click();
    await idle();
    expect(await state<string>('psychStatus'), (await state<string>('psychMessage')) ?? '').toBe('done');
    await page.getByTestId(`inventory-score-${TRAIT}`).waitFor();
    const csv = await download(() => page.getByRole('button', { name: 'Export CSV' }).click());
    const parsed = parseResultsCsv(csv);
    expect(parsed.ok, parsed.ok ? '' : parsed.error).toBe(true);
    const rows = (parsed as { rows: ResultRow[] }).rows;
    expect(rows).toHaveLength(2 * 2); // items × orders
    expect(new Set(rows.map((r) => `${r.template}/${r.order}`))).toEqual(new Set(['planted-mood/normal', 'planted-mood/reversed']));
    const session = await referenceSession(modelBytes);
    let worst = 0;
    let worstRenorm = 0;
    for (const r of rows) {
      expect(r.model).toContain(PLANTED.modelId);
      expect(r.dtype).toBe('fp32');
      expect(r.labelTokenIds).toEqual(r.labels.map((l) => refLabelId(tok, r.prompt, l)));
      const ref = refProbs(await lastLogits(session, encodeText(tok, r.prompt), REF), r.labelTokenIds);
      ref.forEach((p, k) => (worst = Math.max(worst, Math.abs(p - r.probs[k]))));
      // The full-softmax probabilities of the labels are tiny on this model (≈1e-10), so the
      // absolute check alone could hardly fail: the renormalised ones are O(1) and must agree too.
      const total = ref.reduce((a, b) => a + b, 0);
      ref.forEach((p, k) => (worstRenorm = Math.max(worstRenorm, Math.abs(p / total - r.renormalised[k]))));
    }
    await session.release();
    console.log(`app CSV vs onnxruntime-node: max |dp| = ${worst.toExponential(2)}, renormalised ${worstRenorm.toExponential(2)} over ${rows.length} rows`);
    expect(worst).toBeLessThanOrEqual(1e-3);
    expect(worstRenorm).toBeLessThanOrEqual(1e-3);
  });

  it('measures a reply: inside readout beside the unsteered re-read and the judge', { timeout: 400_000 }, async () => {
    await page.getByLabel(`${LABEL} strength value`, { exact: true }).fill('1');
    await page.getByLabel('Message').fill('Hi there');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForFunction(
      () => {
        const s = (window as unknown as Win).traitlab.store.getState() as { messages: unknown[]; streaming: unknown };
        return s.messages.length === 2 && s.streaming === null;
      },
      null,
      { timeout: 300_000 },
    );
    await page.getByRole('button', { name: 'Measure this reply' }).click();
    const table = page.locator('[data-testid="reply-measures-1"][data-status="done"]');
    await table.waitFor({ timeout: 300_000 });
    const row = table.locator(`tr[data-trait="${TRAIT}"]`);
    for (const m of ['inside', 'reread', 'judge']) await expect(row.locator(`[data-measure="${m}"]`).textContent()).resolves.toMatch(/\d/);
    await page.getByLabel(`${LABEL} strength value`, { exact: true }).fill('0');
  });

  it('sweeps the planted trait: chart per step, persona reference points, cross-trait matrix and the illusion reading', async () => {
    await page.getByLabel(`Sweep ${LABEL}`).check();
    await page.getByLabel('Sweep steps').fill('3');
    await page.getByLabel('judge only the swept traits').check();
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await idle(850_000);
    expect(await state<string>('psychStatus'), (await state<string>('psychMessage')) ?? '').toBe('done');
    const chart = page.getByTestId(`sweep-chart-${TRAIT}`);
    await expect(chart.getAttribute('data-steps')).resolves.toBe('3');
    await expect(page.getByTestId(`sweep-personas-${TRAIT}`).textContent()).resolves.toMatch(/high persona → self-report \d/);
    await page.getByTestId('cross-trait-matrix').waitFor();
    await expect(page.getByTestId(`illusion-reading-${TRAIT}`).textContent()).resolves.toMatch(
      /^Cheerful \(planted test trait\): self-report[^;]* follows? steering/,
    );
    const sweeps = await state<Record<string, { steps: { strength: number; inventory: Record<string, { mean: number }> }[] }[]>>('sweeps');
    const steps = Object.values(sweeps)[0].at(-1)!.steps;
    expect(steps.map((s) => s.strength)).toEqual([-1, 0, 1]);
    const inv = steps.map((s) => s.inventory[TRAIT].mean);
    expect(inv[2]).toBeGreaterThan(inv[0]);
    await page.screenshot({ path: 'test-artifacts/app-psych.png', fullPage: true });
  }, 900_000);
});
