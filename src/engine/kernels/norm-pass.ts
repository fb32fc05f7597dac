/**
 * NormPass: records shaders/norm.wgsl — per-token L2 norms of residual rows
 * `// [rows, hidden]` f32 into `out // [maxTokens]` f32 (used to measure typical residual norms).
 */
import normWgsl from '../../../shaders/norm.wgsl?raw';
import { checkStorage, checkU32, createBuffer, UniformCache } from './gpu-buffers';
import { buildKernel, dispatchRows, type ComputeKernel } from './pipeline';
import { buildWgsl, REDUCE_WGSL } from './shader-source';

/** Invocations per norm workgroup (one workgroup per token row; a power of two for the tree). */
export const NORM_WG = 256;

/** shaders/norm.wgsl with its workgroup size and reduction filled in from TS. */
export const NORM_SOURCE = buildWgsl('norm', normWgsl, { WG: NORM_WG, REDUCE: REDUCE_WGSL });

export interface NormPassOptions {
  /** Hidden size (row length) of the residual (any size >= 1). */
  hidden: number;
  label?: string;
  /** Max workgroups per grid dimension (default: device limit); lower it only to test 2D grids. */
  maxWorkgroupsPerDimension?: number;
}

export class NormPass {
  readonly hidden: number;
  private readonly label: string;
  private readonly maxPerDim: number;
  private readonly kernel: ComputeKernel;
  private readonly calls: UniformCache; // uniform {tokens, tokenOffset, hidden, outOffset}

  constructor(
    private readonly device: GPUDevice,
    opts: NormPassOptions,
  ) {
    checkU32(opts.hidden, 'hidden');
    if (opts.hidden < 1) throw new RangeError('hidden must be >= 1');
    this.hidden = opts.hidden;
    this.label = opts.label ?? 'residualNorm';
    this.maxPerDim = opts.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension;
    this.kernel = buildKernel(device, this.label, NORM_SOURCE, ['read-only-storage', 'uniform', 'storage']);
    this.calls = new UniformCache(device, `${this.label}.call`);
  }

  /** A labelled output buffer `// [maxTokens]` f32 usable by encode() and copies/readback. */
  createOutput(maxTokens: number, label = `${this.label}.out`): GPUBuffer {
    return createBuffer(this.device, `${label} [${maxTokens}]`, maxTokens * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  /** Record n[t] = |h[tokenOffset + t]| into out[outOffset + t] for t < tokens. */
  encode(encoder: GPUCommandEncoder, residual: GPUBuffer, tokens: number, out: GPUBuffer, outOffset = 0, tokenOffset = 0): void {
    checkU32(tokens, 'tokens');
    checkU32(tokenOffset, 'tokenOffset');
    checkU32(outOffset, 'outOffset');
    checkStorage(residual, (tokenOffset + tokens) * this.hidden * 4, 'residual');
    checkStorage(out, (outOffset + tokens) * 4, 'norm output');
    if (tokens === 0) return;
    dispatchRows(encoder, this.label, this.kernel, [residual, this.calls.get([tokens, tokenOffset, this.hidden, outOffset]), out], tokens, this.maxPerDim);
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
  }
}
