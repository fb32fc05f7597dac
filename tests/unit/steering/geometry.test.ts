/** Trait geometry math: the cosine matrix and Gram–Schmidt orthogonalisation (invariants). */
import { describe, expect, it } from 'vitest';
import { cosineMatrix, orthogonalize, orthonormalBasis, randomCosineScale } from '../../../src/steering/geometry';
import { cosine, dot, norm, randomUnit } from '../../../src/steering/vector';

const H = 64;
const dir = (seed: number, hidden = H) => randomUnit('m', hidden, [0], seed).layers[0];
const mix = (a: Float32Array, b: Float32Array, x: number, y: number) => a.map((e, i) => x * e + y * b[i]);

describe('cosineMatrix', () => {
  it('is symmetric with ones on the diagonal and the pairwise cosines off it', () => {
    const xs = [dir(1), dir(2), mix(dir(1), dir(3), 0.6, 0.8), dir(4).map((e) => e * 7)];
    const m = cosineMatrix(xs);
    for (let i = 0; i < xs.length; i++) {
      expect(m[i][i]).toBe(1);
      for (let j = 0; j < xs.length; j++) {
        expect(m[i][j]).toBe(m[j][i]);
        if (i !== j) expect(m[i][j]).toBeCloseTo(cosine(xs[i], xs[j]), 12);
      }
    }
    expect(m[0][3]).toBeCloseTo(cosine(dir(1), dir(4)), 6); // scale does not matter (up to f32 rounding of the scaled copy)
  });

  it('gives null where a direction is missing or zero', () => {
    const m = cosineMatrix([dir(1), null, new Float32Array(H), dir(2)]);
    expect(m[0][1]).toBeNull();
    expect(m[1][1]).toBeNull();
    expect(m[2][0]).toBeNull();
    expect(m[2][2]).toBeNull();
    expect(m[0][3]).not.toBeNull();
  });

  it('random directions have |cosine| around 1/√hidden', () => {
    const hidden = 576;
    const xs = Array.from({ length: 24 }, (_, i) => dir(100 + i, hidden));
    const m = cosineMatrix(xs);
    const off = m.flatMap((r, i) => r.filter((_, j) => j > i) as number[]);
    const rms = Math.sqrt(off.reduce((a, c) => a + c * c, 0) / off.length);
    expect(randomCosineScale(hidden)).toBeCloseTo(1 / 24, 12);
    expect(rms).toBeGreaterThan(0.6 / 24);
    expect(rms).toBeLessThan(1.5 / 24);
  });
});

describe('orthogonalize', () => {
  const others = [dir(2), mix(dir(3), dir(2), 0.5, 0.5), dir(4)];

  it('leaves ~0 cosine with every other vector and keeps the norm', () => {
    const v = mix(dir(1), dir(2), 0.6, 0.8).map((e) => e * 3);
    const r = orthogonalize(v, others);
    expect(r.degenerate).toBe(false);
    for (const o of others) expect(Math.abs(cosine(r.vector, o))).toBeLessThan(1e-6);
    expect(norm(r.vector)).toBeCloseTo(norm(v), 5);
    expect(r.kept).toBeGreaterThan(0);
    expect(r.kept).toBeLessThan(1);
    // The result is the component of v outside the span: its cosine with v is `kept`.
    expect(cosine(r.vector, v)).toBeCloseTo(r.kept, 6);
  });

  it('does not change its inputs and returns a new array', () => {
    const v = dir(1);
    const copy = Float32Array.from(v);
    const r = orthogonalize(v, others);
    expect(r.vector).not.toBe(v);
    expect(Array.from(v)).toEqual(Array.from(copy));
  });

  it('a vector already orthogonal to the others comes back unchanged', () => {
    const basis = orthonormalBasis(others);
    const w = Float64Array.from(dir(9));
    for (const q of basis) {
      const c = dot(w, q);
      for (let i = 0; i < H; i++) w[i] -= c * q[i];
    }
    const v = Float32Array.from(w);
    const r = orthogonalize(v, others);
    expect(r.kept).toBeCloseTo(1, 6);
    for (let i = 0; i < H; i++) expect(r.vector[i]).toBeCloseTo(v[i], 6);
    expect(Array.from(orthogonalize(v, []).vector)).toEqual(Array.from(v));
  });

  it('is idempotent', () => {
    const once = orthogonalize(mix(dir(1), dir(4), 0.3, 0.9), others).vector;
    const twice = orthogonalize(once, others);
    expect(twice.kept).toBeCloseTo(1, 6);
    for (let i = 0; i < H; i++) expect(twice.vector[i]).toBeCloseTo(once[i], 6);
  });

  it('a vector in the span of the others is degenerate (zeros), and dependent others are skipped', () => {
    const r = orthogonalize(mix(dir(2), dir(4), 0.3, -2), others);
    expect(r.degenerate).toBe(true);
    expect(r.vector.every((e) => e === 0)).toBe(true);
    expect(orthonormalBasis([dir(2), dir(2).map((e) => e * 2), new Float32Array(H)])).toHaveLength(1);
  });

  it('stays accurate against nearly parallel others (modified Gram–Schmidt, two passes)', () => {
    const a = dir(2);
    const b = mix(a, dir(3), 1, 1e-4); // almost a
    const v = dir(1);
    const r = orthogonalize(v, [a, b]);
    expect(Math.abs(cosine(r.vector, a))).toBeLessThan(1e-6);
    expect(Math.abs(cosine(r.vector, b))).toBeLessThan(1e-5);
  });

  it('refuses others of another length', () => {
    expect(() => orthogonalize(dir(1), [dir(2, 32)])).toThrow(/length 64 against one of length 32/);
  });
});
