/** The sampling kernels' WGSL (argmax.wgsl, topk.wgsl) built from TS values, for both logits types. */
import { describe, expect, it } from 'vitest';
import { argmaxSource } from '../../../../src/engine/kernels/argmax-pass';
import { SAMPLE_WG } from '../../../../src/engine/kernels/sample-common';
import { topkSource, topkOutputWords } from '../../../../src/engine/kernels/topk-pass';

describe('sampling kernel sources', () => {
  it.each([false, true])('carry WG and F16 = %s, with no placeholder left', (f16) => {
    for (const src of [argmaxSource(f16), topkSource(f16)]) {
      expect(src).toContain(`const WG: u32 = ${SAMPLE_WG}u;`);
      expect(src).toContain(`const F16: bool = ${f16};`);
      expect(src.includes('{{') || src.includes('}}')).toBe(false);
    }
  });
  it('WG is a power of two (tree reductions halve it)', () => {
    expect(SAMPLE_WG & (SAMPLE_WG - 1)).toBe(0);
  });
  it('topk output: two header words, two per candidate', () => {
    expect(topkOutputWords(0)).toBe(2);
    expect(topkOutputWords(256)).toBe(514);
  });
});
