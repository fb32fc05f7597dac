/**
 * The app as a user meets it, in headless Chromium against the dev server: the UI thread talks
 * to the engine worker only through the protocol. Loads a generated model from a local folder
 * URL, chats, steers, and survives bad input.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, launchBrowser, type BrowserHandle } from '../support/browser';

let browser: BrowserHandle;
let page: Page;
const requests: string[] = [];
const ARTIFACTS = 'test-artifacts';

interface StoreView {
  modelStatus: string;
  files: Record<string, { loaded: number; total: number }>;
  info: { typicalNorm: Record<number, number>; cutLayers: number[] } | null;
  messages: { role: string; content: string }[];
  points: { projections: Record<string, { pre: number; post: number }> }[];
  lastResult: { finishReason: string; generatedTokens: number } | null;
  modelError: string | null;
}

const state = () => page.evaluate(() => (window as unknown as { traitlab: { store: { getState(): unknown } } }).traitlab.store.getState() as unknown) as Promise<StoreView>;

async function sendAndWait(text: string): Promise<StoreView> {
  const before = (await state()).messages.length;
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(
    (n) => {
      const s = (window as unknown as { traitlab: { store: { getState(): { messages: unknown[]; streaming: unknown } } } }).traitlab.store.getState();
      return s.messages.length >= n + 2 && s.streaming === null;
    },
    before,
    { timeout: 120_000 },
  );
  return state();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(baseUrl() + '/');
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
});

describe('app', () => {
  it('loads a generated model from a local folder URL, showing progress', async () => {
    await page.getByLabel('Hub id or folder URL').fill(`${baseUrl()}/local-models/traitlab/tiny-llama/`);
    await page.getByRole('button', { name: 'Load' }).click();
    await page.getByText(/Downloading|Creating session|Measuring/).first().waitFor({ timeout: 60_000 });
    await page.getByTestId('model-info').waitFor({ timeout: 180_000 });
    const s = await state();
    expect(s.modelStatus).toBe('ready');
    expect(s.files['onnx/model_q4.onnx'].loaded).toBe(s.files['onnx/model_q4.onnx'].total); // auto dtype on a device without shader-f16
    await page.screenshot({ path: `${ARTIFACTS}/app-loaded.png`, fullPage: true });
  });

  it('chats: the reply streams in and per-token projections show up', async () => {
    const s = await sendAndWait('Hello!');
    expect(s.messages.at(-1)?.role).toBe('assistant');
    expect(s.lastResult?.generatedTokens).toBeGreaterThan(0);
    expect(s.points.length).toBe(s.lastResult?.generatedTokens);
    expect(Object.keys(s.points[0].projections)).toEqual(['direction-a', 'direction-b']);
    await expect(page.getByTestId('projections').locator('td.num').first().textContent()).resolves.toMatch(/-?\d+\.\d{3}/);
  });

  it('moving a strength control changes the next reply and the readout', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    const plain = await sendAndWait('Tell me a story.');
    const plainReply = plain.messages.at(-1)!.content;
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Random direction A strength value').fill('0.8');
    const steered = await sendAndWait('Tell me a story.');
    const p = steered.points[0].projections['direction-a'];
    const typical = steered.info!.typicalNorm[steered.info!.cutLayers[0]];
    expect(p.post - p.pre).toBeCloseTo(0.8 * typical, 1);
    expect(steered.messages.at(-1)!.content).not.toBe(plainReply);
    await page.screenshot({ path: `${ARTIFACTS}/app-steered.png`, fullPage: true });
  });

  it('a bad model id shows a clear message and keeps the loaded model', async () => {
    await page.getByLabel('Hub id or folder URL').fill('not a model id!');
    await page.getByRole('button', { name: 'Load' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/not a hub model id/);
    const missing = `${baseUrl()}/local-models/traitlab/does-not-exist/`;
    await page.getByLabel('Hub id or folder URL').fill(missing);
    await page.getByRole('button', { name: 'Load' }).click();
    await page.getByRole('alert').filter({ hasText: 'not found' }).waitFor({ timeout: 30_000 });
    const s = await state();
    expect(s.modelStatus).toBe('ready'); // the previous model still works
    const again = await sendAndWait('Still there?');
    expect(again.messages.at(-1)?.role).toBe('assistant');
  });

  it('makes no request to any other host', () => {
    const foreign = requests.filter((u) => !u.startsWith(baseUrl()) && !u.startsWith('data:') && !u.startsWith('blob:'));
    expect(foreign).toEqual([]);
  });
});
