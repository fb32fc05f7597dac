/**
 * The offline demo as a newcomer meets it on the built site (vite build, plain static server,
 * sub-path): the planted-trait demo is the default model, the Model panel comes first with a
 * three-step hint that tracks progress, the demo replies in readable words, and extracting its
 * planted trait and dragging the slider turns the words cheerful, then gloomy. Screenshots of the
 * main views at desktop and phone (390 px) width go to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED } from '../../../src/testmodels/planted';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let page: Page;
const requests: string[] = [];
const ARTIFACTS = 'test-artifacts';
const TRAIT = 'Cheerful (planted test trait)';
const WIDE = { width: 1400, height: 1000 };
const PHONE = { width: 390, height: 844 };
const MAX_NEW = 24;

const VOCAB = new Set([...PLANTED.neutralWords, ...PLANTED.cheerfulWords, ...PLANTED.gloomyWords]);
const CHEERFUL = new Set<string>(PLANTED.cheerfulWords);
const GLOOMY = new Set<string>(PLANTED.gloomyWords);

interface View {
  modelInput: string;
  dtypeChoice: string;
  modelStatus: string;
  info: { model: string; cutLayers: number[] } | null;
  messages: { role: string; content: string }[];
  streaming: string | null;
  chatError: string | null;
  extractStatus: string;
  extractMessage: string | null;
  vectorKind: Record<string, string>;
  traits: { traitId: string; strength: number }[];
}
type Win = { traitlab: { store: { getState(): View } } };
const state = () => page.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: `${ARTIFACTS}/${name}-390.png`, fullPage: true });
  await page.setViewportSize(WIDE);
}

/** Clear, send, wait for the reply; returns its words. */
async function reply(text: string): Promise<string[]> {
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(
    () => {
      const s = (window as unknown as Win).traitlab.store.getState();
      return (s.messages.length === 2 || s.chatError !== null) && s.streaming === null;
    },
    null,
    { timeout: 120_000 },
  );
  const s = await state();
  expect(s.chatError).toBeNull();
  const content = s.messages[1].content;
  const words = content.trim().split(/\s+/);
  for (const w of words) expect(VOCAB.has(w), `"${w}" in reply ${JSON.stringify(content)}`).toBe(true);
  return words;
}

const stepDone = (step: string) => page.locator(`[data-testid="steps"] [data-step="${step}"]`).getAttribute('data-done');

/** Drags the trait's range slider with the mouse to `fraction` of its width (0 = −1, 1 = +1). */
async function dragSlider(label: string, fraction: number): Promise<number> {
  const slider = page.getByLabel(`${label} strength`, { exact: true });
  await slider.scrollIntoViewIfNeeded();
  const box = (await slider.boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * fraction, y, { steps: 8 });
  await page.mouse.up();
  return (await state()).traits.find((t) => t.traitId === 'planted-cheerful')!.strength;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  site = await startSite();
  browser = await launchBrowser();
  browser.context.on('request', (r) => requests.push(r.url()));
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.setViewportSize(WIDE);
  await page.goto(site.url);
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('offline demo on the built site', () => {
  let plain: string[];

  it('first visit: the demo is the default, Model comes first, a three-step hint with nothing done', async () => {
    const s = await state();
    expect(s.modelInput).toBe('./models/traitlab/planted-cheerful/');
    expect(s.dtypeChoice).toBe('fp32');
    expect(s.info).toBeNull();
    const catalog = page.getByLabel('Model catalog');
    await expect(catalog.locator('option:checked').textContent()).resolves.toMatch(/^Planted-trait demo/);
    await expect(catalog.locator('option', { hasText: 'tiny-llama' }).textContent()).resolves.toMatch(/random-weight/i);
    // Model is the first panel, above the presets.
    const headings = await page.locator('main h2').allTextContents();
    expect(headings[0]).toBe('Model');
    expect(headings.indexOf('Model')).toBeLessThan(headings.findIndex((h) => h.startsWith('Presets')));
    const steps = page.getByTestId('steps');
    await expect(steps.textContent()).resolves.toMatch(/Pick a model.*Extract traits.*Drag sliders/);
    for (const step of ['model', 'extract', 'steer']) await expect(stepDone(step)).resolves.toBe('false');
    await shoot('demo-first-paint');
  });

  it('loads the demo from the site itself and replies in readable words', async () => {
    await page.getByText('Sampling', { exact: true }).click();
    await page.getByLabel('Max new tokens').fill(String(MAX_NEW)); // shorter replies: SwiftShader is slow
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await page.getByTestId('model-info').waitFor({ timeout: 180_000 });
    const s = await state();
    expect(s.modelStatus).toBe('ready');
    expect(s.info!.model).toBe(site.modelUrl(PLANTED.modelId));
    await expect(stepDone('model')).resolves.toBe('true');
    await expect(page.getByTestId('random-weights').count()).resolves.toBe(0); // the demo is not a random model
    await expect(page.getByTestId('model-note').textContent()).resolves.toMatch(/plain words/);
    plain = await reply('Hello!');
    expect(plain.length).toBe(MAX_NEW); // one word per token, no end-of-text: the reply runs to the limit
    expect(plain.filter((w) => CHEERFUL.has(w) || GLOOMY.has(w))).toEqual([]);
    console.log(`demo reply: ${plain.join(' ')}`);
    await shoot('demo-reply');
  });

  it('extracting the planted trait and dragging its slider turns the words cheerful, then gloomy', async () => {
    const block = page.locator('[data-trait="planted-cheerful"]');
    await block.getByText('Advanced').click();
    await block.getByRole('button', { name: `Extract ${TRAIT}` }).click();
    await page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().extractStatus !== 'running', null, { timeout: 300_000 });
    const s = await state();
    expect(s.extractStatus, s.extractMessage ?? '').toBe('done');
    expect(s.vectorKind['planted-cheerful']).toBe('extracted');
    await expect(stepDone('extract')).resolves.toBe('true');
    await expect(stepDone('steer')).resolves.toBe('false');

    const up = await dragSlider(TRAIT, 0.9);
    expect(up).toBeGreaterThan(0.5);
    await expect(stepDone('steer')).resolves.toBe('true');
    const cheerful = await reply('Hello!');
    console.log(`steered +${up}: ${cheerful.join(' ')}`);
    expect(cheerful.filter((w) => CHEERFUL.has(w)).length).toBeGreaterThanOrEqual(0.8 * cheerful.length);
    expect(cheerful.filter((w) => GLOOMY.has(w))).toEqual([]);
    await page.getByLabel('Colour the reply by').selectOption('planted-cheerful');
    await shoot('demo-steered-cheerful');

    const down = await dragSlider(TRAIT, 0.1);
    expect(down).toBeLessThan(-0.5);
    const gloomy = await reply('Hello!');
    console.log(`steered ${down}: ${gloomy.join(' ')}`);
    expect(gloomy.filter((w) => GLOOMY.has(w)).length).toBeGreaterThanOrEqual(0.8 * gloomy.length);
    expect(gloomy.filter((w) => CHEERFUL.has(w))).toEqual([]);
    await shoot('demo-steered-gloomy');
  }, 400_000);

  it('fetched nothing from another host, and every request to the site was answered', () => {
    expect(requests.filter((u) => !site.isOwn(u))).toEqual([]);
    expect(site.server.requests.filter((r) => r.status >= 400)).toEqual([]);
  });
});
