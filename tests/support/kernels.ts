/**
 * Shared by the kernel GPU-vs-CPU tests (tests/browser/engine/kernels/*.test.ts): deterministic
 * inputs, base64 transport of f32 arrays (bit-exact, keeps -0 and NaN), the tolerance check
 * |gpu - ref| <= atol + rtol * |ref|, bit equality, and access to the kernels harness page
 * (tests/browser/pages/kernels-harness.ts), whose GPU work runs inside pushErrorScope('validation').
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { mulberry32 } from '../../src/shared/rng';
import { launchBrowser, type BrowserHandle } from './browser';
import type { CaseResult, CaseSpec, KernelsApi } from '../browser/pages/kernels-harness';

/** Default tolerances of the residual-stream kernels (see the test files' headers). */
export const ATOL = 1e-4;
export const RTOL = 1e-4;
/** The harness fills pads and untouched outputs with this value (kernels-harness.ts SENTINEL). */
export const SENTINEL = 12345.5;

// ---------- deterministic inputs ----------

export class Rng {
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

export const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
export const unb64 = (s: string): Float32Array => {
  const buf = Buffer.from(s, 'base64');
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
};
export const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

// ---------- comparison helpers ----------

export function expectClose(gpu: Float32Array, ref: Float32Array, what: string, atol = ATOL, rtol = RTOL): void {
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

export function expectBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  const ba = bits(a);
  const bb = bits(b);
  for (let i = 0; i < ba.length; i++) {
    if (ba[i] !== bb[i]) throw new Error(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
  }
}

// ---------- harness access ----------

export interface KernelsHarness {
  /** Run a case and expect no TS exception and no WebGPU validation error. */
  run(spec: CaseSpec): Promise<CaseResult>;
  /** Run a case and return whatever happened (for tests that expect an exception). */
  evaluate(spec: CaseSpec): Promise<CaseResult>;
}

/** Launch Chromium on the kernels harness page for this test file (beforeAll / afterAll). */
export function setupKernelsHarness(): KernelsHarness {
  let handle: BrowserHandle | undefined;
  let page: Page;

  /**
   * Evaluate the harness. The Vite dev server watches the whole repo, so an unrelated edit by
   * someone else can full-reload the page mid-run: wait for the harness again and retry once.
   */
  async function evaluate(spec: CaseSpec): Promise<CaseResult> {
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
    const res = await evaluate(spec);
    expect(res.exception, 'TS exception').toBeNull();
    expect(res.error, 'WebGPU validation error').toBeNull();
    return res;
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

  return { run, evaluate };
}

/** Final residual rows (without the pad) and the pad tail. */
export function splitResidual(res: CaseResult, rows: number, hidden: number): { h: Float32Array; pad: Float32Array } {
  const all = unb64(res.h);
  return { h: all.subarray(0, rows * hidden), pad: all.subarray(rows * hidden) };
}
