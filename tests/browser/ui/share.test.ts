/**
 * Share links on the built site (vite build, plain static server, sub-path): a link made after
 * extracting the planted demo trait, opened in a fresh browser context, reproduces the sender's
 * reply and per-token scores exactly for the same prompt and seed, with nothing extracted on the
 * recipient's side; hostile model references are refused when the link is opened, before
 * anything is shown as "will load", and the page and session survive; a model on another host
 * is named before anything downloads; a vector JSON names its trait, and importing it over an
 * existing vector asks first.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePreset } from '../../../src/presets/codec';
import type { Preset } from '../../../src/presets/preset';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let fresh: BrowserContext;
let sender: Page;
const requests: string[] = [];
const TRAIT = 'Cheerful (planted test trait)';
const PROMPT = 'Hello!';

interface Point {
  text: string;
  projections: Record<string, { pre: number; post: number }>;
}
interface View {
  modelStatus: string;
  info: { model: string; cutLayers: number[] } | null;
  messages: { role: string; content: string }[];
  points: Point[];
  streaming: string | null;
  chatError: string | null;
  extractStatus: string;
  extractMessage: string | null;
  vectorKind: Record<string, string>;
  traits: { traitId: string; strength: number }[];
  customTraits: Record<string, unknown>;
  traitData: Record<string, { calibration?: Record<number, { center: number; scale: number }> }>;
  pendingLoad: { model: string; source?: string } | null;
  presetError: string | null;
  shareNote: string | null;
}
type Win = { traitlab: { store: { getState(): View } } };
const stateOf = (p: Page) => p.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;

/** Clear, send the prompt, wait for the reply; returns the reply and its per-token readouts. */
async function reply(p: Page): Promise<{ text: string; points: Point[] }> {
  await p.getByRole('button', { name: 'Clear' }).click();
  await p.getByLabel('Message').fill(PROMPT);
  await p.getByRole('button', { name: 'Send' }).click();
  await p.waitForFunction(
    () => {
      const s = (window as unknown as Win).traitlab.store.getState();
      return (s.messages.length === 2 || s.chatError !== null) && s.streaming === null;
    },
    null,
    { timeout: 120_000 },
  );
  const s = await stateOf(p);
  expect(s.chatError).toBeNull();
  return { text: s.messages[1].content, points: s.points };
}

async function openPage(ctx: BrowserContext, url: string): Promise<Page> {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await p.setViewportSize({ width: 1400, height: 1000 });
  await p.goto(url);
  return p;
}

/** A link to this site holding `patch` over a plain preset (built with the app's own encoder, no checks). */
async function linkWith(patch: Partial<Preset>): Promise<string> {
  const base: Preset = {
    model: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    dtype: 'auto',
    cutLayers: [],
    traits: [{ id: 'openness', strength: 0.5, mode: 'add', layer: null, enabled: true }],
    vectors: [],
    systemPrompt: '',
    sampling: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 },
    maxNewTokens: 8,
  };
  return `${site.url}#${await encodePreset({ ...base, ...patch })}`;
}

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  browser.context.on('request', (r) => requests.push(r.url()));
  fresh = await browser.browser.newContext();
  fresh.on('request', (r) => requests.push(r.url()));
  sender = await openPage(browser.context, site.url);
  await sender.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await fresh?.close();
  await browser?.close();
  await site?.close();
});

