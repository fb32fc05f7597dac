/**
 * The self-check's window on the cut: an Interventor that runs the model's own steering
 * backend and then reads the residual it hands on (a readback of [1, tokens, hidden], check
 * only; never on the per-token path), counting non-finite values per cut.
 */
import { readBuffer } from '../kernels/gpu-buffers';
import type { Interventor } from '../runtime/chain';
import { halfArrayToFloat } from '../runtime/f16';
import type { OrtTensor } from '../runtime/ort';

export class ResidualProbe implements Interventor {
  /** Non-finite values seen in the residual after each cut, summed over passes. */
  readonly nonFinite: number[] = [];
  /** Values read, per cut. */
  readonly seen: number[] = [];

  constructor(
    private readonly inner: Interventor,
    /** ORT's GPUDevice when residuals are GPU buffers (WebGPU EP); null on the WASM EP. */
    private readonly device: GPUDevice | null,
  ) {}

  async apply(cut: number, residual: OrtTensor, tokens: number): Promise<OrtTensor> {
    const out = await this.inner.apply(cut, residual, tokens);
    const data = await this.read(out); // [1, tokens, hidden]
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
    this.nonFinite[cut] = (this.nonFinite[cut] ?? 0) + bad;
    this.seen[cut] = (this.seen[cut] ?? 0) + data.length;
    return out;
  }

  /** The tensor's values on the CPU, leaving a GPU tensor where it is (copied, not downloaded in place). */
  private async read(t: OrtTensor): Promise<Float32Array> {
    const half = t.type === 'float16';
    if (t.location !== 'gpu-buffer') return half ? halfArrayToFloat(t.data as Uint16Array) : (t.data as Float32Array);
    if (!this.device) throw new Error('internal: a GPU residual without a GPUDevice');
    const bytes = t.dims.reduce((x, y) => x * y, 1) * (half ? 2 : 4);
    const raw = await readBuffer(this.device, t.gpuBuffer as GPUBuffer, 0, Math.ceil(bytes / 4) * 4); // a copy; the tensor stays on the GPU
    return half ? halfArrayToFloat(new Uint16Array(raw, 0, bytes / 2)) : new Float32Array(raw, 0, bytes / 4);
  }
}
