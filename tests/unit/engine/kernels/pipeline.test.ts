/**
 * BindGroupCache (src/engine/kernels/pipeline.ts) with a counting stand-in device: the same
 * buffers reuse one bind group (nothing allocated per token), other buffers get their own.
 */
import { describe, expect, it } from 'vitest';
import { BindGroupCache } from '../../../../src/engine/kernels/pipeline';

function fakeDevice() {
  const made: GPUBindGroupDescriptor[] = [];
  const device = {
    createBindGroup(desc: GPUBindGroupDescriptor) {
      made.push(desc);
      return { label: desc.label } as GPUBindGroup;
    },
  } as unknown as GPUDevice;
  return { device, made };
}

const buffer = (label: string) => ({ label }) as unknown as GPUBuffer;

describe('BindGroupCache', () => {
  it('reuses the bind group of the same buffer tuple and binds them in order', () => {
    const { device, made } = fakeDevice();
    const cache = new BindGroupCache(device, {} as GPUBindGroupLayout, 'k.bindGroup');
    const [a, b, c] = [buffer('a'), buffer('b'), buffer('c')];
    const g1 = cache.get([a, b]);
    expect(cache.get([a, b])).toBe(g1);
    expect(made).toHaveLength(1);
    expect(made[0].label).toBe('k.bindGroup');
    expect(Array.from(made[0].entries, (e) => [e.binding, (e.resource as GPUBufferBinding).buffer])).toEqual([
      [0, a],
      [1, b],
    ]);
    expect(cache.get([a, c])).not.toBe(g1);
    expect(cache.get([b, a])).not.toBe(g1);
    expect(made).toHaveLength(3);
    expect(() => cache.get([])).toThrow(/needs buffers/);
  });
});
