/**
 * Shared by the extraction-kernel GPU-vs-CPU tests (tests/browser/engine/kernels/stats.test.ts,
 * pca.test.ts): random prompts (high then low per pair) run through StatsPass (+ PcaPass) on the
 * extraction harness page (tests/browser/pages/extraction-harness.ts, GPU work inside
 * pushErrorScope('validation')) next to the CPU twin's state.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { accumulateRef, meanDiffRef, statsState } from '../../src/engine/kernels/stats-ref';
import { mulberry32 } from '../../src/shared/rng';
import { launchBrowser, type BrowserHandle } from './browser';
import { b64 } from './kernels';
import type { StatsCase, StatsResult } from '../browser/pages/extraction-harness';

function normals(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()) * scale;
  }
  return out;
}

export interface KernelShape {
  hidden: number;
  layers: number;
  pairs: number;
  rows: number;
  count: number;
  grid?: number;
  pad?: number;
  submitEach?: boolean;
}

/** Row `r` of a row-major `// [rows, hidden]` array. */
export function rowOf(a: Float32Array, r: number, hidden: number): Float32Array {
  return a.subarray(r * hidden, (r + 1) * hidden);
}

/** Open the extraction harness page for this test file (beforeAll / afterAll); returns statsCase. */
export function setupStatsHarness() {
  let browser: BrowserHandle | undefined;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.open('/tests/browser/pages/extraction.html');
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Random prompts (high then low per pair), GPU run, and the CPU reference state. */
  async function statsCase(s: KernelShape, seed: number, pca?: { iterations: number; center: boolean }) {
    const rand = mulberry32(seed);
    const ref = statsState(s.hidden, s.layers, s.pairs);
    const prompts: StatsCase['prompts'] = [];
    // A shared "trait" offset so the PCA has a dominant direction (like real data).
    const trait = normals(rand, s.hidden, 1);
    for (let p = 0; p < s.pairs; p++) {
      for (const cls of [0, 1] as const) {
        const first = Math.floor(rand() * (s.rows - s.count + 1));
        const residuals = Array.from({ length: s.layers }, (_, l) => {
          const h = normals(rand, s.rows * s.hidden);
          const sign = (cls === 0 ? 1 : -1) * (1 + 0.3 * rand()) * (l + 1) * 0.5;
          for (let r = 0; r < s.rows; r++) for (let i = 0; i < s.hidden; i++) h[r * s.hidden + i] += sign * trait[i];
          accumulateRef(ref, h, { layer: l, first, count: s.count, cls, pair: p });
          return h;
        });
        prompts.push({ residuals: residuals.map(b64), first, count: s.count, cls, pair: p });
      }
    }
    const spec: StatsCase = {
      hidden: s.hidden,
      layers: s.layers,
      maxPairs: s.pairs,
      prompts,
      nHigh: s.pairs,
      nLow: s.pairs,
      pca: pca ? { pairs: s.pairs, ...pca } : undefined,
      padBytes: s.pad,
      maxWorkgroupsPerDimension: s.grid,
      submitEach: s.submitEach,
    };
    const res: StatsResult = await page.evaluate(
      (c) => (window as unknown as { extraction: { runStats(c: StatsCase): Promise<StatsResult> } }).extraction.runStats(c),
      spec,
    );
    expect(res.exception, 'TS exception').toBeNull();
    expect(res.error, 'WebGPU validation error').toBeNull();
    return { res, ref, meanDiff: meanDiffRef(ref, s.pairs, s.pairs) };
  }

  return { statsCase };
}
