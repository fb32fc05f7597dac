/**
 * SteerPass: records shaders/steer.wgsl — in-place add / clamp / ablate of up to K_MAX
 * directions on rows of a residual buffer `// [rows, hidden]` f32 (e.g. onnxruntime-web's).
 */
import steerWgsl from '../../../shaders/steer.wgsl?raw';
import { DirectionBuffers } from './direction-buffers';
import { K_MAX, MODE_CODE } from '../../steering/mode';
import { HIDDEN_MAX, packParams, PARAM_BYTES, PARAM_FIELDS, steerShape, type SteerParam } from './steer-params';
import { checkStorage, checkU32, createBuffer, UniformCache } from './gpu-buffers';
import { buildKernel, dispatchRows, type ComputeKernel } from './pipeline';
import { buildWgsl, REDUCE_WGSL, wgslFields } from './shader-source';

/** shaders/steer.wgsl for rows of `hidden` elements: constants, Param struct and reduction from TS, workgroup and registers from steerShape. */
export function steerSource(hidden: number): string {
  const { wg, perThread } = steerShape(hidden);
  return buildWgsl('steer', steerWgsl, {
    WG: wg,
    K_MAX,
    PER_THREAD: perThread,
    MODE_ADD: MODE_CODE.add,
    MODE_CLAMP: MODE_CODE.clamp,
    MODE_ABLATE: MODE_CODE.ablate,
    PARAM_FIELDS: wgslFields(PARAM_FIELDS),
    REDUCE: REDUCE_WGSL,
  });
}

/** The steer kernel at its largest shape (STEER_WG invocations x STEER_PER_THREAD registers). */
export const STEER_SOURCE = steerSource(HIDDEN_MAX);

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
  private readonly kernel: ComputeKernel;
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

    this.kernel = buildKernel(device, this.label, steerSource(this.hidden), [
      'storage',
      'read-only-storage',
      'read-only-storage',
      'uniform',
      'uniform',
      'uniform',
    ]);
    this.params = createBuffer(device, `${this.label}.params [${K_MAX}]`, K_MAX * PARAM_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
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
    dispatchRows(
      encoder,
      this.label,
      this.kernel,
      [residual, this.directions.vectors, this.directions.units, this.directions.meta, this.params, this.calls.get([tokens, tokenOffset, 0, 0])],
      tokens,
      this.maxPerDim,
    );
  }

  /** Free GPU buffers (not shared directions). Only after submitted work no longer needs them. */
  destroy(): void {
    this.params.destroy();
    this.calls.destroy();
    if (this.ownsDirections) this.directions.destroy();
  }
}
