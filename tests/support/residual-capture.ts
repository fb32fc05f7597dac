/**
 * Test support: residual captures at the cuts, by wrapping the chain's one-method Interventor
 * seam (src/engine/runtime/chain.ts). Before the wrapped interventor (the steering backend)
 * runs, the residual's GPU buffer is copied; after it, the tensor it hands on is copied. Queue
 * order puts the copies around the backend's own command buffer.
 */
import type { Interventor } from '../../src/engine/runtime/chain';
import { createBuffer, readBuffer } from '../../src/engine/kernels/gpu-buffers';
import type { OrtTensor } from '../../src/engine/runtime/ort';

interface Capture {
  pre: GPUBuffer;
  post: GPUBuffer;
  bytes: number;
}

export class ResidualCapture implements Interventor {
  private readonly captures: Capture[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly inner: Interventor,
  ) {}

  async apply(cut: number, residual: OrtTensor, tokens: number): Promise<OrtTensor> {
    const bytes = tokens * residual.dims[2] * 4; // [1, tokens, hidden] f32
    const c = this.buffers(cut, bytes);
    this.copy(residual, c.pre, bytes, `cut${cut}.capture.pre`);
    const out = await this.inner.apply(cut, residual, tokens);
    this.copy(out, c.post, bytes, `cut${cut}.capture.post`);
    return out;
  }

  /** The captured residuals of the latest pass, per cut // [tokens, hidden]. */
  async take(): Promise<{ pre: Float32Array; post: Float32Array }[]> {
    const out: { pre: Float32Array; post: Float32Array }[] = [];
    for (const c of this.captures) {
      out.push({
        pre: new Float32Array(await readBuffer(this.device, c.pre, 0, c.bytes)),
        post: new Float32Array(await readBuffer(this.device, c.post, 0, c.bytes)),
      });
    }
    return out;
  }

  dispose(): void {
    for (const c of this.captures) {
      c.pre.destroy();
      c.post.destroy();
    }
    this.captures.length = 0;
  }

  private copy(t: OrtTensor, dst: GPUBuffer, bytes: number, label: string): void {
    const enc = this.device.createCommandEncoder({ label });
    enc.copyBufferToBuffer(t.gpuBuffer as GPUBuffer, 0, dst, 0, bytes);
    this.device.queue.submit([enc.finish()]);
  }

  private buffers(cut: number, bytes: number): Capture {
    const have = this.captures[cut];
    if (have && have.bytes === bytes) return have;
    have?.pre.destroy();
    have?.post.destroy();
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.captures[cut] = {
      pre: createBuffer(this.device, `cut${cut}.capture.pre`, bytes, usage),
      post: createBuffer(this.device, `cut${cut}.capture.post`, bytes, usage),
      bytes,
    };
    return this.captures[cut];
  }
}
