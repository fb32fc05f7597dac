/**
 * GPU vs CPU checks of the residual-stream kernels (steer, readout, residual_norm) on headless
 * Chromium WebGPU (SwiftShader), through tests/browser/pages/kernels-harness.ts.
 *
 * Tolerance |gpu - ref| <= ATOL + RTOL * |ref| with ATOL = RTOL = 1e-4: the GPU sums dot
 * products in f32 (strided partials + 256/64-way tree), the reference in f64. With unit
 * directions and O(1) residual entries the f32 dot error is ~1e-6..1e-5, far inside 1e-4;
 * elementwise updates are exact f32 ops on both sides (up to FMA contraction, <= 1 ulp).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readoutRef, normRef, steerRef } from '../../../src/engine/kernels/reference';
import type { SteerParam } from '../../../src/engine/kernels/directions';
import { MODE_CODE, type ModeCode } from '../../../src/steering/mode';
import { norm, unitVector } from '../../../src/steering/vector';
import { strengthToAlpha, strengthToTarget } from '../../../src/steering/strength';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import type { CaseResult, CaseSpec, KernelsApi } from '../pages/kernels-harness';
import { mulberry32 } from '../../../src/shared/rng';

const ATOL = 1e-4;
const RTOL = 1e-4;
const SENTINEL = 12345.5;

// ---------- deterministic inputs ----------

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  normals(n: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * scale;
    return out;
  }
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const unb64 = (s: string): Float32Array => {
  const buf = Buffer.from(s, 'base64');
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
};
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

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

// ---------- comparison helpers ----------

function expectClose(gpu: Float32Array, ref: Float32Array, what: string, atol = ATOL, rtol = RTOL): void {
  expect(gpu.length, `${what}: length`).toBe(ref.length);
  let worst = -Infinity;
  let worstAt = -1;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(gpu[i] - ref[i]));
    const excess = Math.abs(gpu[i] - ref[i]) - (atol + rtol * Math.abs(ref[i]));
    if (!(excess <= worst) || Number.isNaN(gpu[i])) {
      worst = Number.isNaN(gpu[i]) ? Infinity : excess;
      worstAt = i;
    }
  }
  if (process.env.TRAITLAB_DEBUG) console.log(`${what}: max |gpu - ref| = ${maxAbs.toExponential(2)}`);
  if (worst > 0) {
    throw new Error(`${what}: element ${worstAt} gpu=${gpu[worstAt]} ref=${ref[worstAt]} exceeds tolerance by ${worst}`);
  }
}

function expectBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  const ba = bits(a);
  const bb = bits(b);
  for (let i = 0; i < ba.length; i++) {
    if (ba[i] !== bb[i]) throw new Error(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
  }
}

// ---------- harness access ----------

let handle: BrowserHandle;
let page: Page;

/**
 * Evaluate the harness. The Vite dev server watches the whole repo, so an unrelated edit by
 * someone else can full-reload the page mid-run: wait for the harness again and retry once.
 */
async function evaluateHarness(spec: CaseSpec): Promise<CaseResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      await page.waitForFunction(
        () => {
          const w = window as unknown as { harnessReady?: boolean; kernels?: KernelsApi };
          return w.harnessReady === true && w.kernels !== undefined;
        },
        null,
        { timeout: 60_000 },
      );
      return await page.evaluate((s) => (window as unknown as { kernels: KernelsApi }).kernels.run(s), spec);
    } catch (e) {
      if (attempt >= 1) throw e;
    }
  }
}

async function run(spec: CaseSpec): Promise<CaseResult> {
  const res = await evaluateHarness(spec);
  expect(res.exception, 'TS exception').toBeNull();
  expect(res.error, 'WebGPU validation error').toBeNull();
  return res;
}

/** Final residual rows (without the pad) and the pad tail. */
function splitResidual(res: CaseResult, rows: number, hidden: number): { h: Float32Array; pad: Float32Array } {
  const all = unb64(res.h);
  return { h: all.subarray(0, rows * hidden), pad: all.subarray(rows * hidden) };
}

beforeAll(async () => {
  handle = await launchBrowser();
  page = await handle.open('/tests/browser/pages/kernels.html');
  const err = await page.evaluate(() => (window as unknown as { harnessError?: string }).harnessError ?? null);
  expect(err, 'harness init').toBeNull();
});

afterAll(async () => {
  await handle?.close();
});

// ---------- tests ----------

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

describe('residual_norm kernel', () => {
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

describe('encode argument checks', () => {
  it('rejects a residual smaller than (tokenOffset + tokens) * hidden', async () => {
    const res = await evaluateHarness({
      hidden: 64,
      rows: 2,
      h: b64(new Float32Array(128)),
      ops: [{ kind: 'steer', vectors: [b64(new Float32Array(64).fill(1))], params: [], tokens: 3 }],
    });
    expect(res.exception).toMatch(/needs/);
    expect(res.error).toBeNull();
  });
});
