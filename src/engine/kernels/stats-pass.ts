/**
 * StatsPass: records shaders/stats.wgsl — trait-extraction accumulators on the GPU.
 * Owns, for `layers` layers of `hidden` floats and up to `maxPairs` contrastive pairs:
 *   sums     // [2 (high, low), layers, hidden] f32  sum of pooled rows per class
 *   diffs    // [maxPairs, layers, hidden] f32       pooled high − pooled low per pair
 *   meanDiff // [layers, hidden] f32                 sums[0]/nHigh − sums[1]/nLow (finalize)
 * A prompt's residual at one layer (ORT's `residual.{L}` gpu-buffer, `// [tokens, hidden]`)
 * is pooled over a contiguous range of token positions and added in by encodeAccumulate().
 * Nothing here reads back: callers copy meanDiff (per-layer vectors) when they need it.
 */
import statsWgsl from '../../../shaders/stats.wgsl?raw';
import { HIDDEN_MAX } from './steer-params';
import { checkStorage, checkU32, createBuffer, rowGrid, UniformCache } from './gpu-buffers';
import { buildWgsl } from './shader-source';

export interface StatsPassOptions {
  hidden: number;
  /** Number of layers accumulated (layer slots 0..layers-1, not model layer numbers). */
  layers: number;
  /** Capacity of `diffs` in pairs (0 = no per-pair differences, mean difference only). */
  maxPairs: number;
  label?: string;
  /** Max workgroups per grid dimension (default: device limit); lower it only to test 2D grids. */
  maxWorkgroupsPerDimension?: number;
}

export interface AccumulateOptions {
  /** Layer slot (0..layers-1). */
  layer: number;
  /** First pooled row and number of rows (the mean of rows [first, first + count) is added). */
  first: number;
  count: number;
  /** 0 = high persona, 1 = low persona. */
  cls: 0 | 1;
  /** Pair index whose difference row this prompt writes (high: set, low: subtract); omit for none. */
  pair?: number;
}

/** Invocations per stats workgroup (one invocation per element); also sizes the grids below. */
export const STATS_WG = 64;

/** shaders/stats.wgsl with its workgroup size filled in from TS. */
export const STATS_SOURCE = buildWgsl('stats', statsWgsl, { WG: STATS_WG });

export class StatsPass {
  readonly hidden: number;
  readonly layers: number;
  readonly maxPairs: number;
  readonly sums: GPUBuffer; // [2, layers, hidden]
  readonly diffs: GPUBuffer; // [maxPairs, layers, hidden]
  readonly meanDiff: GPUBuffer; // [layers, hidden]
  private readonly label: string;
  private readonly maxPerDim: number;
  private readonly accLayout: GPUBindGroupLayout;
  private readonly finLayout: GPUBindGroupLayout;
  private readonly accPipeline: GPUComputePipeline;
  private readonly finPipeline: GPUComputePipeline;
  private readonly calls: UniformCache; // accumulate: {hidden, first, count, layer, layers, cls, row, writeDiff}
  private readonly finCalls: UniformCache; // finalize_mean: {hidden, layers, nHigh, nLow}

