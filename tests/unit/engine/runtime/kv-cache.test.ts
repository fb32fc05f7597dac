import { describe, expect, it } from 'vitest';
import { KvCache, presentToPast } from '../../../../src/engine/runtime/kv-cache';
import { ort } from '../../../../src/engine/runtime/ort';

const layout = { numLayers: 1, kvHeads: 2, headDim: 3, type: 'float32' as const };

/** present tensor [1, heads=2, T, headDim=3] with value = head*100 + pos*10 + d. */
function present(T: number): ort.Tensor {
  const data = new Float32Array(2 * T * 3);
  for (let h = 0; h < 2; h++) for (let t = 0; t < T; t++) for (let d = 0; d < 3; d++) data[(h * T + t) * 3 + d] = h * 100 + t * 10 + d;
  return new ort.Tensor('float32', data, [1, 2, T, 3]);
}

describe('KV cache', () => {
  it('maps present.* to past_key_values.* and starts with empty past tensors', () => {
    expect(presentToPast('present.3.value')).toBe('past_key_values.3.value');
    expect(presentToPast('logits')).toBeNull();
    const feeds = new KvCache(layout).feeds();
    expect(Object.keys(feeds)).toEqual(['past_key_values.0.key', 'past_key_values.0.value']);
    expect(feeds['past_key_values.0.key'].dims).toEqual([1, 2, 0, 3]);
  });

  it('reuses the longest common prefix, always leaving one token to run', () => {
    const c = new KvCache(layout);
    c.update({ 'present.0.key': present(4), 'present.0.value': present(4) }, [5, 6, 7, 8]);
    expect(c.reusable([5, 6, 7, 8, 9])).toBe(4);
    expect(c.reusable([5, 6, 7, 8])).toBe(3);
    expect(c.reusable([5, 6, 1, 8, 9])).toBe(2);
    expect(c.reusable([1, 2])).toBe(0);
  });

  it('truncates per head on the CPU, keeping the first n positions', () => {
    const c = new KvCache(layout);
    c.update({ 'present.0.key': present(4), 'present.0.value': present(4) }, [5, 6, 7, 8]);
    c.truncate(2);
    expect(c.tokens).toEqual([5, 6]);
    const k = c.feeds()['past_key_values.0.key'];
    expect(k.dims).toEqual([1, 2, 2, 3]);
    expect(Array.from(k.data as Float32Array)).toEqual([0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
    c.truncate(0);
    expect(c.length).toBe(0);
  });
});
