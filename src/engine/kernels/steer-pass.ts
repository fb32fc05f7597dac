/**
 * SteerPass: records shaders/steer.wgsl — in-place add / clamp / ablate of up to K_MAX
 * directions on rows of a residual buffer `// [rows, hidden]` f32 (e.g. onnxruntime-web's).
 */
import steerWgsl from '../../../shaders/steer.wgsl?raw';
import { DirectionBuffers } from './direction-buffers';
import { K_MAX, packParams, type SteerParam } from './directions';
import { checkStorage, checkU32, createBuffer, rowGrid, UniformCache } from './gpu-buffers';

export interface PassOptions {
  /** Hidden size (row length) of the residual, 1..8192. */
  hidden: number;
  /** Share directions with other passes (e.g. a ReadoutPass of the same layer); default: own. */
  directions?: DirectionBuffers;
  /** Prefix of every GPU object's label. */
  label?: string;
  /** Max workgroups per grid dimension (default: device limit); lower it only to test 2D grids. */
  maxWorkgroupsPerDimension?: number;
}

export class SteerPass {
  readonly hidden: number;
  readonly directions: DirectionBuffers;
  private readonly label: string;
  private readonly maxPerDim: number;
  private readonly ownsDirections: boolean;
  private readonly layout: GPUBindGroupLayout;
  private readonly pipeline: GPUComputePipeline;
  private readonly params: GPUBuffer; // uniform [K_MAX] x {mode: u32, alpha: f32, target: f32, pad: u32}
  private readonly calls: UniformCache; // uniform {tokens, tokenOffset, 0, 0}

  constructor(
    private readonly device: GPUDevice,
    opts: PassOptions,
  ) {
    this.hidden = opts.hidden;
    this.label = opts.label ?? 'steer';
    this.maxPerDim = opts.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    this.ownsDirections = !opts.directions;
    this.directions = opts.directions ?? new DirectionBuffers(device, opts.hidden, `${this.label}.directions`);
    if (this.directions.hidden !== this.hidden) throw new RangeError('directions.hidden != hidden');

    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    });
    this.layout = device.createBindGroupLayout({
      label: `${this.label}.layout`,
      entries: [
        entry(0, 'storage'), // residual
        entry(1, 'read-only-storage'), // vectors
        entry(2, 'read-only-storage'), // units
        entry(3, 'uniform'), // dirs meta
        entry(4, 'uniform'), // params
        entry(5, 'uniform'), // call
      ],
    });
    const module = device.createShaderModule({ label: `${this.label}.shader`, code: steerWgsl });
    this.pipeline = device.createComputePipeline({
      label: `${this.label}.pipeline`,
      layout: device.createPipelineLayout({ label: `${this.label}.pipelineLayout`, bindGroupLayouts: [this.layout] }),
      compute: { module, entryPoint: 'main' },
    });
    this.params = createBuffer(device, `${this.label}.params [${K_MAX}]`, K_MAX * 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.calls = new UniformCache(device, `${this.label}.call`);
    this.setParams([]);
  }

  /** Replace the directions (0..K_MAX raw vectors of length hidden). Effective at next submit. */
  setDirections(vectors: readonly Float32Array[]): void {
    this.directions.set(vectors);
  }

  /** Per-direction {mode, alpha, target}; missing entries are mode none. Effective at next submit. */
  setParams(params: readonly SteerParam[]): void {
    this.device.queue.writeBuffer(this.params, 0, packParams(params));
  }

  /**
   * Record steering of rows [tokenOffset, tokenOffset + tokens) of `residual` in place.
   * `residual` needs STORAGE usage and at least (tokenOffset + tokens) * hidden * 4 bytes.
   */
  encode(encoder: GPUCommandEncoder, residual: GPUBuffer, tokens: number, tokenOffset = 0): void {
    checkU32(tokens, 'tokens');
    checkU32(tokenOffset, 'tokenOffset');
    checkStorage(residual, (tokenOffset + tokens) * this.hidden * 4, 'residual');
    if (tokens === 0) return;
    const bindGroup = this.device.createBindGroup({
      label: `${this.label}.bindGroup`,
      layout: this.layout,
      entries: [
        { binding: 0, resource: { buffer: residual } },
        { binding: 1, resource: { buffer: this.directions.vectors } },
        { binding: 2, resource: { buffer: this.directions.units } },
        { binding: 3, resource: { buffer: this.directions.meta } },
        { binding: 4, resource: { buffer: this.params } },
        { binding: 5, resource: { buffer: this.calls.get([tokens, tokenOffset, 0, 0]) } },
      ],
    });
    const [gx, gy] = rowGrid(tokens, this.maxPerDim);
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy, 1);
    pass.end();
  }

  /** Free GPU buffers (not shared directions). Only after submitted work no longer needs them. */
  destroy(): void {
    this.params.destroy();
    this.calls.destroy();
    if (this.ownsDirections) this.directions.destroy();
  }
}
