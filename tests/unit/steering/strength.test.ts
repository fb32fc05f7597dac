import { describe, expect, it } from 'vitest';
import { strengthToAlpha, strengthToTarget, typicalNorm } from '../../../src/steering/strength';
import { K_MAX, MODE_CODE, type ModeCode } from '../../../src/steering/mode';
import { norm, unitVector } from '../../../src/steering/vector';
import { packParams } from '../../../src/engine/kernels/directions';
import { normRef, readoutRef, steerRef } from '../../../src/engine/kernels/reference';

describe('strength conversions', () => {
  it('alpha * |v| equals strength * typicalNorm', () => {
    const v = new Float32Array([3, 4]); // |v| = 5
    const alpha = strengthToAlpha(2, 10, norm(v));
    expect(alpha).toBeCloseTo(4, 12);
    expect(alpha * norm(v)).toBeCloseTo(20, 12);
    expect(strengthToAlpha(-0.5, 8, 2)).toBe(-2);
    expect(strengthToAlpha(0, 8, 2)).toBe(0);
  });
  it('zero vector gives alpha 0 instead of Infinity', () => {
    expect(strengthToAlpha(1, 10, 0)).toBe(0);
  });
  it('clamp target is strength * typicalNorm', () => {
    expect(strengthToTarget(1, 12.5)).toBe(12.5);
    expect(strengthToTarget(-0.25, 12)).toBe(-3);
  });
  it('typical norm is the mean of per-token norms', () => {
    expect(typicalNorm([1, 2, 3, 6])).toBe(3);
    expect(typicalNorm(new Float32Array(0))).toBe(0);
  });
});

describe('directions helpers', () => {
  it('unitVector normalises and maps zero to zero', () => {
    const u = unitVector(new Float32Array([3, 4]));
    expect(u[0]).toBeCloseTo(0.6, 6);
    expect(u[1]).toBeCloseTo(0.8, 6);
    expect(Array.from(unitVector(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
  it('packParams lays out {mode u32, alpha f32, target f32, pad} x K_MAX', () => {
    const buf = packParams([{ mode: MODE_CODE.clamp, alpha: 1.5, target: -2 }]);
    expect(buf.byteLength).toBe(K_MAX * 16);
    expect(new Uint32Array(buf)[0]).toBe(2);
    expect(new Float32Array(buf)[1]).toBe(1.5);
    expect(new Float32Array(buf)[2]).toBe(-2);
    expect(new Uint32Array(buf)[4]).toBe(0);
    expect(() => packParams([{ mode: 7 as ModeCode, alpha: 0, target: 0 }])).toThrow();
  });
});

describe('CPU references', () => {
  const hidden = 4;
  const h = new Float32Array([1, 2, 3, 4, -1, 0, 1, 0]); // [2, 4]
  const v = new Float32Array([0, 2, 0, 0]); // u = e1
  it('add / clamp / ablate', () => {
    expect(Array.from(steerRef(h, 2, hidden, [v], [{ mode: MODE_CODE.add, alpha: 0.5, target: 0 }]))).toEqual([1, 3, 3, 4, -1, 1, 1, 0]);
    expect(Array.from(steerRef(h, 2, hidden, [v], [{ mode: MODE_CODE.clamp, alpha: 0, target: 7 }]))).toEqual([1, 7, 3, 4, -1, 7, 1, 0]);
    expect(Array.from(steerRef(h, 2, hidden, [v], [{ mode: MODE_CODE.ablate, alpha: 0, target: 0 }]))).toEqual([1, 0, 3, 4, -1, 0, 1, 0]);
  });
  it('token offset and sequential order', () => {
    const out = steerRef(
      h,
      1,
      hidden,
      [v, v],
      [
        { mode: MODE_CODE.clamp, alpha: 0, target: 5 },
        { mode: MODE_CODE.add, alpha: 1, target: 0 },
      ],
      1,
    );
    expect(Array.from(out)).toEqual([1, 2, 3, 4, -1, 7, 1, 0]);
  });
  it('readout and norm', () => {
    expect(Array.from(readoutRef(h, 2, hidden, [v, new Float32Array([1, 0, 0, 0])]))).toEqual([2, 1, 0, -1]);
    expect(normRef(h, 2, hidden)[0]).toBeCloseTo(Math.sqrt(30), 5);
    expect(normRef(h, 1, hidden, 1)[0]).toBeCloseTo(Math.sqrt(2), 6);
  });
});
