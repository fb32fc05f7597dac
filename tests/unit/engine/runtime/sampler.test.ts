import { describe, expect, it } from 'vitest';
import { argmax, Sampler } from '../../../../src/engine/runtime/sampler';
import { GREEDY, validateSampling } from '../../../../src/shared/sampling';

const logits = Float32Array.from([1, 3, 2, 0.5, 2.9]);

describe('sampler', () => {
  it('greedy is argmax', () => {
    expect(new Sampler(GREEDY).next(logits, [])).toBe(1);
    expect(argmax([0, -1, 5, 5])).toBe(2);
  });
  it('repetition penalty pushes seen tokens down (positive divided, negative multiplied)', () => {
    const s = new Sampler({ ...GREEDY, repetitionPenalty: 2 });
    expect(s.next(logits, [1])).toBe(4);
    expect(logits[1]).toBe(3); // input not modified
  });
  it('seeded sampling is deterministic and respects top-k', () => {
    const opts = { temperature: 1, topK: 2, topP: 1, repetitionPenalty: 1, seed: 42 };
    const a = new Sampler(opts);
    const b = new Sampler(opts);
    const xs = Array.from({ length: 200 }, () => a.next(logits, []));
    const ys = Array.from({ length: 200 }, () => b.next(logits, []));
    expect(xs).toEqual(ys);
    expect(new Set(xs)).toEqual(new Set([1, 4]));
  });
  it('top-p keeps the smallest set reaching p', () => {
    const peaked = Float32Array.from([10, 0, 0, 0]);
    const s = new Sampler({ temperature: 1, topK: 0, topP: 0.9, repetitionPenalty: 1, seed: 1 });
    for (let i = 0; i < 50; i++) expect(s.next(peaked, [])).toBe(0);
  });
  it('sampling frequencies follow softmax at the temperature', () => {
    const two = Float32Array.from([0, Math.log(3)]); // p = 1/4, 3/4
    const s = new Sampler({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, seed: 7 });
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += s.next(two, []);
    expect(ones / 4000).toBeGreaterThan(0.72);
    expect(ones / 4000).toBeLessThan(0.78);
  });
  it('validates options with readable messages', () => {
    expect(validateSampling(GREEDY)).toBeNull();
    expect(validateSampling({ ...GREEDY, topP: 0 })).toMatch(/top-p/);
    expect(validateSampling({ ...GREEDY, temperature: -1 })).toMatch(/temperature/);
  });
});
