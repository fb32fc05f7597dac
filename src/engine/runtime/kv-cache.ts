/**
 * The KV cache between decode steps: the `present.*` outputs of one step become the
 * `past_key_values.*` inputs of the next.
 *
 * Two modes:
 *  - dynamic (CPU / WASM, or no device): ORT allocates each step's presents and we keep them;
 *    every replaced GPU tensor is disposed (ORT leaks GPU memory otherwise).
 *  - static (WebGPU, `capacity` given): per layer and kind two GPU buffers of `capacity`
 *    positions, allocated once. Step t reads its past from one ([1, heads, len, headDim], a
 *    view of the buffer's first heads*len*headDim values) and ORT writes the present into the
 *    other, bound as a pre-allocated output; then the two swap. The exports we run concatenate
 *    past and new keys inside the graph (Optimum Concat, GroupQueryAttention without a shared
 *    buffer), so each step still copies the past once on the GPU, but nothing is allocated.
 *    When a conversation outgrows `capacity` the buffers double (one copy), up to `max`.
 *  - shared (static with `shared`: model-builder GroupQueryAttention on WebGPU): one buffer per
 *    layer and kind, [1, heads, capacity, headDim], bound as both past_key_values.* and present.*
 *    with that full shape. ORT's GQA sees the same buffer on both sides
 *    (past_present_share_buffer) and writes only the new positions, at seqlens_k (from the
 *    attention mask, whose length is the cache length + new tokens): no per-step copy of the
 *    past. Truncation is free (later positions are never read, then overwritten); growth copies
 *    per head into the wider layout.
 */
import { ort, type OrtTensor } from './ort';

export interface KvLayout {
  numLayers: number;
  kvHeads: number;
  headDim: number;
  type: 'float32' | 'float16';
}

export interface StaticKvOptions {
  /** Positions allocated up front. */
  capacity: number;
  /** Largest capacity growth may reach (the model's context length). */
  max: number;
  /** One buffer for past and present (the graph's attention writes in place: model-builder GQA). */
  shared?: boolean;
}

export function pastName(layer: number, kind: 'key' | 'value'): string {
  return `past_key_values.${layer}.${kind}`;
}

