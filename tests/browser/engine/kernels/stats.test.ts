/**
 * shaders/stats.wgsl (StatsPass: accumulate + finalize_mean) vs its CPU twin (stats-ref.ts) on
 * headless Chromium WebGPU (SwiftShader), through tests/browser/pages/extraction-harness.ts:
 * pooling, per-pair differences, padded residuals, separate submits and 2D grids. The kernel
 * and the reference both add in f32: |gpu - ref| <= 1e-5 + 1e-5 |ref|.
 */
import { describe, it } from 'vitest';
import { expectClose, unb64 } from '../../../support/kernels';
import { setupStatsHarness, type KernelShape } from '../../../support/stats-kernels';

const { statsCase } = setupStatsHarness();

describe('stats kernel vs accumulateRef / meanDiffRef', () => {
  const shapes: KernelShape[] = [
    { hidden: 64, layers: 3, pairs: 4, rows: 5, count: 1 },
    { hidden: 1000, layers: 2, pairs: 3, rows: 9, count: 3, pad: 64, submitEach: true },
    { hidden: 200, layers: 2, pairs: 2, rows: 4, count: 4, grid: 3 }, // 2D grids: 4 workgroups as 3 x 2, finalize 7 as 3 x 3
  ];
  for (const s of shapes) {
    it(`accumulate + finalize_mean: hidden=${s.hidden} layers=${s.layers} pairs=${s.pairs} pooled=${s.count}/${s.rows}${s.grid ? ` grid<=${s.grid}` : ''}`, async () => {
      const { res, ref, meanDiff } = await statsCase(s, 17 + s.hidden);
      expectClose(unb64(res.sums), ref.sums, 'sums', 1e-5, 1e-5);
      expectClose(unb64(res.diffs), ref.diffs, 'diffs', 1e-5, 1e-5);
      expectClose(unb64(res.meanDiff), meanDiff, 'meanDiff', 1e-5, 1e-5);
    });
  }
});
