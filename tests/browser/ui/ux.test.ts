/**
 * The small things a user meets, on the built site (plain static server, sub-path), at phone
 * width (390 px): no trait label overlaps its slider and nothing is wider than the screen; a
 * message too long for the context is refused, not kept, and stays in the input box; Regenerate
 * says which seed it drew; the compare view's two charts share one y-scale; the radar's baseline
 * is drawn and not collapsed into the centre; Stop extraction ends it within one forward pass
 * and says so as a notice. Screenshots go to test-artifacts/ux-*.png.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let page: Page;
const ARTIFACTS = 'test-artifacts';
const PHONE = { width: 390, height: 844 };
const TRAIT = 'Cheerful (planted test trait)';

interface View {
  info: { model: string } | null;
  messages: { role: string; content: string }[];
  streaming: string | null;
  chatError: string | null;
  chatNotice: string | null;
  compareStatus: string;
  extractStatus: string;
  extractMessage: string | null;
}
type Win = { traitlab: { store: { getState(): View; subscribe(fn: (s: View) => void): () => void } }; extractLog?: string[] };
const state = () => page.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;
const waitFor = (fn: (s: View) => boolean, timeout = 180_000) =>
  page.waitForFunction(`(${fn.toString()})(window.traitlab.store.getState())`, null, { timeout, polling: 200 });

interface Box {
  what: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Visible controls (and the trait names beside their sliders) whose boxes intersect by more than a pixel each way. */
async function overlaps(): Promise<string[]> {
  const boxes: Box[] = await page.evaluate(() => {
    const els = [...document.querySelectorAll('input, select, textarea, button, .trait > label')] as HTMLElement[];
    return els
      .filter((el) => el.offsetParent !== null && !el.closest('.recharts-wrapper'))
      .map((el) => {
        const r = el.getBoundingClientRect();
        const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? '';
        return { what: `${el.tagName.toLowerCase()} "${name}"`, x: r.x, y: r.y + window.scrollY, width: r.width, height: r.height };
      })
      .filter((b) => b.width > 0 && b.height > 0);
  });
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (w > 1 && h > 1) out.push(`${a.what} × ${b.what}`);
    }
  }
  return out;
}

