/**
 * "Check this model" in headless Chromium WebGPU (SwiftShader) on the generated tiny models:
 * a correct cut passes all five checks (Optimum and model-builder exports); a deliberately
 * broken cut (tests/support/broken-cut.ts) fails, and the report names the check that failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckId, CheckReport } from '../../../src/protocol/check';
import { baseUrl, launchBrowser, type BrowserHandle } from '../../support/browser';
import type { Breakage } from '../../support/broken-cut';

let browser: BrowserHandle;
let page: Page;
beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.open('/tests/browser/pages/check.html');
});
afterAll(async () => {
  await browser?.close();
});

type Checked = { report: CheckReport; validation: string | null };

async function checkModel(model: string, dtype: string, breakage: Breakage): Promise<Checked> {
  await page.evaluate(
    ([m, d, b, host]) =>
      (window as unknown as { checkHarness: { load: (s: unknown, b: string) => Promise<unknown> } }).checkHarness.load(
        { model: m, dtype: d, cutLayers: [1], remoteHost: host },
        b,
      ),
    [model, dtype, breakage, `${baseUrl()}/hub/`] as const,
  );
  return check(true);
}

function check(force: boolean): Promise<Checked> {
  return page.evaluate((f) => (window as unknown as { checkHarness: { check: (f: boolean) => Promise<Checked> } }).checkHarness.check(f), force);
}

const ALL: CheckId[] = ['cut-vs-uncut', 'greedy', 'linearity', 'readout', 'finite'];

function byId(r: CheckReport, id: CheckId) {
  const c = r.checks.find((x) => x.id === id);
  if (!c) throw new Error(`report has no check ${id}`);
  return c;
}

describe.each([
  { model: 'traitlab/tiny-llama', dtype: 'fp32', style: 'optimum' },
  { model: 'traitlab/tiny-llama-mb', dtype: 'q4', style: 'model-builder' },
])('self-check: correct cut, $model $dtype', ({ model, dtype, style }) => {
  it('passes all five checks with their numbers and thresholds', async () => {
    const { report, validation } = await checkModel(model, dtype, 'none');
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync(`test-artifacts/self-check-${model.replace(/\W+/g, '_')}-${dtype}.json`, JSON.stringify(report, null, 1)); // the measured numbers
    expect(validation).toBeNull();
    expect(report.style).toBe(style);
    expect(report.checks.map((c) => c.id)).toEqual(ALL);
    expect(report.failed).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.steps).toBe(16);
    expect(byId(report, 'greedy').value).toBe(16);
    expect(byId(report, 'finite').value).toBe(0);
    const cut = byId(report, 'cut-vs-uncut');
    expect(cut.value).toBeLessThanOrEqual(cut.threshold);
    expect(cut.threshold).toBeGreaterThan(0);
    expect(byId(report, 'readout').value).toBeLessThan(1e-3);
    for (const c of report.checks) expect(c.detail.length).toBeGreaterThan(10);
    expect(report.cached).toBe(false);
    // JSON round trip (what the Model panel exports).
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe('self-check: cached report', () => {
  it('a second check of the same model comes from the cache; force runs again', async () => {
    const first = await checkModel('traitlab/tiny-llama', 'fp32', 'none');
    const again = await check(false);
    expect(again.report.cached).toBe(true);
    expect(again.report.checks).toEqual(first.report.checks);
    const forced = await check(true);
    expect(forced.report.cached).toBe(false);
  });
});

describe.each([
  { breakage: 'offset' as const, mustFail: ['cut-vs-uncut'] as CheckId[], mustPass: ['finite'] as CheckId[] },
  { breakage: 'nonlinear' as const, mustFail: ['linearity', 'readout'] as CheckId[], mustPass: ['cut-vs-uncut', 'greedy', 'finite'] as CheckId[] },
  { breakage: 'nan' as const, mustFail: ['finite'] as CheckId[], mustPass: [] as CheckId[] },
])('self-check: broken cut ($breakage)', ({ breakage, mustFail, mustPass }) => {
  it(`fails, naming ${mustFail.join(' and ')}`, async () => {
    const { report } = await checkModel('traitlab/tiny-llama', 'fp32', breakage);
    expect(report.passed).toBe(false);
    for (const id of mustFail) {
      expect(report.failed).toContain(id);
      expect(byId(report, id).passed).toBe(false);
    }
    for (const id of mustPass) expect(byId(report, id).passed).toBe(true);
  });
});