  constructor(
    private readonly device: GPUDevice,
    opts: StatsPassOptions,
  ) {
    checkU32(opts.hidden, 'hidden');
    checkU32(opts.layers, 'layers');
    checkU32(opts.maxPairs, 'maxPairs');
    if (opts.hidden < 1 || opts.hidden > HIDDEN_MAX) throw new RangeError(`hidden must be in 1..${HIDDEN_MAX}, got ${opts.hidden}`);
    if (opts.layers < 1) throw new RangeError('layers must be >= 1');
    this.hidden = opts.hidden;
    this.layers = opts.layers;
    this.maxPairs = opts.maxPairs;
    this.label = opts.label ?? 'stats';
    this.maxPerDim = opts.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    const row = opts.layers * opts.hidden * 4;
    const STORAGE_RW = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const maxBinding = device.limits.maxStorageBufferBindingSize;
    if (opts.maxPairs * row > maxBinding) {
      throw new RangeError(
        `${opts.maxPairs} pairs x ${opts.layers} layers x ${opts.hidden} floats exceed the device's ${maxBinding}-byte storage binding limit`,
      );
    }
    this.sums = createBuffer(device, `${this.label}.sums [2,${opts.layers},${opts.hidden}]`, 2 * row, STORAGE_RW);
    this.diffs = createBuffer(device, `${this.label}.diffs [${opts.maxPairs},${opts.layers},${opts.hidden}]`, Math.max(1, opts.maxPairs) * row, STORAGE_RW);
    this.meanDiff = createBuffer(device, `${this.label}.meanDiff [${opts.layers},${opts.hidden}]`, row, STORAGE_RW);

    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    });
    this.accLayout = device.createBindGroupLayout({
      label: `${this.label}.accumulate.layout`,
      entries: [entry(0, 'read-only-storage'), entry(1, 'storage'), entry(2, 'storage'), entry(3, 'uniform')],
    });
    this.finLayout = device.createBindGroupLayout({
      label: `${this.label}.finalize.layout`,
      entries: [entry(1, 'storage'), entry(4, 'storage'), entry(5, 'uniform')],
    });
    const module = device.createShaderModule({ label: `${this.label}.shader`, code: STATS_SOURCE });
    const pipeline = (layout: GPUBindGroupLayout, entryPoint: string): GPUComputePipeline =>
      device.createComputePipeline({
        label: `${this.label}.${entryPoint}.pipeline`,
        layout: device.createPipelineLayout({ label: `${this.label}.${entryPoint}.pipelineLayout`, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint },
      });
    this.accPipeline = pipeline(this.accLayout, 'accumulate');
    this.finPipeline = pipeline(this.finLayout, 'finalize_mean');
    this.calls = new UniformCache(device, `${this.label}.accumulate.call`, 256);
    this.finCalls = new UniformCache(device, `${this.label}.finalize.call`);
  }

  /** Zero sums, diffs and meanDiff (recorded into `encoder`). */
  encodeReset(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.sums);
    encoder.clearBuffer(this.diffs);
    encoder.clearBuffer(this.meanDiff);
  }

  /** Record: add the mean of residual rows [first, first + count) into the accumulators (see the shader header). */
  encodeAccumulate(encoder: GPUCommandEncoder, residual: GPUBuffer, opts: AccumulateOptions): void {
    const { layer, first, count, cls } = opts;
    checkU32(layer, 'layer');
    checkU32(first, 'first');
    checkU32(count, 'count');
    if (layer >= this.layers) throw new RangeError(`layer slot ${layer} >= ${this.layers}`);
    if (cls !== 0 && cls !== 1) throw new RangeError(`cls must be 0 or 1, got ${String(cls)}`);
    if (count === 0) throw new RangeError('count must be >= 1');
    const pair = opts.pair ?? -1;
    if (pair >= this.maxPairs) throw new RangeError(`pair ${pair} >= capacity ${this.maxPairs}`);
    checkStorage(residual, (first + count) * this.hidden * 4, 'residual');
    const words = [this.hidden, first, count, layer, this.layers, cls, Math.max(0, pair), pair >= 0 ? 1 : 0];
    const bindGroup = this.device.createBindGroup({
      label: `${this.label}.accumulate.bindGroup`,
      layout: this.accLayout,
      entries: [
        { binding: 0, resource: { buffer: residual } },
        { binding: 1, resource: { buffer: this.sums } },
        { binding: 2, resource: { buffer: this.diffs } },
        { binding: 3, resource: { buffer: this.calls.get(words) } },
      ],
    });
    const [gx, gy] = rowGrid(Math.ceil(this.hidden / STATS_WG), this.maxPerDim);
    const pass = encoder.beginComputePass({ label: `${this.label}.accumulate.pass` });
    pass.setPipeline(this.accPipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy, 1);
    pass.end();
  }

  /** Record: meanDiff = sums[0] / nHigh − sums[1] / nLow. */
  encodeMeanDiff(encoder: GPUCommandEncoder, nHigh: number, nLow: number): void {
    checkU32(nHigh, 'nHigh');
    checkU32(nLow, 'nLow');
    const bindGroup = this.device.createBindGroup({
      label: `${this.label}.finalize.bindGroup`,
      layout: this.finLayout,
      entries: [
        { binding: 1, resource: { buffer: this.sums } },
        { binding: 4, resource: { buffer: this.meanDiff } },
        { binding: 5, resource: { buffer: this.finCalls.get([this.hidden, this.layers, nHigh, nLow]) } },
      ],
    });
    const [gx, gy] = rowGrid(Math.ceil((this.layers * this.hidden) / STATS_WG), this.maxPerDim);
    const pass = encoder.beginComputePass({ label: `${this.label}.finalize.pass` });
    pass.setPipeline(this.finPipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy, 1);
    pass.end();
  }

  /**
   * Destroy the per-call uniform buffers recorded so far (each prompt has its own offsets, so
   * they rarely repeat). Call only after the command buffers using them were submitted.
   */
  releaseCallBuffers(): void {
    this.calls.destroy();
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
    this.finCalls.destroy();
    this.sums.destroy();
    this.diffs.destroy();
    this.meanDiff.destroy();
  }
}