async function noSidewaysScroll(): Promise<void> {
  const wide = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    over: [...document.querySelectorAll('main *, header *')]
      .filter((el) => (el as HTMLElement).offsetParent !== null && el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName} ${el.className}`),
  }));
  expect(wide.over).toEqual([]);
  expect(wide.page).toBeLessThanOrEqual(PHONE.width);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  site = await startSite();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.setViewportSize(PHONE);
  await page.goto(site.url);
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('small things, on the built site at 390 px', () => {
  it('first paint at 390 px, every panel open: no label overlaps a slider, no control overlaps another, nothing scrolls sideways', async () => {
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const traits = await page.locator('.trait').count();
    expect(traits).toBeGreaterThanOrEqual(5);
    // Per trait: the name's box and the slider's box are apart.
    const pairs = await page.evaluate(() =>
      [...document.querySelectorAll('.trait')].map((el) => {
        const l = el.querySelector('label')!.getBoundingClientRect();
        const s = el.querySelector('input[type="range"]')!.getBoundingClientRect();
        return { name: el.querySelector('label')!.textContent, apart: l.bottom <= s.top + 1 || l.right <= s.left + 1, sliderWidth: s.width };
      }),
    );
    for (const p of pairs) {
      expect(p.apart, `${p.name}: label and slider overlap`).toBe(true);
      expect(p.sliderWidth, `${p.name}: slider too narrow to drag`).toBeGreaterThan(120);
    }
    expect(await overlaps()).toEqual([]);
    await noSidewaysScroll();
    await page.screenshot({ path: `${ARTIFACTS}/ux-first-paint-390.png`, fullPage: true });
    await page
      .locator('.trait-block')
      .first()
      .screenshot({ path: `${ARTIFACTS}/ux-trait-390.png` });
    await page.locator('section[aria-labelledby="chat-h"]').screenshot({ path: `${ARTIFACTS}/ux-chat-390.png` });
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = false)));
  });

  it('a 20,000-character message too long for the context is refused: not in the chat, still in the input box', async () => {
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await page.getByTestId('model-info').waitFor({ timeout: 180_000 });
    await noSidewaysScroll(); // the loaded model's line (a long URL) wraps too
    const long = 'hello '.repeat(3334).slice(0, 20_000);
    await page.getByLabel('Message').fill(long);
    await page.getByRole('button', { name: 'Send' }).click();
    await waitFor((s) => s.chatError !== null && s.streaming === null, 60_000);
    const s = await state();
    expect(s.messages).toEqual([]);
    expect(s.chatError).toMatch(/context holds \d+/);
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe(long);
    await expect(page.getByTestId('chat-error').textContent()).resolves.toMatch(/context.*not sent; it is back in the input box/);
    await page.locator('section[aria-labelledby="chat-h"]').screenshot({ path: `${ARTIFACTS}/ux-rejected-390.png` });
  });

  it('a reply clears the alert; Regenerate says which seed it drew', async () => {
    await page.getByLabel('Message').fill('Hello!');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitFor((s) => s.messages.length === 2 && s.streaming === null, 120_000);
    expect((await state()).chatError).toBeNull();
    await expect(page.getByTestId('chat-error').count()).resolves.toBe(0);
    const before = (await state()).messages[1].content;
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await waitFor((s) => s.messages.length === 2 && s.streaming === null && s.chatNotice !== null, 120_000);
    const notice = await page.getByTestId('chat-notice').textContent();
    // The default is greedy (temperature 0): a new seed is drawn and the notice says why the reply repeats.
    expect(notice).toMatch(/^Regenerated with a new seed, \d+, but temperature 0/);
    const seed = Number(/seed, (\d+)/.exec(notice!)![1]);
    await expect(page.getByTestId('result').textContent()).resolves.toContain(`seed ${seed}`);
    expect((await state()).messages[1].content).toBe(before);
  });

  it('compare: both charts share one y-scale; the radar baseline is drawn off the centre', async () => {
    await page.getByLabel(`${TRAIT} strength value`).fill('1');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await waitFor((s) => s.compareStatus !== 'running', 240_000);
    expect((await state()).compareStatus).toBe('done');
    const ticks = async (side: string) => {
      const chart = page.getByTestId(`compare-chart-${side}`);
      await chart.locator('.recharts-line').first().waitFor();
      const labels = chart.locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value');
      await labels.first().waitFor();
      return labels.allTextContents();
    };
    const [a, b] = [await ticks('unsteered'), await ticks('steered')];
    expect(a.length).toBeGreaterThanOrEqual(3);
    expect(b).toEqual(a);
    await page.getByTestId('compare-chart-steered').scrollIntoViewIfNeeded();
    await page.locator('section[aria-labelledby="compare-h"]').screenshot({ path: `${ARTIFACTS}/ux-compare-390.png` });

    const radar = page.getByTestId('radar');
    await radar.locator('.radar-baseline').first().waitFor({ timeout: 30_000 });
    const base = await radar.locator('.radar-baseline path').first().boundingBox();
    const chart = await radar.locator('.recharts-wrapper').first().boundingBox();
    expect(base && chart).toBeTruthy();
    // Not a dot in the centre: the baseline polygon spans a good part of the chart.
    expect(Math.max(base!.width, base!.height)).toBeGreaterThan(0.15 * Math.min(chart!.width, chart!.height));
    await radar.screenshot({ path: `${ARTIFACTS}/ux-radar-390.png` });
  }, 300_000);

  it('Stop extraction ends it within one forward pass and shows a notice, not an error', async () => {
    await page.evaluate(() => {
      const w = window as unknown as Win;
      w.extractLog = [];
      w.traitlab.store.subscribe((s) => {
        if (s.extractMessage && w.extractLog!.at(-1) !== s.extractMessage) w.extractLog!.push(s.extractMessage);
      });
    });
    await page.getByRole('button', { name: 'Extract all trait vectors' }).click();
    // Room for a slow shared machine: the full suite once took over 240 s to get here (about 90 s alone).
    await waitFor((s) => /reading activations \(1\//.test(s.extractMessage ?? ''), 420_000);
    await page.getByRole('button', { name: 'Stop extraction' }).click();
    const atStop = await page.evaluate(() => (window as unknown as Win).extractLog!.length);
    await waitFor((s) => s.extractStatus !== 'running', 120_000);
    const s = await state();
    const log = await page.evaluate(() => (window as unknown as Win).extractLog!);
    expect(s.extractStatus).toBe('stopped');
    // At most the forward pass under way when Stop was clicked reports after it (then the stop notice).
    const after = log.slice(atStop).filter((m) => !m.startsWith('Extraction stopped'));
    expect(after.length, JSON.stringify(after)).toBeLessThanOrEqual(1);
    const status = page.getByTestId('extract-status');
    await expect(status.getAttribute('class')).resolves.toBe('notice');
    await expect(status.getAttribute('role')).resolves.toBe('status');
    await expect(status.textContent()).resolves.toMatch(/^Extraction stopped/);
    await page.getByTestId('extract').screenshot({ path: `${ARTIFACTS}/ux-extract-stopped-390.png` });
  }, 600_000);
});
