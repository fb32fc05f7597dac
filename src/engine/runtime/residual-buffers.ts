/**
 * The decode step's residuals in buffers of ours. Each cut's residual (part k's output, part
 * k+1's input) gets a GPU buffer made at load, // [1, 1, hidden] float32 (or float16 where the
 * session's output metadata says so), bound as part k's output for a pass of one token; part
 * k+1 reads the same tensor. Left to ORT, the residual lands in a different buffer most steps,
 * and the steering kernels' bind groups (cached per buffer tuple, kernels/pipeline.ts) are made
 * again with it; bound, they are made once. Prefill (more than one token) keeps ORT's outputs:
 * their shape follows the prompt.
 */
import { ort, type OrtTensor } from './ort';
import { createBuffer } from '../kernels/gpu-buffers';

export interface ResidualOutput {
  /** the part's residual output name (the next part's residual input) */
  name: string;
  type: 'float32' | 'float16';
  hidden: number;
}

const NONE: Readonly<Record<string, OrtTensor>> = Object.freeze({});

export class ResidualBuffers {
  private readonly buffers: GPUBuffer[] = [];
  /** The bound outputs by name: one wrapper per cut for the model's life (never disposed). */
  private readonly bound: Readonly<Record<string, OrtTensor>>;

  constructor(device: GPUDevice, residuals: readonly ResidualOutput[]) {
    const bound: Record<string, OrtTensor> = {};
    residuals.forEach(({ name, type, hidden }, c) => {
      const buffer = createBuffer(
        device,
        `cut${c}.residual ${name} [1,1,${hidden}] ${type}`,
        hidden * (type === 'float16' ? 2 : 4), // createBuffer pads to whole words
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      this.buffers.push(buffer);
      bound[name] = ort.Tensor.fromGpuBuffer(buffer, { dataType: type, dims: [1, 1, hidden] });
    });
    this.bound = Object.freeze(bound);
  }

  /** Pre-allocated outputs for a pass of `tokens` tokens: the residuals for one token, none for prefill. */
  fetches(tokens: number): Readonly<Record<string, OrtTensor>> {
    return tokens === 1 ? this.bound : NONE;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}
