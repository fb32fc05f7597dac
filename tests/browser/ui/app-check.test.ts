/**
 * "Check this model" in the app (the built site, engine worker, IndexedDB): the check runs after the
 * first load and its report (numbers and thresholds) is shown in the Model panel and exports as
 * JSON; the button runs it again; a failed report for the model (planted in the worker's report
 * cache) keeps steering off with a message naming the failed check until a passing run.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../../src/protocol/check';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

let site: Site;
let browser: BrowserHandle;
let page: Page;

interface View {
  modelStatus: string;
  checkStatus: string;
  checkReport: CheckReport | null;
  info: { model: string; device: { adapter: string } } | null;
}
type Win = { traitlab: { store: { getState(): View } } };
const state = () => page.evaluate(() => (window as unknown as Win).traitlab.store.getState()) as Promise<View>;
const waitChecked = () =>
  page.waitForFunction(
    () => {
      const s = (window as unknown as Win).traitlab.store.getState();
      return s.modelStatus === 'ready' && s.checkStatus !== 'running' && s.checkReport !== null;
    },
    null,
    { timeout: 300_000 },
  );

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.goto(site.url);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function loadTiny(): Promise<void> {
  await page.getByLabel('Hub id or folder URL').fill(site.modelUrl('traitlab/tiny-llama'));
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await page.getByTestId('load-progress').waitFor({ timeout: 60_000 });
  await waitChecked();
}

describe('app: Check this model', () => {
  it('runs after the first load and shows the report with numbers and thresholds', async () => {
    await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
    await loadTiny();
    const s = await state();
    expect(s.checkReport?.passed).toBe(true);
    expect(s.checkReport?.cached).toBe(false);
    await expect(page.getByTestId('check-summary').textContent()).resolves.toMatch(/^Self-check passed/);
    const rows = page.locator('[data-testid="self-check"] tr[data-check]');
    await expect(rows.count()).resolves.toBe(5);
    await expect(page.locator('[data-testid="self-check"] tr.pass').count()).resolves.toBe(5);
    await expect(rows.first().textContent()).resolves.toMatch(/\(a\) cut vs uncut logits.*≤/);
    await expect(page.getByLabel('Openness strength', { exact: true }).isDisabled()).resolves.toBe(false);
  });

  it('exports the report as JSON', async () => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export report (JSON)' }).click()]);
    const report = JSON.parse(readFileSync((await d.path())!, 'utf8')) as CheckReport;
    expect(report).toEqual((await state()).checkReport);
    expect(report.checks.map((c) => c.id)).toEqual(['cut-vs-uncut', 'greedy', 'linearity', 'readout', 'finite']);
  });

  it('a failed report keeps steering off, naming the check; "Check this model" runs again and turns it back on', async () => {
    // Plant a failed report for this model in the worker's report cache, then load the model again.
    await page.evaluate(async () => {
      const s = (window as unknown as Win).traitlab.store.getState();
      const r = s.checkReport!;
      const failed: CheckReport = {
        ...r,
        passed: false,
        failed: ['linearity'],
        checks: r.checks.map((c) => (c.id === 'linearity' ? { ...c, passed: false, value: c.threshold * 10 } : c)),
      };
      const key = [r.model, r.revision, r.dtype, r.cutLayers.join(','), s.info!.device.adapter].map((x) => encodeURIComponent(x)).join('|');
      const db = await new Promise<IDBDatabase>((res, rej) => {
        const q = indexedDB.open('traitlab-checks', 1);
        q.onsuccess = () => res(q.result);
        q.onerror = () => rej(q.error);
      });
      await new Promise<void>((res, rej) => {
        const tx = db.transaction('reports', 'readwrite');
        tx.objectStore('reports').put(failed, key);
        tx.oncomplete = () => res();
        tx.onerror = () => rej(tx.error);
      });
      db.close();
    });
    await loadTiny();
    const s = await state();
    expect(s.checkReport?.cached).toBe(true);
    expect(s.checkReport?.failed).toEqual(['linearity']);
    await expect(page.getByTestId('steering-blocked').textContent()).resolves.toMatch(/Steering is off for this model.*\(c\) steering linearity/);
    await expect(page.getByLabel('Openness strength', { exact: true }).isDisabled()).resolves.toBe(true);
    await expect(page.getByLabel('Openness strength value', { exact: true }).isDisabled()).resolves.toBe(true);

    await page.getByRole('button', { name: 'Check this model' }).click();
    await page
      .waitForFunction(() => (window as unknown as Win).traitlab.store.getState().checkStatus === 'running', null, { timeout: 30_000 })
      .catch(() => undefined);
    await waitChecked();
    const after = await state();
    expect(after.checkReport?.passed).toBe(true);
    expect(after.checkReport?.cached).toBe(false);
    await expect(page.getByTestId('steering-blocked').count()).resolves.toBe(0);
    await expect(page.getByLabel('Openness strength', { exact: true }).isDisabled()).resolves.toBe(false);
  });
});
