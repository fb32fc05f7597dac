/**
 * PcaPass: records shaders/pca.wgsl — the first principal component of the paired
 * differences `diffs // [maxPairs, layers, hidden]` of every layer by a fixed number of
 * power-iteration steps from a deterministic start (see the shader header). Owns two
 * ping-pong vectors `// [layers, hidden]` f32; encode() returns the one holding the result
 * (unit length per layer, sign not yet fixed).
 */
import pcaWgsl from '../../../shaders/pca.wgsl?raw';
import { HIDDEN_MAX, steerShape } from './steer-params';
import { checkStorage, checkU32, createBuffer, UniformCache } from './gpu-buffers';
import { buildWgsl, REDUCE_WGSL } from './shader-source';

/**
 * shaders/pca.wgsl for rows of `hidden` elements, with its reduction filled in from TS. One
 * workgroup per layer row, shaped like the steer kernel's (steerShape: a power of two of
 * 32..256 invocations, ceil(hidden / wg) registers each; extracted vectors must fit that kernel),
 * so a 64-wide model runs 64 invocations with one register, not 256 with 32.
 */
export function pcaSource(hidden: number): string {
  const { wg, perThread } = steerShape(hidden);
  return buildWgsl('pca', pcaWgsl, { WG: wg, PER_THREAD: perThread, REDUCE: REDUCE_WGSL });
}

/** The PCA kernel at its largest shape (hidden = HIDDEN_MAX). */
export const PCA_SOURCE = pcaSource(HIDDEN_MAX);

export interface PcaPassOptions {
  hidden: number;
  layers: number;
  label?: string;
}

export interface PcaEncodeOptions {
  /** Number of pairs (rows of diffs used). */
  pairs: number;
  /** Power-iteration steps (default PCA_ITERATIONS). */
  iterations?: number;
  /** Subtract the mean difference first (covariance PCA) instead of uncentered (default false). */
  center?: boolean;
}

/** Default number of power-iteration steps. */
export const PCA_ITERATIONS = 100;

export class PcaPass {
  readonly hidden: number;
  readonly layers: number;
  readonly vectors: [GPUBuffer, GPUBuffer]; // 2 x [layers, hidden] ping-pong
  private readonly label: string;
  private readonly initLayout: GPUBindGroupLayout;
  private readonly stepLayout: GPUBindGroupLayout;
  private readonly initPipeline: GPUComputePipeline;
  private readonly stepPipeline: GPUComputePipeline;
  private readonly calls: UniformCache; // {hidden, layers, pairs, center}

  constructor(
    private readonly device: GPUDevice,
    opts: PcaPassOptions,
  ) {
    checkU32(opts.hidden, 'hidden');
    checkU32(opts.layers, 'layers');
    if (opts.hidden < 1 || opts.hidden > HIDDEN_MAX) throw new RangeError(`hidden must be in 1..${HIDDEN_MAX}, got ${opts.hidden}`);
    if (opts.layers < 1 || opts.layers > device.limits.maxComputeWorkgroupsPerDimension) throw new RangeError(`bad layer count ${opts.layers}`);
    this.hidden = opts.hidden;
    this.layers = opts.layers;
    this.label = opts.label ?? 'pca';
    const bytes = opts.layers * opts.hidden * 4;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.vectors = [0, 1].map((k) => createBuffer(device, `${this.label}.v${k} [${opts.layers},${opts.hidden}]`, bytes, usage)) as [GPUBuffer, GPUBuffer];

    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    });
    this.initLayout = device.createBindGroupLayout({
      label: `${this.label}.init.layout`,
      entries: [entry(1, 'read-only-storage'), entry(3, 'storage'), entry(4, 'uniform')],
    });
    this.stepLayout = device.createBindGroupLayout({
      label: `${this.label}.step.layout`,
      entries: [entry(0, 'read-only-storage'), entry(1, 'read-only-storage'), entry(2, 'read-only-storage'), entry(3, 'storage'), entry(4, 'uniform')],
    });
    const module = device.createShaderModule({ label: `${this.label}.shader`, code: pcaSource(opts.hidden) });
    const pipeline = (layout: GPUBindGroupLayout, entryPoint: string): GPUComputePipeline =>
      device.createComputePipeline({
        label: `${this.label}.${entryPoint}.pipeline`,
        layout: device.createPipelineLayout({ label: `${this.label}.${entryPoint}.pipelineLayout`, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint },
      });
    this.initPipeline = pipeline(this.initLayout, 'pca_init');
    this.stepPipeline = pipeline(this.stepLayout, 'pca_step');
    this.calls = new UniformCache(device, `${this.label}.call`);
  }

  /**
   * Record init + `iterations` steps over diffs `// [>= pairs, layers, hidden]` with meanDiff
   * `// [layers, hidden]`; returns the buffer that will hold the unit vectors `// [layers, hidden]`.
   */
  encode(encoder: GPUCommandEncoder, diffs: GPUBuffer, meanDiff: GPUBuffer, opts: PcaEncodeOptions): GPUBuffer {
    const iterations = opts.iterations ?? PCA_ITERATIONS;
    checkU32(opts.pairs, 'pairs');
    checkU32(iterations, 'iterations');
    const row = this.layers * this.hidden * 4;
    checkStorage(diffs, opts.pairs * row, 'diffs');
    checkStorage(meanDiff, row, 'meanDiff');
    const call = this.calls.get([this.hidden, this.layers, opts.pairs, opts.center ? 1 : 0]);
    const init = this.device.createBindGroup({
      label: `${this.label}.init.bindGroup`,
      layout: this.initLayout,
      entries: [
        { binding: 1, resource: { buffer: meanDiff } },
        { binding: 3, resource: { buffer: this.vectors[0] } },
        { binding: 4, resource: { buffer: call } },
      ],
    });
    const step = [0, 1].map((k) =>
      this.device.createBindGroup({
        label: `${this.label}.step${k}.bindGroup`,
        layout: this.stepLayout,
        entries: [
          { binding: 0, resource: { buffer: diffs } },
          { binding: 1, resource: { buffer: meanDiff } },
          { binding: 2, resource: { buffer: this.vectors[k] } },
          { binding: 3, resource: { buffer: this.vectors[1 - k] } },
          { binding: 4, resource: { buffer: call } },
        ],
      }),
    );
    // One pass: each dispatch is its own usage scope, so a step sees the previous step's writes.
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.initPipeline);
    pass.setBindGroup(0, init);
    pass.dispatchWorkgroups(this.layers, 1, 1);
    if (opts.pairs > 0) {
      pass.setPipeline(this.stepPipeline);
      for (let it = 0; it < iterations; it++) {
        pass.setBindGroup(0, step[it % 2]);
        pass.dispatchWorkgroups(this.layers, 1, 1);
      }
    }
    pass.end();
    return opts.pairs > 0 ? this.vectors[iterations % 2] : this.vectors[0];
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
    for (const v of this.vectors) v.destroy();
  }
}
