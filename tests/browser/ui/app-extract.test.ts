/**
 * The offline demo end to end: the planted-trait model from the catalog, trait extraction in
 * the worker (quick mode), the per-layer separation chart, and steering with the extracted
 * direction raising the calibrated score of the planted trait; then the response-token method
 * beside it (both curves in one chart, the user picks the vector steering uses).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlVector, writeControlVector } from '../../../src/traits/gguf';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let page: Page;
const requests: string[] = [];
const ARTIFACTS = 'test-artifacts';
const PLANTED = 'Cheerful (planted test trait)';

interface View {
  info: { cutLayers: number[]; model: string } | null;
  vectorKind: Record<string, string>;
  traitData: Record<
    string,
    { bestLayer?: number; positions?: string; curves?: Record<string, { bestLayer: number }>; calibration?: Record<number, { center: number; scale: number }> }
  >;
  extractStatus: string;
  extractMessage: string | null;
  messages: unknown[];
  streaming: string | null;
  points: { projections: Record<string, { pre: number; post: number }> }[];
}
type Win = { traitlab: { store: { getState(): View } } };
const state = () => page.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;

async function reply(text: string): Promise<View> {
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(
    () => {
      const s = (window as unknown as Win).traitlab.store.getState();
      return s.messages.length === 2 && s.streaming === null;
    },
    null,
    { timeout: 120_000 },
  );
  return state();
}

function meanScore(s: View, id: string): number {
  const layer = s.info!.cutLayers[0];
  const c = s.traitData[id].calibration![layer];
  const xs = s.points.map((p) => (p.projections[id].post - c.center) / c.scale);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  site = await startSite();
  browser = await launchBrowser();
  browser.context.on('request', (r) => requests.push(r.url()));
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(site.url);
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('offline demo: planted-trait model and extraction', () => {
  it('loads the planted model from the catalog and shows its trait', async () => {
    await page.getByLabel('Model catalog').selectOption({ label: 'Planted-trait demo (offline, tiny) · fp32 ≈ 1.3 MB' });
    await expect(page.getByLabel('Hub id or folder URL').inputValue()).resolves.toBe('./models/traitlab/planted-cheerful/');
    await page.getByLabel('Steering layers').fill('2');
    await page.getByText('Sampling', { exact: true }).click();
    await page.getByLabel('Max new tokens').fill('8');
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await page.getByTestId('model-info').waitFor({ timeout: 180_000 });
    await page.getByLabel(`${PLANTED} strength`, { exact: true }).waitFor();
    expect((await state()).vectorKind['planted-cheerful']).toBe('demo');
  });

  it('extracts trait vectors, shows the separation per layer and steers with them', async () => {
    const block = page.locator('[data-trait="planted-cheerful"]');
    await block.getByText('Advanced').click();
    await block.getByRole('button', { name: `Extract ${PLANTED}` }).click();
    await page.getByTestId('extract-status').waitFor();
    await page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().extractStatus !== 'running', null, { timeout: 300_000 });
    const s = await state();
    expect(s.extractStatus, s.extractMessage ?? '').toBe('done');
    expect(s.vectorKind['planted-cheerful']).toBe('extracted');
    expect(s.vectorKind.openness).toBe('demo'); // only the chosen trait was extracted
    expect(s.traitData['planted-cheerful'].bestLayer).toBe(2);
    await block.getByLabel(`${PLANTED}: separation per layer`).locator('.recharts-bar-rectangle').first().waitFor();

    const plain = await reply('Hi there');
    await page.getByLabel(`${PLANTED} strength value`, { exact: true }).fill('1');
    const steered = await reply('Hi there');
    expect(meanScore(steered, 'planted-cheerful')).toBeGreaterThan(meanScore(plain, 'planted-cheerful') + 1);
    await page.getByLabel('Colour the reply by').selectOption('planted-cheerful');
    await page.screenshot({ path: `${ARTIFACTS}/app-extracted.png`, fullPage: true });
  }, 400_000);

  it('exports the extracted vector as llama.cpp GGUF and imports it back identically; exports the current steering', async () => {
    await page.locator('details.vector-files').evaluate((d) => ((d as HTMLDetailsElement).open = true));
    const download = async (click: () => Promise<void>) => {
      const [d] = await Promise.all([page.waitForEvent('download'), click()]);
      return readFileSync((await d.path())!);
    };
    await page.getByLabel('Trait to export').selectOption('planted-cheerful');
    const first = await download(() => page.getByRole('button', { name: 'Export GGUF' }).click());
    const v = readControlVector(first);
    expect(v.hidden).toBe(64);
    expect(Object.keys(v.layers).map(Number)).toContain(2);

    // Import the file as a new trait, export that one: the same floats at every layer.
    await page
      .getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)')
      .setInputFiles({ name: 'cheerful-copy.gguf', mimeType: 'application/octet-stream', buffer: first });
    await page.getByLabel('cheerful-copy strength', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Trait to export').selectOption('cheerful-copy');
    const again = readControlVector(await download(() => page.getByRole('button', { name: 'Export GGUF' }).click()));
    for (const [l, x] of Object.entries(v.layers)) expect(Array.from(again.layers[Number(l)])).toEqual(Array.from(x));

    // The current steering (planted trait at strength 1, add mode) as one control vector:
    // at the cut layer its norm is strength x the layer's typical residual norm.
    await page.getByLabel('cheerful-copy strength value', { exact: true }).fill('0');
    const s = await state();
    const layer = s.info!.cutLayers[0];
    const steering = readControlVector(await download(() => page.getByRole('button', { name: 'Export current steering (GGUF)' }).click()));
    const typical = (await page.evaluate(
      () =>
        (window as unknown as { traitlab: { store: { getState(): { info: { typicalNorm: Record<number, number> } } } } }).traitlab.store.getState().info
          .typicalNorm,
    )) as Record<number, number>;
    expect(Math.hypot(...steering.layers[layer])).toBeCloseTo(typical[layer], 2);
  }, 200_000);

  it('extracts from response tokens too: both curves in one chart, the user picks the vector and steering uses it', async () => {
    const block = page.locator('[data-trait="planted-cheerful"]');
    await page.getByLabel('cheerful-copy strength value', { exact: true }).fill('0');
    await page.getByLabel('Extraction token positions').selectOption('response');
    await page.getByLabel('Reply tokens per prompt').fill('6');
    await block.getByRole('button', { name: `Extract ${PLANTED}` }).click();
    await page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().extractStatus !== 'running', null, { timeout: 300_000 });
    let s = await state();
    expect(s.extractStatus, s.extractMessage ?? '').toBe('done');
    const data = s.traitData['planted-cheerful'];
    expect(data.positions).toBe('response');
    expect(Object.keys(data.curves ?? {}).sort()).toEqual(['last', 'response']);
    expect(data.bestLayer).toBe(2);

    // One chart, two labelled curves.
    const chart = block.getByLabel(`${PLANTED}: separation per layer`);
    await chart.locator('.recharts-line').nth(1).waitFor();
    expect(await chart.locator('.recharts-line').count()).toBe(2);
    await expect(chart.locator('.recharts-legend-item-text').allTextContents()).resolves.toEqual(['prompt tokens', 'response tokens']);
    await expect(chart.locator('figcaption').textContent()).resolves.toMatch(/response tokens: best layer 2 .*In use: response tokens/);

    // The vector in use per choice (the exported file is the vector steering gets).
    await page.getByLabel(`${PLANTED} strength value`, { exact: true }).fill('0');
    await page.getByLabel('Trait to export').selectOption('planted-cheerful');
    const exported = async () => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export GGUF' }).click()]);
      return readControlVector(readFileSync((await d.path())!)).layers[2];
    };
    const pre = (v: View) => v.points.map((p) => p.projections['planted-cheerful'].pre);
    const select = block.getByLabel(`${PLANTED} vector`);
    await select.selectOption('last');
    expect((await state()).traitData['planted-cheerful'].positions).toBe('last');
    const vLast = await exported();
    const readLast = pre(await reply('Hi there'));
    await select.selectOption('response');
    s = await state();
    expect(s.traitData['planted-cheerful'].positions).toBe('response');
    const vResponse = await exported();
    const cos = vLast.reduce((a, x, i) => a + x * vResponse[i], 0) / Math.hypot(...vLast) / Math.hypot(...vResponse);
    expect(cos).toBeLessThan(0.99999); // another vector
    expect(cos).toBeGreaterThan(0.5); // of the same trait
    const plain = await reply('Hi there');
    // The engine reads along the chosen vector: same tokens, other readout.
    expect(pre(plain)).not.toEqual(readLast);
    await page.getByLabel(`${PLANTED} strength value`, { exact: true }).fill('1');
    const steered = await reply('Hi there');
    expect(meanScore(steered, 'planted-cheerful')).toBeGreaterThan(meanScore(plain, 'planted-cheerful') + 1);
    await page.screenshot({ path: `${ARTIFACTS}/app-extract-response.png`, fullPage: true });
    await page.getByLabel('Extraction token positions').selectOption('last'); // later extractions: the default method again
  }, 500_000);

  it('rejects a corrupt or mismatched vector file with a clear message', async () => {
    const bad = Buffer.from('GGUF\x03\x00\x00\x00garbage', 'latin1');
    await page
      .getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)')
      .setInputFiles({ name: 'broken.gguf', mimeType: 'application/octet-stream', buffer: bad });
    await expect(page.getByRole('alert').filter({ hasText: 'Could not import broken.gguf' }).first().textContent()).resolves.toMatch(/GGUF/);
    const wrongHidden = writeControlVector({ model: 'other', hidden: 32, layers: { 2: new Float32Array(32).fill(0.1) } });
    await page
      .getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)')
      .setInputFiles({ name: 'other.gguf', mimeType: 'application/octet-stream', buffer: Buffer.from(wrongHidden) });
    await expect(page.getByRole('alert').filter({ hasText: 'Could not import other.gguf' }).first().textContent()).resolves.toMatch(/hidden|64|32/);
  });

  it('creates a custom trait from two descriptions and shares it in a short link', async () => {
    await page.getByText('New custom trait').click();
    await page.getByLabel('Name', { exact: true }).fill('Sunny mood');
    await page.getByLabel('Someone who is… (high)').fill('cheerful, happy and sunny');
    await page.getByLabel('Someone who is… (low)').fill('gloomy, sad and grim');
    await page.getByRole('button', { name: 'Create and extract' }).click();
    await page.getByLabel('Sunny mood strength', { exact: true }).waitFor({ timeout: 300_000 });
    const s = await state();
    expect(s.vectorKind['custom-sunny-mood']).toBe('custom');
    await page.getByLabel('Sunny mood strength value', { exact: true }).fill('0.5');
    await page.getByRole('button', { name: 'Share link' }).click();
    const link = await page.getByTestId('share-link').inputValue();
    expect(link.length).toBeLessThan(16 * 1024);
    const p2 = await browser.context.newPage();
    await p2.goto(link);
    await p2.getByLabel('Sunny mood strength value', { exact: true }).waitFor({ timeout: 30_000 });
    await expect(p2.getByLabel('Sunny mood strength value', { exact: true }).inputValue()).resolves.toBe('0.5');
    await p2.close();
  }, 400_000);

  it('makes no request to any other host', () => {
    expect(requests.filter((u) => !site.isOwn(u))).toEqual([]);
  });
});
