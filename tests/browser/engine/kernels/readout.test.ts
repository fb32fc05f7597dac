/**
 * shaders/readout.wgsl (ReadoutPass) vs its CPU twin readoutRef on headless Chromium WebGPU
 * (SwiftShader), through tests/browser/pages/kernels-harness.ts: shapes, strides, offsets,
 * 2D grids, untouched outputs, and readout around a steer.
 *
 * Tolerance |gpu - ref| <= ATOL + RTOL * |ref| with ATOL = RTOL = 1e-4: the GPU sums dot
 * products in f32 (strided partials + 256/64-way tree), the reference in f64. With unit
 * directions and O(1) residual entries the f32 dot error is ~1e-6..1e-5, far inside 1e-4;
 * elementwise updates are exact f32 ops on both sides (up to FMA contraction, <= 1 ulp).
 */
import { describe, expect, it } from 'vitest';
import { readoutRef } from '../../../../src/engine/kernels/readout-ref';
import { MODE_CODE } from '../../../../src/steering/mode';
import { norm, unitVector } from '../../../../src/steering/vector';
import { strengthToAlpha } from '../../../../src/steering/strength';
import { b64, expectBitEqual, expectClose, Rng, SENTINEL, splitResidual, unb64, setupKernelsHarness } from '../../../support/kernels';

const { run } = setupKernelsHarness();

describe('readout kernel', () => {
  const shapes: { tokens: number; hidden: number; K: number; offset?: number; rows?: number; grid?: number; stride?: number }[] = [
    { tokens: 1, hidden: 64, K: 1 },
    { tokens: 7, hidden: 576, K: 3 },
    { tokens: 33, hidden: 1000, K: 5 },
    { tokens: 4, hidden: 2048, K: 16, offset: 3, rows: 9 },
    { tokens: 2, hidden: 8192, K: 7, stride: 8 }, // stride > K: column 7 keeps its sentinel
    { tokens: 33, hidden: 100, K: 2, grid: 6 }, // 2D grid (6 x 6), 3 idle workgroups
  ];
  for (const s of shapes) {
    it(`tokens=${s.tokens} hidden=${s.hidden} K=${s.K} offset=${s.offset ?? 0}`, async () => {
      const rng = new Rng(5000 + s.tokens * 13 + s.hidden + s.K);
      const rows = s.rows ?? s.tokens;
      const offset = s.offset ?? 0;
      const stride = s.stride ?? s.K;
      const h = rng.normals(rows * s.hidden);
      const vectors = Array.from({ length: s.K }, () => rng.normals(s.hidden, 2));
      const outRows = s.tokens + 2;
      const res = await run({
        hidden: s.hidden,
        rows,
        h: b64(h),
        outRows,
        outStride: stride,
        maxWorkgroupsPerDimension: s.grid,
        ops: [{ kind: 'readout', vectors: vectors.map(b64), tokens: s.tokens, tokenOffset: offset, outOffsetRows: 1 }],
      });
      const out = unb64(res.readout!);
      const ref = readoutRef(h, s.tokens, s.hidden, vectors, offset);
      const gpu = new Float32Array(s.tokens * s.K);
      for (let t = 0; t < s.tokens; t++) for (let k = 0; k < s.K; k++) gpu[t * s.K + k] = out[(1 + t) * stride + k];
      expectClose(gpu, ref, 'projections');
      // Row 0, the last row and stride padding columns are untouched.
      for (let i = 0; i < outRows * stride; i++) {
        const row = Math.floor(i / stride);
        const col = i % stride;
        if (row === 0 || row > s.tokens || col >= s.K) expect(out[i], `out[${i}] untouched`).toBe(SENTINEL);
      }
      // Residual is read-only for readout.
      expectBitEqual(splitResidual(res, rows, s.hidden).h, h, 'residual unchanged');
    });
  }

  it('readout before/after an add equals p + alpha * dot(v, u)', async () => {
    const rng = new Rng(99);
    const [tokens, hidden, K] = [7, 576, 3];
    const h = rng.normals(tokens * hidden);
    const read = Array.from({ length: K }, () => rng.normals(hidden));
    const v = rng.normals(hidden, 0.5);
    read[2] = v; // one readout direction is the steering vector itself: delta = alpha * |v|
    const alpha = strengthToAlpha(0.8, Math.sqrt(hidden), norm(v));
    const res = await run({
      hidden,
      rows: tokens,
      h: b64(h),
      outRows: 2 * tokens,
      ops: [
        { kind: 'readout', vectors: read.map(b64), tokens, outOffsetRows: 0 },
        { kind: 'steer', vectors: [b64(v)], params: [{ mode: MODE_CODE.add, alpha, target: 0 }], tokens },
        { kind: 'readout', vectors: read.map(b64), tokens, outOffsetRows: tokens },
      ],
    });
    const out = unb64(res.readout!);
    const before = out.subarray(0, tokens * K);
    const after = out.subarray(tokens * K, 2 * tokens * K);
    expectClose(before, readoutRef(h, tokens, hidden, read), 'before vs ref');
    const units = read.map((r) => unitVector(r));
    const expected = new Float32Array(tokens * K);
    for (let t = 0; t < tokens; t++) {
      for (let k = 0; k < K; k++) {
        let d = 0;
        for (let i = 0; i < hidden; i++) d += v[i] * units[k][i];
        expected[t * K + k] = before[t * K + k] + alpha * d;
      }
    }
    expectClose(after, expected, 'after = before + alpha dot(v,u)');
    for (let t = 0; t < tokens; t++) {
      expect(Math.abs(after[t * K + 2] - before[t * K + 2] - 0.8 * Math.sqrt(hidden))).toBeLessThan(1e-3);
    }
  });
});
