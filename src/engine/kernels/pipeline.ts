/**
 * The shared plumbing of our compute passes: a labelled pipeline from WGSL and a list of
 * buffer binding types, bind groups from buffers in binding order, and a one-workgroup-per-row
 * dispatch (2D when rows exceed the per-dimension limit).
 */
import { rowGrid } from './gpu-buffers';

export interface ComputeKernel {
  layout: GPUBindGroupLayout;
  pipeline: GPUComputePipeline;
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
  return { layout, pipeline };
}

/** Bind `buffers` at bindings 0..n-1 and dispatch one workgroup per row. */
export function dispatchRows(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  label: string,
  kernel: ComputeKernel,
  buffers: GPUBuffer[],
  rows: number,
  maxPerDim: number,
): void {
  const bindGroup = device.createBindGroup({
    label: `${label}.bindGroup`,
    layout: kernel.layout,
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const [gx, gy] = rowGrid(rows, maxPerDim);
  const pass = encoder.beginComputePass({ label: `${label}.pass` });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(gx, gy, 1);
  pass.end();
}
