import { describe, expect, it } from 'vitest';
import { normRef } from '../../../../src/engine/kernels/norm-ref';

describe('normRef', () => {
  const hidden = 4;
  const h = new Float32Array([1, 2, 3, 4, -1, 0, 1, 0]); // [2, 4]
  it('per-row L2 norms, with a token offset', () => {
    expect(normRef(h, 2, hidden)[0]).toBeCloseTo(Math.sqrt(30), 5);
    expect(normRef(h, 1, hidden, 1)[0]).toBeCloseTo(Math.sqrt(2), 6);
  });
});