export function presentName(layer: number, kind: 'key' | 'value'): string {
  return `present.${layer}.${kind}`;
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

/** One layer-and-kind's pair of static buffers. */
interface Pair {
  cur: GPUBuffer; // holds the past
  next: GPUBuffer; // receives the present
}

export class KvCache {
  private past = new Map<string, OrtTensor>();
  private pairs = new Map<string, Pair>(); // by past name (static mode)
  private capacity = 0;
  /** Tokens whose keys/values are in the cache, in order. */
  tokens: number[] = [];
  private readonly empty: OrtTensor;
  private readonly elem: number;
  /** Times the static buffers grew (diagnostics). */
  growths = 0;
  /** Shared mode: the views handed out, valid until the buffers grow. */
  private sharedTensors: { feeds?: Readonly<Record<string, OrtTensor>>; fetches?: Readonly<Record<string, OrtTensor>> } = {};

  /** `device`: the GPUDevice holding GPU-resident tensors (needed to truncate them; static mode needs it). */
  constructor(
    private readonly layout: KvLayout,
    private readonly device: GPUDevice | null = null,
    private readonly staticOpts: StaticKvOptions | null = null,
  ) {
    const dims = [1, layout.kvHeads, 0, layout.headDim];
    this.empty = layout.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    this.elem = layout.type === 'float16' ? 2 : 4;
    if (staticOpts && !device) throw new Error('internal: a static KV cache needs the GPUDevice');
  }

  get length(): number {
    return this.tokens.length;
  }

  get isStatic(): boolean {
    return this.staticOpts !== null;
  }

  /** Past and present share one buffer (in-place KV writes by the graph's attention). */
  get isShared(): boolean {
    return this.staticOpts?.shared === true;
  }

  /**
   * past_key_values.* feeds for a step of `n` new tokens (empty tensors when the cache is
   * empty; shared mode: always the whole buffer, made room for `n` more positions).
   */
  feeds(n = 1): Readonly<Record<string, OrtTensor>> {
    if (this.isShared) return this.sharedViews(n, pastName);
    const out: Record<string, OrtTensor> = {};
    for (let l = 0; l < this.layout.numLayers; l++) {
      for (const kind of ['key', 'value'] as const) {
        const name = pastName(l, kind);
        if (this.staticOpts) out[name] = this.length === 0 ? this.empty : this.view(this.pairs.get(name)!.cur, this.length);
        else out[name] = this.past.get(name) ?? this.empty;
      }
    }
    return out;
  }

  /** Static mode: the pre-allocated present.* outputs for a step of `n` new tokens (dynamic: none). */
  fetches(n: number): Readonly<Record<string, OrtTensor>> {
    if (!this.staticOpts) return {};
    if (this.isShared) return this.sharedViews(n, presentName);
    this.reserve(this.length + n);
    const out: Record<string, OrtTensor> = {};
    for (let l = 0; l < this.layout.numLayers; l++) {
      for (const kind of ['key', 'value'] as const) out[presentName(l, kind)] = this.view(this.pairs.get(pastName(l, kind))!.next, this.length + n);
    }
    return out;
  }

  /**
   * Shared mode: the whole buffer of each layer and kind // [1, heads, capacity, headDim], by
   * `name`; the same objects every step until the buffers grow (nothing made per step).
   */
  private sharedViews(n: number, name: (layer: number, kind: 'key' | 'value') => string): Readonly<Record<string, OrtTensor>> {
    this.reserve(this.length + n);
    const key = name === pastName ? 'feeds' : 'fetches';
    const cached = this.sharedTensors[key];
    if (cached) return cached;
    const out: Record<string, OrtTensor> = {};
    for (let l = 0; l < this.layout.numLayers; l++) {
      for (const kind of ['key', 'value'] as const) out[name(l, kind)] = this.view(this.pairs.get(pastName(l, kind))!.cur, this.capacity);
    }
    // Frozen: callers add their own outputs to a copy, never to this shared record.
    return (this.sharedTensors[key] = Object.freeze(out));
  }

  /** Take a step's presents as the new past; `added` = the tokens that step ran. */
  update(presents: Record<string, OrtTensor>, added: readonly number[]): void {
    if (this.isShared) {
      // ORT wrote the new positions into the one buffer in place.
      this.tokens.push(...added);
      return;
    }
    if (this.staticOpts) {
      // ORT wrote into our `next` buffers: they now hold the past.
      for (const p of this.pairs.values()) [p.cur, p.next] = [p.next, p.cur];
      this.tokens.push(...added);
      return;
    }
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

  /** Free the static buffers too (the model is going away). */
  destroy(): void {
    this.clear();
    for (const p of this.pairs.values()) {
      p.cur.destroy();
      if (p.next !== p.cur) p.next.destroy();
    }
    this.pairs.clear();
    this.sharedTensors = {};
    this.capacity = 0;
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
    if (this.isShared) {
      // The attention reads positions < seqlens_k only; the next step overwrites from n on.
      this.tokens = this.tokens.slice(0, n);
      return;
    }
    if (this.staticOpts) {
      // Per head, the first n positions of cur ([heads, len, d]) into next ([heads, n, d]); swap.
      const encoder = this.device!.createCommandEncoder({ label: 'kv-cache.truncate' });
      for (const p of this.pairs.values()) {
        this.copyHeads(encoder, p.cur, this.length, p.next, n);
        [p.cur, p.next] = [p.next, p.cur];
      }
      this.device!.queue.submit([encoder.finish()]);
      this.tokens = this.tokens.slice(0, n);
      return;
    }
    for (const [name, t] of this.past) {
      const next = t.location === 'gpu-buffer' ? this.truncateGpu(t, n) : truncateCpu(t, n);
      t.dispose();
      this.past.set(name, next);
    }
    this.tokens = this.tokens.slice(0, n);
  }

  /** A [1, heads, len, headDim] tensor over the first values of `buffer` (no copy, no dispose). */
  private view(buffer: GPUBuffer, len: number): OrtTensor {
    return ort.Tensor.fromGpuBuffer(buffer, { dataType: this.layout.type, dims: [1, this.layout.kvHeads, len, this.layout.headDim] });
  }

  private bytesFor(positions: number): number {
    return Math.ceil((this.layout.kvHeads * positions * this.layout.headDim * this.elem) / 16) * 16;
  }

  /** Static mode: make room for `positions`, allocating on first use and doubling when outgrown. */
  private reserve(positions: number): void {
    const opts = this.staticOpts!;
    if (positions <= this.capacity) return;
    if (positions > opts.max) throw new Error(`internal: KV cache needs ${positions} positions, the context holds ${opts.max}`);
    let cap = Math.max(this.capacity, Math.min(opts.capacity, opts.max));
    while (cap < positions) cap = Math.min(opts.max, cap * 2);
    const device = this.device!;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const make = (name: string, which: string) => device.createBuffer({ label: `kv-cache.${name}.${which} [${cap}]`, size: this.bytesFor(cap), usage });
    const encoder = this.capacity > 0 && this.length > 0 ? device.createCommandEncoder({ label: 'kv-cache.grow' }) : null;
    const shared = this.isShared;
    for (let l = 0; l < this.layout.numLayers; l++) {
      for (const kind of ['key', 'value'] as const) {
        const name = pastName(l, kind);
        const old = this.pairs.get(name);
        const cur = make(name, shared ? 'shared' : 'a');
        const pair = { cur, next: shared ? cur : make(name, 'b') };
        if (old && encoder) {
          // Shared: [heads, capacity, d] → [heads, cap, d], per head. Else the view's values are
          // the buffer's first heads*len*d: one plain copy keeps them.
          if (shared) this.copyStrided(encoder, old.cur, this.capacity, pair.cur, cap, this.length);
          else encoder.copyBufferToBuffer(old.cur, 0, pair.cur, 0, this.bytesFor(this.length));
        }
        this.pairs.set(name, pair);
        if (old) {
          const { cur: a, next: b } = old;
          // Destroy after the copy has run.
          void device.queue.onSubmittedWorkDone().then(() => {
            a.destroy();
            if (b !== a) b.destroy();
          });
        }
      }
    }
    if (encoder) device.queue.submit([encoder.finish()]);
    this.sharedTensors = {};
    if (this.capacity > 0) this.growths++;
    this.capacity = cap;
  }

  /** Copy the first n positions per head from src ([heads, total, d]) to dst ([heads, n, d]). */
  private copyHeads(encoder: GPUCommandEncoder, src: GPUBuffer, total: number, dst: GPUBuffer, n: number): void {
    this.copyStrided(encoder, src, total, dst, n, n);
  }

  /** Copy the first n positions per head from src ([heads, srcLen, d]) to dst ([heads, dstLen, d]). */
  private copyStrided(encoder: GPUCommandEncoder, src: GPUBuffer, srcLen: number, dst: GPUBuffer, dstLen: number, n: number): void {
    const rowBytes = this.layout.headDim * this.elem;
    for (let h = 0; h < this.layout.kvHeads; h++) encoder.copyBufferToBuffer(src, h * srcLen * rowBytes, dst, h * dstLen * rowBytes, n * rowBytes);
  }

  /** Per head, copy the first n positions of [1, heads, T, headDim] into a new buffer. */
  private truncateGpu(t: OrtTensor, n: number): OrtTensor {
    if (!this.device) throw new Error('internal: truncating GPU KV tensors needs the GPUDevice');
    const [, heads, total, headDim] = t.dims;
    const buffer = this.device.createBuffer({
      label: 'kv-cache.truncated',
      size: Math.ceil((heads * n * headDim * this.elem) / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'kv-cache.truncate' });
    this.copyHeads(encoder, t.gpuBuffer as GPUBuffer, total, buffer, n);
    this.device.queue.submit([encoder.finish()]);
    return ort.Tensor.fromGpuBuffer(buffer, {
      dataType: t.type as 'float32' | 'float16',
      dims: [1, heads, n, headDim],
      dispose: () => buffer.destroy(),
    });
  }
}
