import { describe, expect, it } from 'vitest';
import { MODE_CODE } from '../../../src/steering/mode';
import { combinedAddVector, planLayers, type TraitSetting } from '../../../src/steering/plan';
import { add, norm, randomUnit, scale, validateVector, type TraitVector } from '../../../src/steering/vector';

const v: TraitVector = { model: 'm', hidden: 3, layers: { 1: Float32Array.from([3, 0, 4]), 2: Float32Array.from([0, 1, 0]) } };
const setting = (s: Partial<TraitSetting>): TraitSetting => ({ traitId: 'a', strength: 0.5, mode: 'add', layer: 1, enabled: true, ...s });

describe('trait vectors are values', () => {
  it('scale and add are pure', () => {
    const before = Array.from(v.layers[1]);
    const s = scale(v, 2);
    expect(Array.from(s.layers[1])).toEqual([6, 0, 8]);
    expect(Array.from(v.layers[1])).toEqual(before);
    const sum = add(v, { model: 'm', hidden: 3, layers: { 2: Float32Array.from([1, 1, 1]), 3: Float32Array.from([1, 0, 0]) } });
    expect(Array.from(sum.layers[2])).toEqual([1, 2, 1]);
    expect(Array.from(sum.layers[3])).toEqual([1, 0, 0]);
    expect(Array.from(sum.layers[1])).toEqual([3, 0, 4]);
    expect(() => add(v, { model: 'm', hidden: 4, layers: {} })).toThrow(/hidden size/);
  });
  it('random unit directions are unit length and seeded', () => {
    const a = randomUnit('m', 64, [0, 3], 7);
    expect(norm(a.layers[3])).toBeCloseTo(1, 5);
    expect(Array.from(randomUnit('m', 64, [0], 7).layers[0])).toEqual(Array.from(a.layers[0]));
  });
  it('validation names the problem', () => {
    expect(validateVector(v, 3)).toBeNull();
    expect(validateVector(v, 4)).toMatch(/hidden size 3/);
    expect(validateVector({ ...v, layers: { 0: Float32Array.from([NaN, 0, 0]) } }, 3)).toMatch(/non-finite/);
  });
});

describe('steering plan', () => {
  const vectors = new Map([['a', v]]);
  const norms = new Map([
    [1, 10],
    [2, 20],
  ]);
  it('converts strength to alpha so that alpha*|v| = strength * typical norm', () => {
    const [p1, p2] = planLayers([1, 2], vectors, [setting({})], norms);
    expect(p1.slots[0].mode).toBe(MODE_CODE.add);
    expect(p1.slots[0].alpha * norm(v.layers[1])).toBeCloseTo(0.5 * 10);
    // Layer 2 has the trait's direction (for readout) but no intervention there.
    expect(p2.slots[0].mode).toBe(MODE_CODE.none);
  });
  it('strength 0 in add mode, or disabled, is no intervention; clamp and ablate are', () => {
    expect(planLayers([1], vectors, [setting({ strength: 0 })], norms)[0].slots[0].mode).toBe(MODE_CODE.none);
    expect(planLayers([1], vectors, [setting({ enabled: false })], norms)[0].slots[0].mode).toBe(MODE_CODE.none);
    const clamp = planLayers([1], vectors, [setting({ mode: 'clamp', strength: -0.2 })], norms)[0].slots[0];
    expect(clamp.mode).toBe(MODE_CODE.clamp);
    expect(clamp.target).toBeCloseTo(-2);
    expect(planLayers([1], vectors, [setting({ mode: 'ablate', strength: 0 })], norms)[0].slots[0].mode).toBe(MODE_CODE.ablate);
  });
  it('combined add vector per layer is the sum of alpha*v (what an exported control vector holds)', () => {
    const w: TraitVector = { model: 'm', hidden: 3, layers: { 1: Float32Array.from([0, 2, 0]) } };
    const plans = planLayers(
      [1],
      new Map([
        ['a', v],
        ['b', w],
      ]),
      [setting({}), setting({ traitId: 'b', strength: -1 })],
      norms,
    );
    const c = combinedAddVector(plans, 3)[1];
    expect(c[0]).toBeCloseTo((0.5 * 10 * 3) / 5);
    expect(c[1]).toBeCloseTo(-10);
    expect(c[2]).toBeCloseTo((0.5 * 10 * 4) / 5);
  });
});
