/** Session options (one place for the chain and the tapped session) and the prefill inputs. */
import { describe, expect, it } from 'vitest';
import { sessionOptions } from '../../../../src/engine/runtime/session-options';
import { chunkedPrefill, GQA_PREFILL_CHUNK, prefillChunk, tokenFeeds } from '../../../../src/engine/runtime/prefill';

describe('sessionOptions', () => {
  const data = new Uint8Array([1, 2, 3]);

  it('chain parts on WebGPU: named outputs stay on the GPU except logits', () => {
    const o = sessionOptions({
      ep: 'webgpu',
      externalData: [{ path: 'model.onnx_data', data }],
      outputs: { names: ['logits', 'residual.3', 'present.0.key'], onCpu: ['logits'] },
    });
    expect(o.executionProviders).toEqual(['webgpu']);
    expect(o.graphOptimizationLevel).toBe('all');
    expect(o.preferredOutputLocation).toEqual({ logits: 'cpu', 'residual.3': 'gpu-buffer', 'present.0.key': 'gpu-buffer' });
    expect(o.externalData).toEqual([{ path: 'model.onnx_data', data }]);
  });

  it('the tapped session on WebGPU keeps every output on the GPU; WASM places nothing', () => {
    expect(sessionOptions({ ep: 'webgpu' }).preferredOutputLocation).toBe('gpu-buffer');
    const w = sessionOptions({ ep: 'wasm', externalData: [], outputs: { names: ['logits'], onCpu: ['logits'] } });
    expect(w.executionProviders).toEqual(['wasm']);
    expect(w.preferredOutputLocation).toBeUndefined();
    expect(w.externalData).toBeUndefined();
  });
});

describe('prefill', () => {
  it('chunks only graphs with GroupQueryAttention (model builder, gemma-3 script), only on WebGPU', () => {
    expect(prefillChunk({ attention: 'GroupQueryAttention' }, 'webgpu')).toBe(GQA_PREFILL_CHUNK);
    expect(prefillChunk({ attention: 'GroupQueryAttention' }, 'wasm')).toBe(Infinity);
    expect(prefillChunk({ attention: 'decomposed' }, 'webgpu')).toBe(Infinity);
  });

  it('chunkedPrefill runs consecutive passes of at most maxChunk tokens, flagging the last', async () => {
    const seen: [number[], number, boolean][] = [];
    const out = await chunkedPrefill([1, 2, 3, 4, 5, 6, 7], 3, async (c, start, last) => (seen.push([c, start, last]), c.length));
    expect(seen).toEqual([
      [[1, 2, 3], 0, false],
      [[4, 5, 6], 3, false],
      [[7], 6, true],
    ]);
    expect(out).toEqual([3, 3, 1]);
    expect(await chunkedPrefill([1, 2], Infinity, async (c, _s, last) => [c, last])).toEqual([[[1, 2], true]]);
    await expect(chunkedPrefill([], 4, async () => 0)).rejects.toThrow(/zero tokens/);
  });

  it('token feeds continue after the cached tokens', () => {
    const f = tokenFeeds([7, 8, 9], 2);
    expect(f.input_ids.dims).toEqual([1, 3]);
    expect(Array.from(f.input_ids.data as BigInt64Array, Number)).toEqual([7, 8, 9]);
    expect(f.attention_mask.dims).toEqual([1, 5]);
    expect(Array.from(f.attention_mask.data as BigInt64Array, Number)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(f.position_ids.data as BigInt64Array, Number)).toEqual([2, 3, 4]);
  });
});
