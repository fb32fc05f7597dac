/**
 * The KV cache between decode steps: the `present.*` outputs of one step become the
 * `past_key_values.*` inputs of the next. On WebGPU they stay GPU buffers; every replaced
 * GPU tensor is disposed (ORT leaks GPU memory otherwise).
 */
import { ort, type OrtTensor } from './ort';

export interface KvLayout {
  numLayers: number;
  kvHeads: number;
  headDim: number;
  type: 'float32' | 'float16';
}

export function pastName(layer: number, kind: 'key' | 'value'): string {
  return `past_key_values.${layer}.${kind}`;
}

export function presentToPast(name: string): string | null {
  const m = /^present\.(\d+)\.(key|value)$/.exec(name);
  return m ? `past_key_values.${m[1]}.${m[2]}` : null;
}

function truncateCpu(t: OrtTensor, n: number): OrtTensor {
  const [, heads, total, headDim] = t.dims;
  const src = t.data as Float32Array | Uint16Array;
  const out = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(heads * n * headDim);
  for (let h = 0; h < heads; h++) out.set(src.subarray(h * total * headDim, (h * total + n) * headDim), h * n * headDim);
  return new ort.Tensor(t.type as 'float32' | 'float16', out, [1, heads, n, headDim]);
}

export class KvCache {
  private past = new Map<string, OrtTensor>();
  /** Tokens whose keys/values are in the cache, in order. */
  tokens: number[] = [];
  private readonly empty: OrtTensor;

  /** `device`: the GPUDevice holding GPU-resident tensors (needed to truncate them). */
  constructor(
    private readonly layout: KvLayout,
    private readonly device: GPUDevice | null = null,
  ) {
    const dims = [1, layout.kvHeads, 0, layout.headDim];
    this.empty = layout.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  }

  get length(): number {
    return this.tokens.length;
  }

  /** past_key_values.* feeds for the next step (empty tensors when the cache is empty). */
  feeds(): Record<string, OrtTensor> {
    const out: Record<string, OrtTensor> = {};
    for (let l = 0; l < this.layout.numLayers; l++) {
      for (const kind of ['key', 'value'] as const) {
        const name = pastName(l, kind);
        out[name] = this.past.get(name) ?? this.empty;
      }
    }
    return out;
  }

  /** Take a step's presents as the new past; `added` = the tokens that step ran. */
  update(presents: Record<string, OrtTensor>, added: readonly number[]): void {
    for (const [name, t] of Object.entries(presents)) {
      const past = presentToPast(name);
      if (!past) continue;
      const old = this.past.get(past);
      if (old && old !== t) old.dispose();
      this.past.set(past, t);
    }
    this.tokens.push(...added);
  }

  clear(): void {
    for (const t of this.past.values()) t.dispose();
    this.past.clear();
    this.tokens = [];
  }

  /**
   * How many leading tokens of `prompt` can come from the cache: the longest common prefix,
   * leaving at least one token to run (it produces the logits).
   */
  reusable(prompt: readonly number[]): number {
    const max = Math.min(this.tokens.length, prompt.length - 1);
    let n = 0;
    while (n < max && this.tokens[n] === prompt[n]) n++;
    return n;
  }

  /** Keep only the first `n` cached positions (e.g. a chat edited or regenerated mid-way). */
  truncate(n: number): void {
    if (n >= this.tokens.length) return;
    if (n <= 0) return this.clear();
    for (const [name, t] of this.past) {
      const next = t.location === 'gpu-buffer' ? this.truncateGpu(t, n) : truncateCpu(t, n);
      t.dispose();
      this.past.set(name, next);
    }
    this.tokens = this.tokens.slice(0, n);
  }

  /** Per head, copy the first n positions of [1, heads, T, headDim] into a new buffer. */
  private truncateGpu(t: OrtTensor, n: number): OrtTensor {
    if (!this.device) throw new Error('internal: truncating GPU KV tensors needs the GPUDevice');
    const [, heads, total, headDim] = t.dims;
    const elem = t.type === 'float16' ? 2 : 4;
    const rowBytes = headDim * elem;
    const size = Math.ceil((heads * n * rowBytes) / 16) * 16;
    const buffer = this.device.createBuffer({
      label: 'kv-cache.truncated',
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'kv-cache.truncate' });
    const src = t.gpuBuffer as GPUBuffer;
    for (let h = 0; h < heads; h++) encoder.copyBufferToBuffer(src, h * total * rowBytes, buffer, h * n * rowBytes, n * rowBytes);
    this.device.queue.submit([encoder.finish()]);
    return ort.Tensor.fromGpuBuffer(buffer, {
      dataType: t.type as 'float32' | 'float16',
      dims: [1, heads, n, headDim],
      dispose: () => buffer.destroy(),
    });
  }
}
