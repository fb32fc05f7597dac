import { describe, expect, it } from 'vitest';
import { readoutRef } from '../../../../src/engine/kernels/readout-ref';

describe('readoutRef', () => {
  const hidden = 4;
  const h = new Float32Array([1, 2, 3, 4, -1, 0, 1, 0]); // [2, 4]
  const v = new Float32Array([0, 2, 0, 0]); // u = e1
  it('projects every row on the unit directions', () => {
    expect(Array.from(readoutRef(h, 2, hidden, [v, new Float32Array([1, 0, 0, 0])]))).toEqual([2, 1, 0, -1]);
  });
  it('rejects a residual shorter than (tokenOffset + tokens) rows', () => {
    expect(() => readoutRef(h, 2, hidden, [v], 1)).toThrow(/residual has 8 floats/);
  });
});
