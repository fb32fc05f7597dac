/**
 * Deterministic logits for the sampling-kernel tests, made the same way in the browser page and
 * in the test: plain normal values, values on a few levels (many exact ties), or float16 rows.
 */
import { halfToFloat } from '../../src/engine/runtime/f16';
import { mulberry32 } from '../../src/shared/rng';

export interface LogitsCase {
  seed: number;
  vocab: number;
  rows: number;
  /** Values on this many levels (0.5 apart): many exact ties. */
  levels?: number;
  /** Rows in float16 (half bits in `half`, their exact values in `values`). */
  f16?: boolean;
  /** Overwrite these positions (of the whole [rows, vocab] array; 'all' = every one) with a non-finite value. */
  nonFinite?: { kind: 'nan' | 'inf' | '-inf'; at: number[] | 'all' };
}

const BAD = { nan: { f32: NaN, half: 0x7e00 }, inf: { f32: Infinity, half: 0x7c00 }, '-inf': { f32: -Infinity, half: 0xfc00 } } as const;

function poison(c: LogitsCase, out: CaseLogits): CaseLogits {
  if (!c.nonFinite) return out;
  const bad = BAD[c.nonFinite.kind];
  const at = c.nonFinite.at === 'all' ? Array.from(out.values.keys()) : c.nonFinite.at;
  for (const i of at) {
    out.values[i] = bad.f32;
    if (out.half) out.half[i] = bad.half;
  }
  return out;
}

export interface CaseLogits {
  values: Float32Array; // [rows, vocab]
  half: Uint16Array | null; // [rows, vocab] when f16
}

export function caseLogits(c: LogitsCase): CaseLogits {
  return poison(c, finiteLogits(c));
}

function finiteLogits(c: LogitsCase): CaseLogits {
  const r = mulberry32(c.seed);
  const n = c.rows * c.vocab;
  const values = new Float32Array(n);
  if (c.f16) {
    const half = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      // sign, exponent 11..19 (|x| in [2^-4, 2^5)), 10 random mantissa bits; levels: few mantissas
      const sign = r() < 0.5 ? 0x8000 : 0;
      const exp = 11 + Math.floor(r() * 9);
      const mant = c.levels ? Math.floor(r() * c.levels) << 6 : Math.floor(r() * 1024);
      half[i] = sign | (exp << 10) | mant;
      values[i] = halfToFloat(half[i]);
    }
    return { values, half };
  }
  for (let i = 0; i < n; i++) {
    if (c.levels) values[i] = (Math.floor(r() * c.levels) - c.levels / 2) * 0.5;
    else values[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) * 3;
  }
  return { values, half: null };
}

/** A history of `n` token ids drawn from [0, vocab) (repeats allowed). */
export function caseHistory(seed: number, vocab: number, n: number): number[] {
  const r = mulberry32(seed ^ 0x5bd1e995);
  return Array.from({ length: n }, () => Math.floor(r() * vocab));
}
