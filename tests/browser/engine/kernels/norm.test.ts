/**
 * shaders/norm.wgsl (NormPass) vs its CPU twin normRef on headless Chromium WebGPU
 * (SwiftShader), through tests/browser/pages/kernels-harness.ts. The GPU sums squares in f32
 * (strided partials + 256-way tree), the reference in f64: |gpu - ref| <= 1e-5 + 1e-5 |ref|.
 */
import { describe, expect, it } from 'vitest';
import { normRef } from '../../../../src/engine/kernels/norm-ref';
import { b64, expectClose, Rng, SENTINEL, unb64, setupKernelsHarness } from '../../../support/kernels';

const { run } = setupKernelsHarness();

describe('norm kernel vs normRef', () => {
  const shapes: { tokens: number; hidden: number; offset?: number; rows?: number; grid?: number }[] = [
    { tokens: 1, hidden: 64 },
    { tokens: 7, hidden: 576 },
    { tokens: 33, hidden: 1000, grid: 6 },
    { tokens: 3, hidden: 8192, offset: 1, rows: 5 },
    { tokens: 4, hidden: 10000 }, // norm has no hidden limit
  ];
  for (const s of shapes) {
    it(`tokens=${s.tokens} hidden=${s.hidden} offset=${s.offset ?? 0}`, async () => {
      const rng = new Rng(77 + s.tokens + s.hidden);
      const rows = s.rows ?? s.tokens;
      const offset = s.offset ?? 0;
      const h = rng.normals(rows * s.hidden, rng.uniform(0.5, 20));
      const outRows = s.tokens + 3;
      const res = await run({
        hidden: s.hidden,
        rows,
        h: b64(h),
        outRows,
        maxWorkgroupsPerDimension: s.grid,
        ops: [{ kind: 'norm', tokens: s.tokens, tokenOffset: offset, outOffset: 2 }],
      });
      const out = unb64(res.norms!);
      expectClose(out.subarray(2, 2 + s.tokens), normRef(h, s.tokens, s.hidden, offset), 'norms', 1e-5, 1e-5);
      expect(out[0]).toBe(SENTINEL);
      expect(out[1]).toBe(SENTINEL);
      expect(out[2 + s.tokens]).toBe(SENTINEL);
    });
  }
});
