/**
 * GPU copies of up to K_MAX steering directions for one hidden size, shared by SteerPass and
 * ReadoutPass (e.g. one instance per layer):
 *   vectors // [K_MAX, hidden] f32  raw directions v_k
 *   units   // [K_MAX, hidden] f32  unit directions u_k = v_k / |v_k| (computed on the CPU)
 *   meta    // uniform {hidden: u32, count: u32, pad, pad}
 * set() writes through queue.writeBuffer, so it takes effect at the next queue.submit().
 */
import { K_MAX } from '../../steering/mode';
import { unitVector } from '../../steering/vector';
import { checkVectors, HIDDEN_MAX } from './steer-params';
import { createBuffer } from './gpu-buffers';

export class DirectionBuffers {
  readonly vectors: GPUBuffer; // [K_MAX, hidden]
  readonly units: GPUBuffer; // [K_MAX, hidden]
  readonly meta: GPUBuffer; // uniform {hidden, count, 0, 0}
  private countValue = 0;

  constructor(
    private readonly device: GPUDevice,
    readonly hidden: number,
    readonly label = 'directions',
  ) {
    if (!Number.isInteger(hidden) || hidden < 1 || hidden > HIDDEN_MAX) {
      throw new RangeError(`hidden must be in 1..${HIDDEN_MAX}, got ${hidden}`);
    }
    const bytes = K_MAX * hidden * 4;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.vectors = createBuffer(device, `${label}.vectors [${K_MAX},${hidden}]`, bytes, usage);
    this.units = createBuffer(device, `${label}.units [${K_MAX},${hidden}]`, bytes, usage);
    this.meta = createBuffer(device, `${label}.meta`, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.writeMeta();
  }

  /** Number of directions currently set (as of the last set()). */
  get count(): number {
    return this.countValue;
  }

  /** Replace the directions (0..K_MAX raw vectors of length hidden). */
  set(vectors: readonly Float32Array[]): void {
    checkVectors(vectors, this.hidden);
    const h = this.hidden;
    const raw = new Float32Array(vectors.length * h);
    const units = new Float32Array(vectors.length * h);
    vectors.forEach((v, k) => {
      raw.set(v, k * h);
      units.set(unitVector(v), k * h);
    });
    if (raw.length > 0) {
      this.device.queue.writeBuffer(this.vectors, 0, raw);
      this.device.queue.writeBuffer(this.units, 0, units);
    }
    this.countValue = vectors.length;
    this.writeMeta();
  }

  destroy(): void {
    this.vectors.destroy();
    this.units.destroy();
    this.meta.destroy();
  }

  private writeMeta(): void {
    this.device.queue.writeBuffer(this.meta, 0, new Uint32Array([this.hidden, this.countValue, 0, 0]));
  }
}
