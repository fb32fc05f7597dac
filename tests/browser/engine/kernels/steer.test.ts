/**
 * shaders/steer.wgsl (SteerPass) vs its CPU twin steerRef on headless Chromium WebGPU
 * (SwiftShader), through tests/browser/pages/kernels-harness.ts: shapes, 2D grids, offsets,
 * all modes, the bit-exactness invariants and the encode argument checks.
 *
 * Tolerance |gpu - ref| <= ATOL + RTOL * |ref| with ATOL = RTOL = 1e-4: the GPU sums dot
 * products in f32 (strided partials + 256/64-way tree), the reference in f64. With unit
 * directions and O(1) residual entries the f32 dot error is ~1e-6..1e-5, far inside 1e-4;
 * elementwise updates are exact f32 ops on both sides (up to FMA contraction, <= 1 ulp).
 */
import { describe, expect, it } from 'vitest';
import { readoutRef } from '../../../../src/engine/kernels/readout-ref';
import { steerRef } from '../../../../src/engine/kernels/steer-ref';
import type { SteerParam } from '../../../../src/engine/kernels/steer-params';
import { MODE_CODE, type ModeCode } from '../../../../src/steering/mode';
import { norm } from '../../../../src/steering/vector';
import { strengthToAlpha, strengthToTarget } from '../../../../src/steering/strength';
import { b64, expectBitEqual, expectClose, Rng, SENTINEL, splitResidual, setupKernelsHarness } from '../../../support/kernels';

const { run, evaluate } = setupKernelsHarness();

/** Random params for K directions mixing all modes; strength in residual-norm units. */
function randomParams(rng: Rng, vectors: Float32Array[], typical: number, modes?: ModeCode[]): SteerParam[] {
  return vectors.map((v, k) => {
    const mode = modes ? modes[k % modes.length] : ([0, 1, 2, 3] as const)[rng.int(4)];
    const strength = rng.uniform(-1.5, 1.5);
    return {
      mode,
      alpha: strengthToAlpha(strength, typical, norm(v)),
      target: strengthToTarget(strength * 0.3, typical),
    };
  });
}

