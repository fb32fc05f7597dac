/**
 * Failed loads that explain themselves: a model file that does not parse evicts the model's
 * cached files and says so (file, URL, how many files), memory errors are not mistaken for bad
 * files, and the out-of-memory message compares the model's size with the adapter's limits.
 */
import { describe, expect, it } from 'vitest';
import { isOutOfMemory, ModelFileError, OutOfMemoryError, outOfMemoryMessage, parseOrEvict } from '../../../src/engine/load-errors';
import { defaultDtype, F16_UNCHECKED_MODEL_TYPES } from '../../../src/shared/dtype';
import { DEVICE } from '../../support/fake-engine';

const BASE = 'http://h/models/m/';

describe('parseOrEvict', () => {
  it('passes a good parse through and evicts nothing', async () => {
    const evicted: string[] = [];
    expect(
      await parseOrEvict(
        BASE,
        'config.json',
        `${BASE}config.json`,
        () => JSON.parse('{"a":1}') as unknown,
        async (b) => (evicted.push(b), 0),
      ),
    ).toEqual({ a: 1 });
    expect(evicted).toEqual([]);
  });

  it('on a parse failure evicts the model folder and names file, URL and the eviction', async () => {
    const evicted: string[] = [];
    const err = await parseOrEvict(
      BASE,
      'onnx/model.onnx',
      `${BASE}onnx/model.onnx`,
      () => {
        throw new RangeError('index out of range: 7 + 10 > 12');
      },
      async (b) => (evicted.push(b), 4),
    ).catch((e: unknown) => e);
    expect(evicted).toEqual([BASE]);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(
      `onnx/model.onnx from ${BASE}onnx/model.onnx could not be read (index out of range: 7 + 10 > 12). The cached copy of this model (4 files) was deleted: Retry downloads it again.`,
    );
    expect((err as ModelFileError).detail).toEqual({
      file: 'onnx/model.onnx',
      url: `${BASE}onnx/model.onnx`,
      evicted: true,
      offers: ['retry', 'delete-cache'],
    });
  });

  it('lets an out-of-memory error through without evicting', async () => {
    const evicted: string[] = [];
    const oom = new OutOfMemoryError('no room');
    await expect(
      parseOrEvict(
        BASE,
        'f',
        'u',
        () => Promise.reject(oom),
        async (b) => (evicted.push(b), 1),
      ),
    ).rejects.toBe(oom);
    expect(evicted).toEqual([]);
  });
});

describe('out of memory', () => {
  it('recognizes ORT/WebGPU allocation failures', () => {
    expect(isOutOfMemory(new Error('Failed to create buffer: out of memory'))).toBe(true);
    expect(isOutOfMemory(new Error('Buffer size (300000000) exceeds the max buffer size limit (268435456). - While calling [Device].CreateBuffer'))).toBe(true);
    expect(isOutOfMemory(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemory(new Error('protobuf: index out of range'))).toBe(false);
  });

  it('compares the model size with maxBufferSize and maxStorageBufferBindingSize', () => {
    const device = { ...DEVICE, adapter: 'swiftshader', limits: { maxBufferSize: 268_435_456, maxStorageBufferBindingSize: 134_217_728 } };
    const msg = outOfMemoryMessage(new Error('OOM'), [1_000_000, 300_000_000], device);
    expect(msg).toContain("The model's weights are 301 MB (largest file 300 MB)");
    expect(msg).toContain('this GPU (swiftshader) allows one buffer of at most 268 MB and a storage binding of at most 134 MB');
    expect(msg).toContain('The largest file is bigger than one storage binding.');
  });
});

describe('gemma-3 defaults to q4 until the model check passes', () => {
  it('picks q4 for gemma3 types even with shader-f16', () => {
    expect(F16_UNCHECKED_MODEL_TYPES.has('gemma3_text')).toBe(true);
    expect(defaultDtype(true, 'gemma3_text')).toBe('q4');
    expect(defaultDtype(true, 'llama')).toBe('q4f16');
    expect(defaultDtype(false)).toBe('q4');
  });
});
