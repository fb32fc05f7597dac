/**
 * shaders/pca.wgsl (PcaPass: init + power steps) vs its CPU twin pcaPowerRef (pca-ref.ts) on
 * headless Chromium WebGPU (SwiftShader), through tests/browser/pages/extraction-harness.ts,
 * and against extract-math's converged PCA after the sign rule. The GPU reduces in f32 in tree
 * order, the reference in f64: |gpu - ref| <= 2e-4 + 1e-3 |ref|.
 */
import { describe, expect, it } from 'vitest';
import { fixSignTowardHigh, pcaPowerRef } from '../../../../src/engine/kernels/pca-ref';
import { cosine } from '../../../../src/steering/vector';
import { pcaDirection } from '../../../../src/traits/extract-math';
import { expectClose, unb64 } from '../../../support/kernels';
import { rowOf, setupStatsHarness, type KernelShape } from '../../../support/stats-kernels';

const { statsCase } = setupStatsHarness();

describe('pca kernel vs pcaPowerRef', () => {
  const pcaShapes: (KernelShape & { iterations: number; center: boolean })[] = [
    { hidden: 64, layers: 3, pairs: 6, rows: 2, count: 1, iterations: 30, center: false },
    { hidden: 300, layers: 2, pairs: 12, rows: 1, count: 1, iterations: 60, center: true },
    { hidden: 8192, layers: 1, pairs: 3, rows: 1, count: 1, iterations: 10, center: false },
  ];
  for (const s of pcaShapes) {
    it(`pca power iteration: hidden=${s.hidden} layers=${s.layers} pairs=${s.pairs} iterations=${s.iterations}${s.center ? ' centered' : ''}`, async () => {
      const { res, ref, meanDiff } = await statsCase(s, 99 + s.hidden, { iterations: s.iterations, center: s.center });
      const gpu = unb64(res.pca!);
      const cpu = pcaPowerRef(ref.diffs, meanDiff, s, s.iterations, s.center);
      expectClose(gpu, cpu, 'pca vectors', 2e-4, 1e-3);
      for (let l = 0; l < s.layers; l++) {
        // Same direction as extract-math's converged PCA of the paired differences, sign toward high.
        const diffs = Array.from({ length: s.pairs }, (_, p) => ref.diffs.slice((p * s.layers + l) * s.hidden, (p * s.layers + l + 1) * s.hidden));
        const zeros = diffs.map(() => new Float32Array(s.hidden));
        const want = pcaDirection(diffs, zeros, { center: s.center });
        const got = fixSignTowardHigh(rowOf(gpu, l, s.hidden), rowOf(meanDiff, l, s.hidden));
        expect(cosine(got, want), `layer ${l}`).toBeGreaterThan(0.9999);
      }
    });
  }
});