describe('steer kernel vs steerRef', () => {
  const shapes: { tokens: number; hidden: number; K: number; offset?: number; rows?: number; grid?: number }[] = [
    { tokens: 1, hidden: 64, K: 1 },
    { tokens: 7, hidden: 576, K: 3 },
    { tokens: 33, hidden: 1000, K: 5 },
    { tokens: 7, hidden: 1000, K: 3, offset: 2, rows: 12 },
    { tokens: 33, hidden: 300, K: 5, grid: 6 }, // 2D grid (6 x 6), last grid row partly idle
    { tokens: 3, hidden: 8192, K: 4 },
    { tokens: 2, hidden: 2048, K: 16 },
  ];
  for (const s of shapes) {
    it(`tokens=${s.tokens} hidden=${s.hidden} K=${s.K} offset=${s.offset ?? 0}${s.grid ? ` grid<=${s.grid}` : ''}`, async () => {
      const rng = new Rng(1000 + s.tokens * 31 + s.hidden * 7 + s.K);
      const rows = s.rows ?? s.tokens;
      const offset = s.offset ?? 0;
      const h = rng.normals(rows * s.hidden);
      const vectors = Array.from({ length: s.K }, () => rng.normals(s.hidden, rng.uniform(0.1, 3)));
      const typical = Math.sqrt(s.hidden);
      // Make sure every mode appears at least once when K >= 3, the rest random.
      const params = randomParams(rng, vectors, typical);
      if (s.K >= 3) {
        params[0].mode = MODE_CODE.add;
        params[1].mode = MODE_CODE.clamp;
        params[2].mode = MODE_CODE.ablate;
      }
      const res = await run({
        hidden: s.hidden,
        rows,
        h: b64(h),
        padBytes: 48,
        maxWorkgroupsPerDimension: s.grid,
        ops: [{ kind: 'steer', vectors: vectors.map(b64), params, tokens: s.tokens, tokenOffset: offset }],
      });
      const { h: gpu, pad } = splitResidual(res, rows, s.hidden);
      const ref = steerRef(h, s.tokens, s.hidden, vectors, params, offset);
      expectClose(gpu, ref, 'steered residual');
      // Rows outside [offset, offset + tokens) and the buffer's pad are untouched.
      expectBitEqual(gpu.subarray(0, offset * s.hidden), h.subarray(0, offset * s.hidden), 'rows before offset');
      expectBitEqual(gpu.subarray((offset + s.tokens) * s.hidden), h.subarray((offset + s.tokens) * s.hidden), 'rows after');
      expect(
        Array.from(pad).every((x) => x === SENTINEL),
        'pad untouched',
      ).toBe(true);
      // Sanity: the steering did something (unless every mode drew none).
      if (params.some((p) => p.mode !== MODE_CODE.none)) expect(Array.from(gpu).some((x, i) => x !== h[i])).toBe(true);
    });
  }

  it('clamp sets the projection to target and ablate to zero', async () => {
    const rng = new Rng(7);
    const [tokens, hidden] = [5, 1000];
    const h = rng.normals(tokens * hidden);
    const v = [rng.normals(hidden), rng.normals(hidden)];
    const params: SteerParam[] = [
      { mode: MODE_CODE.clamp, alpha: 0, target: 3.25 },
      { mode: MODE_CODE.ablate, alpha: 0, target: 0 },
    ];
    const res = await run({ hidden, rows: tokens, h: b64(h), ops: [{ kind: 'steer', vectors: v.map(b64), params, tokens }] });
    const gpu = splitResidual(res, tokens, hidden).h;
    const p = readoutRef(gpu, tokens, hidden, v);
    for (let t = 0; t < tokens; t++) {
      expect(Math.abs(p[t * 2 + 1]), 'ablated projection').toBeLessThan(1e-4);
    }
    expectClose(gpu, steerRef(h, tokens, hidden, v, params), 'clamp+ablate');
    // Single clamp: projection equals target.
    const res1 = await run({
      hidden,
      rows: tokens,
      h: b64(h),
      ops: [{ kind: 'steer', vectors: [b64(v[0])], params: [params[0]], tokens }],
    });
    const p1 = readoutRef(splitResidual(res1, tokens, hidden).h, tokens, hidden, [v[0]]);
    for (let t = 0; t < tokens; t++) expect(Math.abs(p1[t] - 3.25)).toBeLessThan(1e-4);
  });
});

