/** option-logits.wgsl built from TS values, and its CPU twin with the probability step both paths share. */
import { describe, expect, it } from 'vitest';
import { OPTION_K_MAX, optionLogitsSource, optionLogitsWords } from '../../../../src/engine/kernels/option-logits-pass';
import { optionLogitsRef, optionProbs } from '../../../../src/engine/kernels/option-logits-ref';
import { SAMPLE_WG } from '../../../../src/engine/kernels/sample-common';
import { labelProbabilities } from '../../../../src/engine/psychometrics/score-options';

describe('option-logits kernel source', () => {
  it.each([false, true])('carries WG, F16 = %s, K_OPT and the shared reduction, with no placeholder left', (f16) => {
    const src = optionLogitsSource(f16);
    expect(src).toContain(`const WG: u32 = ${SAMPLE_WG}u;`);
    expect(src).toContain(`const F16: bool = ${f16};`);
    expect(src).toContain(`const K_OPT: u32 = ${OPTION_K_MAX}u;`);
    expect(src).toContain('fn workgroupSum(');
    expect(src.includes('{{') || src.includes('}}')).toBe(false);
  });
  it('K_OPT fits the uniform as vec4s and one invocation per option', () => {
    expect(OPTION_K_MAX % 4).toBe(0);
    expect(OPTION_K_MAX).toBeLessThanOrEqual(SAMPLE_WG);
    expect(optionLogitsWords(5)).toBe(7);
  });
});

describe('optionLogitsRef + optionProbs', () => {
  it('give the full-vocabulary softmax of the options (= labelProbabilities)', () => {
    const row = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 9 + (i === 500 ? 20 : 0));
    const ids = [500, 3, 999, 3];
    const words = optionLogitsRef(row, 1000, ids);
    expect(words[0]).toBe(row[500]);
    expect(words.slice(2)).toEqual(ids.map((i) => row[i]));
    const p = optionProbs(words);
    const q = labelProbabilities(row, ids);
    for (let k = 0; k < ids.length; k++) expect(p[k]).toBeCloseTo(q[k], 14);
    expect(p[0]).toBeGreaterThan(0.99);
  });
  it('reads row `row` of a [rows, vocab] buffer', () => {
    const rows = Float32Array.from([1, 2, 3, 10, 0, 0]);
    const [m, lse, x] = optionLogitsRef(rows, 3, [0], 1);
    expect(m).toBe(10);
    expect(x).toBe(10);
    expect(lse).toBeCloseTo(10 + Math.log(1 + 2 * Math.exp(-10)), 14);
    expect(() => optionLogitsRef(rows, 3, [0], 2)).toThrow(/row 2 needs 9/);
  });
});
