import { describe, expect, it } from 'vitest';
import { topkRef } from '../../../../src/engine/kernels/topk-ref';
import { argmax, gpuPlan, Sampler } from '../../../../src/engine/runtime/sampler';
import { GREEDY, validateSampling, type SamplingOptions } from '../../../../src/shared/sampling';
import { caseLogits, type LogitsCase } from '../../../support/sampling-cases';

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

describe('sampler: from GPU candidates (topk.wgsl twin) = from the full row', () => {
  // topkRef is the kernel's CPU twin; the GPU path is checked against it in tests/browser/engine/sampling.test.ts.
  const cases: { name: string; c: LogitsCase; o: SamplingOptions }[] = [
    { name: 'greedy + penalty', c: { seed: 1, vocab: 900, rows: 1 }, o: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.3, seed: 0 } },
    {
      name: 'top-k 20, top-p 0.8, penalty 1.1',
      c: { seed: 2, vocab: 900, rows: 1 },
      o: { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.1, seed: 4 },
    },
    { name: 'ties, top-k 5', c: { seed: 3, vocab: 500, rows: 1, levels: 5 }, o: { temperature: 1, topK: 5, topP: 1, repetitionPenalty: 1, seed: 9 } },
    {
      name: 'ties + penalty 2 (needs fallbacks)',
      c: { seed: 4, vocab: 500, rows: 1, levels: 4 },
      o: { temperature: 1, topK: 8, topP: 1, repetitionPenalty: 2, seed: 2 },
    },
    { name: 'top-k above vocab', c: { seed: 5, vocab: 60, rows: 1 }, o: { temperature: 1, topK: 100, topP: 0.9, repetitionPenalty: 1.2, seed: 3 } },
  ];
  it.each(cases)('$name', ({ c, o }) => {
    const row = caseLogits(c).values;
    const cpu = new Sampler(o);
    const gpu = new Sampler(o);
    const history = [1, 2, 3];
    let fallbacks = 0;
    for (let step = 0; step < 60; step++) {
      const plan = gpuPlan(o, 256);
      const k = plan.kind === 'topk' ? plan.k : Math.min(o.topK || 4, 256);
      const cand = topkRef(row, c.vocab, { k, penalty: o.repetitionPenalty, seen: new Set(history) });
      let g = gpu.nextFromCandidates(cand, new Set(history));
      if (g === null) {
        fallbacks++;
        g = gpu.next(row, history);
      }
      const t = cpu.next(row, history);
      expect(g).toBe(t);
      history.push(t);
    }
    if (c.levels && o.repetitionPenalty !== 1) expect(fallbacks).toBeGreaterThan(0);
  });

  it('plans: argmax for plain greedy, candidates when top-k <= 256, else the full row', () => {
    expect(gpuPlan(GREEDY, 256)).toEqual({ kind: 'argmax' });
    expect(gpuPlan({ ...GREEDY, repetitionPenalty: 1.1 }, 256)).toEqual({ kind: 'topk', k: 4 });
    expect(gpuPlan({ ...GREEDY, temperature: 1, topK: 40 }, 256)).toEqual({ kind: 'topk', k: 40 });
    expect(gpuPlan({ ...GREEDY, temperature: 1, topK: 0 }, 256)).toEqual({ kind: 'full' });
    expect(gpuPlan({ ...GREEDY, temperature: 1, topK: 300 }, 256)).toEqual({ kind: 'full' });
  });
});