describe('steer exactness invariants', () => {
  const [tokens, hidden, K] = [7, 1000, 5];
  const rng = new Rng(42);
  const h = rng.normals(tokens * hidden);
  const vectors = Array.from({ length: K }, () => rng.normals(hidden, 0.7));

  it('mode none and add with alpha 0 leave the residual bit-for-bit unchanged', async () => {
    const params: SteerParam[] = vectors.map((_, k) => ({
      mode: k % 2 === 0 ? MODE_CODE.add : MODE_CODE.none,
      alpha: k % 2 === 0 ? 0 : 5,
      target: 9,
    }));
    // Include -0 entries: h + 0 would turn them into +0, a skipped add must not.
    const hz = new Float32Array(h);
    hz[3] = -0;
    hz[hidden + 10] = -0;
    const res = await run({ hidden, rows: tokens, h: b64(hz), ops: [{ kind: 'steer', vectors: vectors.map(b64), params, tokens }] });
    expectBitEqual(splitResidual(res, tokens, hidden).h, hz, 'alpha 0 / none');
    expectBitEqual(steerRef(hz, tokens, hidden, vectors, params), hz, 'CPU ref alpha 0 / none');
  });

  it('(v, alpha=2) is bit-identical to (2v, alpha=1)', async () => {
    const doubled = vectors.map((v) => v.map((x) => 2 * x));
    const p2: SteerParam[] = vectors.map(() => ({ mode: MODE_CODE.add, alpha: 2, target: 0 }));
    const p1: SteerParam[] = vectors.map(() => ({ mode: MODE_CODE.add, alpha: 1, target: 0 }));
    const a = await run({ hidden, rows: tokens, h: b64(h), ops: [{ kind: 'steer', vectors: vectors.map(b64), params: p2, tokens }] });
    const b = await run({ hidden, rows: tokens, h: b64(h), ops: [{ kind: 'steer', vectors: doubled.map(b64), params: p1, tokens }] });
    expectBitEqual(splitResidual(a, tokens, hidden).h, splitResidual(b, tokens, hidden).h, '(v,2) vs (2v,1)');
    expectClose(splitResidual(a, tokens, hidden).h, steerRef(h, tokens, hidden, vectors, p2), '(v,2) vs ref');
  });

  for (const submitEach of [false, true]) {
    it(`v then -v (two passes, ${submitEach ? 'two submits' : 'one command buffer'}) returns the baseline`, async () => {
      const v = vectors[0];
      const alpha = strengthToAlpha(1.3, Math.sqrt(hidden), norm(v));
      const neg = v.map((x) => -x);
      const add: SteerParam[] = [{ mode: MODE_CODE.add, alpha, target: 0 }];
      const res = await run({
        hidden,
        rows: tokens,
        h: b64(h),
        submitEach,
        ops: [
          { kind: 'steer', vectors: [b64(v)], params: add, tokens },
          { kind: 'steer', vectors: [b64(neg)], params: add, tokens },
        ],
      });
      const gpu = splitResidual(res, tokens, hidden).h;
      const a32 = Math.fround(alpha);
      for (let i = 0; i < gpu.length; i++) {
        const scale = Math.abs(h[i]) + Math.abs(a32 * v[i % hidden]);
        if (Math.abs(gpu[i] - h[i]) > 1e-6 * scale) {
          throw new Error(`element ${i}: ${gpu[i]} vs baseline ${h[i]} (scale ${scale})`);
        }
      }
    });
  }

  it('token offset steers only the requested rows', async () => {
    const rows = 10;
    const hr = rng.normals(rows * hidden);
    const params: SteerParam[] = vectors.map((v) => ({
      mode: MODE_CODE.add,
      alpha: strengthToAlpha(0.5, Math.sqrt(hidden), norm(v)),
      target: 0,
    }));
    const res = await run({
      hidden,
      rows,
      h: b64(hr),
      ops: [{ kind: 'steer', vectors: vectors.map(b64), params, tokens: 3, tokenOffset: 4 }],
    });
    const gpu = splitResidual(res, rows, hidden).h;
    for (let r = 0; r < rows; r++) {
      const g = gpu.subarray(r * hidden, (r + 1) * hidden);
      const orig = hr.subarray(r * hidden, (r + 1) * hidden);
      if (r >= 4 && r < 7)
        expect(
          Array.from(g).some((x, i) => x !== orig[i]),
          `row ${r} steered`,
        ).toBe(true);
      else expectBitEqual(g, orig, `row ${r} untouched`);
    }
    expectClose(gpu, steerRef(hr, 3, hidden, vectors, params, 4), 'offset rows vs ref');
  });

  it('one pass encoded twice in one command buffer with different token ranges', async () => {
    // Per-call values live in immutable uniforms, so both encodes keep their own range.
    const rows = 9;
    const hr = rng.normals(rows * hidden);
    const params: SteerParam[] = [{ mode: MODE_CODE.ablate, alpha: 0, target: 0 }];
    const res = await run({
      hidden,
      rows,
      h: b64(hr),
      ops: [
        { kind: 'steer', vectors: [b64(vectors[1])], params, tokens: 2, tokenOffset: 0 },
        { kind: 'steer', vectors: [], params: [], tokens: 3, tokenOffset: 5, samePassAs: 0 },
      ],
    });
    const gpu = splitResidual(res, rows, hidden).h;
    let ref = steerRef(hr, 2, hidden, [vectors[1]], params, 0);
    ref = steerRef(ref, 3, hidden, [vectors[1]], params, 5);
    expectClose(gpu, ref, 'two encodes');
    expectBitEqual(gpu.subarray(2 * hidden, 5 * hidden), hr.subarray(2 * hidden, 5 * hidden), 'rows 2..4 untouched');
    expectBitEqual(gpu.subarray(8 * hidden), hr.subarray(8 * hidden), 'row 8 untouched');
  });
});

describe('encode argument checks', () => {
  it('rejects a residual smaller than (tokenOffset + tokens) * hidden', async () => {
    const res = await evaluate({
      hidden: 64,
      rows: 2,
      h: b64(new Float32Array(128)),
      ops: [{ kind: 'steer', vectors: [b64(new Float32Array(64).fill(1))], params: [], tokens: 3 }],
    });
    expect(res.exception).toMatch(/needs/);
    expect(res.error).toBeNull();
  });
});
