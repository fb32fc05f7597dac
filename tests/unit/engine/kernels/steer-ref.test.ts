import { describe, expect, it } from 'vitest';
import { MODE_CODE } from '../../../../src/steering/mode';
import { steerRef } from '../../../../src/engine/kernels/steer-ref';

describe('steerRef', () => {
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
});