describe('share links on the built site', () => {
  let link: string;
  let sent: { text: string; points: Point[] };

  it('the sender extracts the planted trait, steers with it, gets a reply and makes a link that carries the vector', async () => {
    expect((await stateOf(sender)).info).toBeNull(); // the planted demo is the default model
    await sender.getByRole('button', { name: 'Load', exact: true }).click();
    await sender.getByTestId('model-info').waitFor({ timeout: 180_000 });
    await sender.getByText('Sampling', { exact: true }).click();
    await sender.getByLabel('Temperature').fill('0.8');
    await sender.getByLabel('Seed', { exact: true }).fill('4242');
    await sender.getByLabel('Max new tokens').fill('12');
    const unsteered = await reply(sender);

    const block = sender.locator('[data-trait="planted-cheerful"]');
    await block.getByText('Advanced').click();
    await block.getByRole('button', { name: `Extract ${TRAIT}` }).click();
    await sender.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().extractStatus !== 'running', null, { timeout: 400_000 });
    const s = await stateOf(sender);
    expect(s.extractStatus, s.extractMessage ?? '').toBe('done');
    expect(s.vectorKind['planted-cheerful']).toBe('extracted');
    await sender.getByLabel(`${TRAIT} strength value`, { exact: true }).fill('0.8');
    sent = await reply(sender);
    console.log(`sender, unsteered: ${unsteered.text}\nsender, steered 0.8: ${sent.text}`);
    expect(sent.text).not.toBe(unsteered.text); // the extracted vector changes the reply

    await sender.getByRole('button', { name: 'Share link' }).click();
    link = await sender.getByTestId('share-link').inputValue();
    expect(link.startsWith(`${site.url}#preset=2.`)).toBe(true);
    await expect(sender.getByTestId('share-note').textContent()).resolves.toMatch(/exact vectors for planted-cheerful\./);
    console.log(`share link: ${link.length} characters`);
  }, 600_000);

  it('a fresh browser context opens the link, loads after confirming, and replies exactly as the sender did, extracting nothing', async () => {
    const before = site.server.requests.length;
    const p = await openPage(fresh, link);
    await p.getByTestId('pending-load').waitFor({ timeout: 60_000 });
    await expect(p.getByTestId('pending-source').textContent()).resolves.toMatch(/served by this site/);
    await expect(p.getByTestId('pending-load').textContent()).resolves.toMatch(/carries 1 trait vector/);
    expect(site.server.requests.slice(before).filter((r) => r.url.includes('/models/'))).toEqual([]); // nothing downloaded yet
    await p.getByRole('button', { name: 'Start download' }).click();
    await p.getByTestId('model-info').waitFor({ timeout: 180_000 });
    const s = await stateOf(p);
    expect(s.vectorKind['planted-cheerful']).toBe('shared');
    await expect(p.locator('.trait-block[data-trait="planted-cheerful"]').textContent()).resolves.toMatch(/from the share link/);

    const got = await reply(p);
    console.log(`recipient: ${got.text}`);
    expect(got.text).toBe(sent.text);
    expect(got.points).toEqual(sent.points); // every token and every trait's readout, bit for bit
    const after = await stateOf(p);
    expect(after.extractStatus).toBe('idle');
    const layer = s.info!.cutLayers[0];
    const senderCal = (await stateOf(sender)).traitData['planted-cheerful'].calibration![layer];
    expect(after.traitData['planted-cheerful'].calibration![layer]).toEqual(senderCal); // the same scores
    await p.screenshot({ path: 'test-artifacts/share-recipient.png', fullPage: true });
    await p.close();
  }, 400_000);

  it('the same setup as a preset file: downloaded by the sender, opened in a fresh context, restores settings and the vector', async () => {
    const [download] = await Promise.all([sender.waitForEvent('download'), sender.getByRole('button', { name: 'Download preset file' }).first().click()]);
    expect(download.suggestedFilename()).toBe('traitlab-preset.json');
    const bytes = readFileSync((await download.path())!);
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ format: 'traitlab-preset/2' });
    const p = await openPage(fresh, site.url);
    await p.getByLabel('Open preset file').setInputFiles({ name: 'traitlab-preset.json', mimeType: 'application/json', buffer: bytes });
    await p.getByTestId('pending-load').waitFor({ timeout: 30_000 });
    await expect(p.getByTestId('pending-load').textContent()).resolves.toMatch(/carries 1 trait vector/);
    const s = await stateOf(p);
    expect(s.presetError).toBeNull();
    expect(s.traits.find((t) => t.traitId === 'planted-cheerful')?.strength).toBe(0.8);
    await p.close();
  });

  it('hostile model references are refused when the link is opened: a clear message, nothing shown as "will load", the page alive', async () => {
    const p = await openPage(fresh, site.url);
    await p.getByLabel('Openness strength', { exact: true }).waitFor({ timeout: 60_000 });
    const cases: [string, RegExp][] = [
      ['javascript:alert(1)', /uses "javascript:"/],
      ['data:text/html,<script>alert(1)</script>', /uses "data:"/],
      ['file:///etc/passwd', /uses "file:"/],
      ['../../etc/passwd', /path on this site that it does not serve/],
      ['//evil.example/org/m/', /protocol-relative/],
    ];
    for (const [model, why] of cases) {
      await p.goto(await linkWith({ model }));
      const alert = p.getByTestId('preset-error');
      await alert.waitFor({ timeout: 30_000 });
      const text = (await alert.textContent()) ?? '';
      expect(text).toMatch(/^This share link cannot be used: The model reference/);
      expect(text).toMatch(why);
      await expect(p.getByTestId('pending-load').count()).resolves.toBe(0);
      await expect(p.getByLabel('Openness strength', { exact: true }).isVisible()).resolves.toBe(true);
      const s = await stateOf(p);
      expect(s.pendingLoad).toBeNull();
      expect(s.traits.every((t) => t.strength === 0)).toBe(true);
    }
    await p.screenshot({ path: 'test-artifacts/share-hostile-link.png', fullPage: true });
    await p.close();
  });

  it('a vector JSON names its trait and model; importing it over the extracted vector asks first (Keep / Replace)', async () => {
    await sender.locator('details.vector-files').evaluate((d) => ((d as HTMLDetailsElement).open = true));
    await sender.getByLabel('Trait to export').selectOption('planted-cheerful');
    const [download] = await Promise.all([sender.waitForEvent('download'), sender.getByRole('button', { name: 'Export JSON' }).click()]);
    const bytes = readFileSync((await download.path())!);
    const json = JSON.parse(bytes.toString('utf8')) as { trait: { id: string; label: string }; model: string };
    expect(json.trait).toEqual({ id: 'planted-cheerful', label: TRAIT });
    expect(json.model).toBe((await stateOf(sender)).info!.model);

    const input = sender.getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)');
    const dialog = sender.getByTestId('import-confirm');
    await input.setInputFiles({ name: 'mine.json', mimeType: 'application/json', buffer: bytes });
    await dialog.waitFor();
    await expect(dialog.getAttribute('role')).resolves.toBe('alertdialog');
    await expect(dialog.textContent()).resolves.toMatch(`mine.json would replace its extracted vector of "${TRAIT}". Replace it?`);
    await dialog.getByRole('button', { name: 'Keep current' }).click();
    await expect(dialog.count()).resolves.toBe(0);
    expect((await stateOf(sender)).customTraits).toEqual({}); // no new custom trait either way
    await input.setInputFiles({ name: 'mine.json', mimeType: 'application/json', buffer: bytes });
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await expect(dialog.count()).resolves.toBe(0);
    const s = await stateOf(sender);
    expect(s.vectorKind['planted-cheerful']).toBe('extracted');
    expect(s.customTraits).toEqual({});
    // The same reply: the file held exactly the extracted vector.
    expect((await reply(sender)).text).toBe(sent.text);
  }, 200_000);

  it('in a running session a hostile link changes nothing but the message', async () => {
    const before = await stateOf(sender);
    const hostile = (await linkWith({ model: 'javascript:alert(1)' })).split('#')[1];
    await sender.evaluate((h) => (location.hash = h), hostile);
    await sender.getByTestId('preset-error').waitFor();
    const after = await stateOf(sender);
    expect(after.messages).toEqual(before.messages);
    expect(after.traits).toEqual(before.traits);
    expect(after.modelStatus).toBe('ready');
    expect(after.pendingLoad).toBeNull();
  });

  it('a model on another host is named before anything downloads, and nothing is fetched from it', async () => {
    const p = await openPage(fresh, await linkWith({ model: 'https://models.example.com/org/m/' }));
    await p.getByTestId('pending-load').waitFor({ timeout: 60_000 });
    await expect(p.getByTestId('pending-source').textContent()).resolves.toMatch(/models\.example\.com — not the Hugging Face hub/);
    await p.waitForTimeout(500);
    expect(requests.filter((u) => u.includes('models.example.com'))).toEqual([]);
    await p.close();
  });

  it('fetched nothing from another host', () => {
    expect(requests.filter((u) => !site.isOwn(u))).toEqual([]);
  });
});
