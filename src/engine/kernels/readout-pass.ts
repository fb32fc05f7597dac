/**
 * ReadoutPass: records shaders/readout.wgsl — projections p[t, k] = dot(h_t, u_k) of residual
 * rows onto up to K_MAX unit directions, written to `out // [maxTokens, outStride]` f32.
 */
import readoutWgsl from '../../../shaders/readout.wgsl?raw';
import { DirectionBuffers } from './direction-buffers';
import { checkStorage, checkU32, createBuffer, UniformCache } from './gpu-buffers';
import { buildKernel, dispatchRows, type ComputeKernel } from './pipeline';
import { buildWgsl } from './shader-source';
import type { PassOptions } from './steer-pass';
import { K_MAX } from '../../steering/mode';

/** Invocations per readout workgroup (one workgroup per token row). */
export const READOUT_WG = 64;
// Invocation k writes direction k's projection, so every direction needs an invocation.
if (K_MAX > READOUT_WG) throw new Error(`readout.wgsl needs K_MAX (${K_MAX}) <= READOUT_WG (${READOUT_WG})`);

/** shaders/readout.wgsl with its constants filled in from TS. */
export const READOUT_SOURCE = buildWgsl('readout', readoutWgsl, { WG: READOUT_WG, K_MAX });

export interface ReadoutEncodeOptions {
  /** First residual row to read (default 0). */
  tokenOffset?: number;
  /** Floats per output row (default: directions.count at encode time). */
  outStride?: number;
}

export class ReadoutPass {
  readonly hidden: number;
  readonly directions: DirectionBuffers;
  private readonly label: string;
  private readonly maxPerDim: number;
  private readonly ownsDirections: boolean;
  private readonly kernel: ComputeKernel;
  private readonly calls: UniformCache; // uniform {tokens, tokenOffset, outOffsetRows, outStride}

  constructor(
    private readonly device: GPUDevice,
    opts: PassOptions,
  ) {
    this.hidden = opts.hidden;
    this.label = opts.label ?? 'readout';
    this.maxPerDim = opts.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    this.ownsDirections = !opts.directions;
    this.directions = opts.directions ?? new DirectionBuffers(device, opts.hidden, `${this.label}.directions`);
    if (this.directions.hidden !== this.hidden) throw new RangeError('directions.hidden != hidden');

    this.kernel = buildKernel(device, this.label, READOUT_SOURCE, ['read-only-storage', 'read-only-storage', 'uniform', 'uniform', 'storage']);
    this.calls = new UniformCache(device, `${this.label}.call`);
  }

  /** Replace the directions (0..K_MAX raw vectors of length hidden). Effective at next submit. */
  setDirections(vectors: readonly Float32Array[]): void {
    this.directions.set(vectors);
  }

  /** A labelled output buffer `// [maxTokens, k]` f32 usable by encode() and copies/readback. */
  createOutput(maxTokens: number, k = this.directions.count, label = `${this.label}.out`): GPUBuffer {
    return createBuffer(
      this.device,
      `${label} [${maxTokens},${k}]`,
      maxTokens * k * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    );
  }

  /**
   * Record p[t, k] for residual rows [tokenOffset, tokenOffset + tokens) into
   * out[(outOffsetRows + t) * outStride + k], k < min(directions.count, outStride).
   */
  encode(encoder: GPUCommandEncoder, residual: GPUBuffer, tokens: number, out: GPUBuffer, outOffsetRows = 0, opts: ReadoutEncodeOptions = {}): void {
    const tokenOffset = opts.tokenOffset ?? 0;
    const outStride = opts.outStride ?? this.directions.count;
    checkU32(tokens, 'tokens');
    checkU32(tokenOffset, 'tokenOffset');
    checkU32(outOffsetRows, 'outOffsetRows');
    checkU32(outStride, 'outStride');
    checkStorage(residual, (tokenOffset + tokens) * this.hidden * 4, 'residual');
    checkStorage(out, (outOffsetRows + tokens) * outStride * 4, 'readout output');
    if (tokens === 0 || outStride === 0) return;
    dispatchRows(
      encoder,
      this.label,
      this.kernel,
      [residual, this.directions.units, this.directions.meta, this.calls.get([tokens, tokenOffset, outOffsetRows, outStride]), out],
      tokens,
      this.maxPerDim,
    );
  }

  /** Free GPU buffers (not shared directions). Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
    if (this.ownsDirections) this.directions.destroy();
  }
}
