import { describe, expect, it } from 'vitest';
import { strengthToAlpha, strengthToTarget, typicalNorm } from '../../../src/steering/strength';
import { norm, unitVector } from '../../../src/steering/vector';

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

describe('vector helpers', () => {
  it('unitVector normalises and maps zero to zero', () => {
    const u = unitVector(new Float32Array([3, 4]));
    expect(u[0]).toBeCloseTo(0.6, 6);
    expect(u[1]).toBeCloseTo(0.8, 6);
    expect(Array.from(unitVector(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});
