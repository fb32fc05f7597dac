/**
 * The shared plumbing of our compute passes: a labelled pipeline from WGSL and a list of
 * buffer binding types, bind groups from buffers in binding order (cached per buffer tuple, so
 * steady-state decoding allocates none per token), and a one-workgroup-per-row dispatch (2D
 * when rows exceed the per-dimension limit).
 */
import { rowGrid } from './gpu-buffers';

export interface ComputeKernel {
  layout: GPUBindGroupLayout;
  pipeline: GPUComputePipeline;
  bindGroups: BindGroupCache;
}

/**
 * Bind groups of one layout keyed by their buffers (binding order), as nested WeakMaps: an entry
 * goes away with any of its buffers (e.g. an onnxruntime output buffer that was released), and
 * the same buffers (the usual case from one token to the next) reuse one bind group.
 */
export class BindGroupCache {
  private readonly root = new WeakMap<GPUBuffer, unknown>();

  constructor(
    private readonly device: GPUDevice,
    private readonly layout: GPUBindGroupLayout,
    private readonly label: string,
  ) {}

  get(buffers: readonly GPUBuffer[]): GPUBindGroup {
    if (buffers.length === 0) throw new RangeError(`${this.label}: a bind group needs buffers`);
    let node = this.root;
    for (const b of buffers.slice(0, -1)) {
      let next = node.get(b) as WeakMap<GPUBuffer, unknown> | undefined;
      if (!next) {
        next = new WeakMap();
        node.set(b, next);
      }
      node = next;
    }
    const last = buffers[buffers.length - 1];
    let group = node.get(last) as GPUBindGroup | undefined;
    if (!group) {
      group = this.device.createBindGroup({
        label: this.label,
        layout: this.layout,
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      node.set(last, group);
    }
    return group;
  }
}

export function buildKernel(device: GPUDevice, label: string, code: string, bindings: GPUBufferBindingType[], entryPoint = 'main'): ComputeKernel {
  const layout = device.createBindGroupLayout({
    label: `${label}.layout`,
    entries: bindings.map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
  });
  const module = device.createShaderModule({ label: `${label}.shader`, code });
  const pipeline = device.createComputePipeline({
    label: `${label}.pipeline`,
    layout: device.createPipelineLayout({ label: `${label}.pipelineLayout`, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint },
  });
  return { layout, pipeline, bindGroups: new BindGroupCache(device, layout, `${label}.bindGroup`) };
}

/** Bind `buffers` at bindings 0..n-1 and dispatch one workgroup per row. */
export function dispatchRows(encoder: GPUCommandEncoder, label: string, kernel: ComputeKernel, buffers: GPUBuffer[], rows: number, maxPerDim: number): void {
  const bindGroup = kernel.bindGroups.get(buffers);
  const [gx, gy] = rowGrid(rows, maxPerDim);
  const pass = encoder.beginComputePass({ label: `${label}.pass` });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(gx, gy, 1);
  pass.end();
}
