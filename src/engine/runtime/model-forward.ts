/**
 * One forward pass of the cut model at the cache's position: builds the graph inputs,
 * runs the session chain with the steering interventor at the cuts, keeps the presents as the
 * new KV cache, and returns the last row of logits (forward) or the next token (choose).
 * Prompts longer than `maxChunk` run in chunks through the cache (prefill.ts, the same mechanism
 * the tapped extraction session uses).
 *
 * On WebGPU (`gpu` options) a decode step creates no buffer and syncs once: the KV cache is
 * static (kv-cache.ts), the logits and each cut's residual land in GPU buffers made at load and
 * bound as the sessions' outputs (residual-buffers.ts: the steering kernels then reuse their
 * bind groups), the host preamble's values are written into buffers of ours (host-uploads.ts:
 * ORT makes no staging buffers), and the next token is chosen on the GPU (gpu-sampling.ts) with
 * the trait projections in the same readback.
 */
import type { Interventor, SessionChain } from './chain';
import type { ForwardModel } from './decode-loop';
import { halfArrayToFloat } from './f16';
import { GpuSampling, type StepReadback } from './gpu-sampling';
import { KvCache, type KvLayout } from './kv-cache';
import { ort, type OrtTensor } from './ort';
import { chunkedPrefill, tokenFeeds } from './prefill';
import { ResidualBuffers, type ResidualOutput } from './residual-buffers';
import { HostUploads } from './host-uploads';
import type { Sampler } from './sampler';
import { createBuffer, readBuffer } from '../kernels/gpu-buffers';
import { logitsBytes, type LogitsLayout } from '../kernels/sample-common';

/** KV positions allocated at load (the cache doubles past this, up to the context length). */
export const KV_CAPACITY = 1024;

export interface GpuForwardOptions {
  device: GPUDevice;
  /** Longest sequence (prompt + generation) the model takes. */
  contextLength: number;
  /** Logits row width and element type (the session's `logits` output). */
  vocab: number;
  logitsType: 'float32' | 'float16';
  /** 'last': the graph outputs logits for the last position only (keepLastTokenLogits). */
  logitsRows: 'last' | 'all';
  /** KV positions allocated up front (grows by doubling up to contextLength). */
  kvCapacity: number;
  /** The graph's attention writes the KV cache in place (model-builder GroupQueryAttention): one buffer for past and present. */
  kvShared: boolean;
  /** Bytes that travel with each step's token (the steering backend's projections). */
  readback: StepReadback | null;
  /** Each cut's residual output, bound to a buffer of ours in decode (residual-buffers.ts). */
  residuals: ResidualOutput[];
}

/** GPU options for a chain on `device`: logits type and width from the session's metadata. */
export function gpuForwardOptions(
  chain: SessionChain,
  device: GPUDevice,
  opts: { contextLength: number; vocab: number; hidden?: number; logitsRows: 'last' | 'all'; readback: StepReadback | null; kvShared?: boolean },
): GpuForwardOptions {
  const logits = chain.logitsInfo();
  const residuals = chain.residualOutputs().map(({ name, type, hidden }) => {
    const width = hidden ?? opts.hidden;
    if (!width) throw new Error(`internal: the width of residual ${name} is not in the session's metadata; pass the model's hidden size`);
    return { name, type, hidden: width };
  });
  return {
    device,
    contextLength: opts.contextLength,
    vocab: logits.vocab ?? opts.vocab,
    logitsType: logits.type,
    logitsRows: opts.logitsRows,
    kvCapacity: KV_CAPACITY,
    kvShared: opts.kvShared ?? false,
    readback: opts.readback,
    residuals,
  };
}

/** Where forwardLast finds the last row of logits: row `row` of a GPU buffer, or f32 on the CPU (WASM EP). */
export type LastLogits = { gpu: GPUBuffer; row: number; layout: LogitsLayout } | { cpu: Float32Array };

interface PassOutput {
  logits: OrtTensor; // [1, rows, vocab]
  /** true when `logits` is our pre-allocated buffer (never disposed). */
  bound: boolean;
}

export class ModelForward implements ForwardModel {
  readonly cache: KvCache;
  private readonly logitsBuffer: GPUBuffer | null = null;
  private readonly sampling: GpuSampling | null = null;
  private readonly residuals: ResidualBuffers | null = null;
  /** The host preamble's GPU-read values of a decode step, in buffers of ours (host-uploads.ts). */
  private readonly uploads: HostUploads | null = null;
  private readonly device: GPUDevice | null;
  /** The logits output bound to logitsBuffer // [1, 1, vocab]: one wrapper for the model's life. */
  private logitsFetch: OrtTensor | null = null;

  constructor(
    private readonly chain: SessionChain,
    private readonly interventor: Interventor | null,
    layout: KvLayout,
    device: GPUDevice | null,
    /** Longest prefill one pass may run (prefill.ts prefillChunk); longer prompts go in chunks through the KV cache. */
    private readonly maxChunk = Infinity,
    private readonly gpu: GpuForwardOptions | null = null,
  ) {
    if (gpu) {
      this.cache = new KvCache(layout, gpu.device, { capacity: Math.min(gpu.kvCapacity, gpu.contextLength), max: gpu.contextLength, shared: gpu.kvShared });
      const lay = { vocab: gpu.vocab, f16: gpu.logitsType === 'float16' };
      this.logitsBuffer = createBuffer(
        gpu.device,
        `logits [1,1,${gpu.vocab}] ${gpu.logitsType}`,
        logitsBytes(lay),
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      this.sampling = new GpuSampling(gpu.device, lay, gpu.readback);
      this.residuals = new ResidualBuffers(gpu.device, gpu.residuals);
      if (chain.readsHostOnGpu) this.uploads = new HostUploads(gpu.device, gpu.contextLength);
    } else {
      this.cache = new KvCache(layout, device);
    }
    this.device = gpu?.device ?? device;
  }

  /** GPU sampling diagnostics (null off the GPU). */
  get samplingStats(): { steps: number; fallbacks: number } | null {
    return this.sampling?.stats ?? null;
  }

  async forward(tokens: number[]): Promise<Float32Array> {
    return this.lastRow(await this.passes(tokens));
  }

  /**
   * Runs `tokens` and hands the last row of logits to `read` where it lies, reading nothing back
   * itself (the option pass of the psychometrics reads a few floats from it). `into`: a
   * [1, 1, vocab] GPU tensor of the caller's, bound as the session's logits output (the graph
   * outputs the last position only), so the row lands in a buffer that outlives the pass.
   */
  async forwardLast<T>(tokens: number[], read: (logits: LastLogits) => Promise<T>, into: OrtTensor | null = null): Promise<T> {
    const out = await this.passes(tokens, into);
    const { logits, bound } = out;
    if (logits.location !== 'gpu-buffer') return read({ cpu: await this.lastRow(out) });
    try {
      const [, seq, vocab] = logits.dims; // [batch, seq, vocab]
      return await read({ gpu: logits.gpuBuffer as GPUBuffer, row: seq - 1, layout: { vocab, f16: logits.type === 'float16' } });
    } finally {
      if (!bound) logits.dispose();
    }
  }

  /** Runs `tokens` and returns the token `sampler` picks from the last row (one readback on the GPU). */
  async choose(tokens: number[], sampler: Sampler, history: readonly number[]): Promise<number> {
    if (!this.sampling) return sampler.next(await this.forward(tokens), history);
    const { logits, bound } = await this.passes(tokens);
    try {
      return await this.sampling.choose(logits.gpuBuffer as GPUBuffer, logits.dims[1] - 1, sampler, history);
    } finally {
      if (!bound) logits.dispose();
    }
  }

  /** Free the static KV cache and our GPU buffers (the model is going away). */
  destroy(): void {
    this.cache.destroy();
    this.logitsBuffer?.destroy();
    this.sampling?.destroy();
    this.residuals?.destroy();
    this.uploads?.destroy();
  }

  /** `tokens` in chunks of maxChunk; the last chunk's logits (earlier ones are dropped). */
  private async passes(tokens: number[], into: OrtTensor | null = null): Promise<PassOutput> {
    const outs = await chunkedPrefill(tokens, this.maxChunk, async (chunk, _start, last) => {
      const out = await this.pass(chunk, into);
      if (last) return out;
      if (!out.bound) out.logits.dispose();
      return null;
    });
    return outs[outs.length - 1]!;
  }

  private async pass(tokens: number[], into: OrtTensor | null): Promise<PassOutput> {
    const n = tokens.length;
    // Token inputs stay CPU tensors: ORT runs the int64 nodes that read them (Shape, Cast, mask
    // and position arithmetic) on the CPU, so GPU copies would be read back before every run.
    const feeds: Record<string, OrtTensor> = { ...tokenFeeds(tokens, this.cache.length), ...this.cache.feeds(n) };
    // A copy: the shared cache's record is reused every step. One token: the residuals go to our buffers.
    const fetches: Record<string, OrtTensor> = { ...this.cache.fetches(n), ...this.residuals?.fetches(n) };
    const bind = this.logitsBuffer !== null && (this.gpu!.logitsRows === 'last' || n === 1);
    if (bind)
      fetches.logits = this.logitsFetch ??= ort.Tensor.fromGpuBuffer(this.logitsBuffer!, { dataType: this.gpu!.logitsType, dims: [1, 1, this.gpu!.vocab] });
    else if (into) fetches.logits = into;
    const { logits, presents } = await this.chain.run(feeds, this.interventor, n, fetches, this.uploads);
    this.cache.update(presents, tokens);
    return { logits, bound: bind || into !== null };
  }

  /** The last row of logits as f32 on the CPU (tests, calibration: not the decode path). */
  private async lastRow({ logits, bound }: PassOutput): Promise<Float32Array> {
    const [, seq, vocab] = logits.dims; // [batch, seq, vocab]
    const half = logits.type === 'float16';
    try {
      if (logits.location === 'gpu-buffer') {
        if (!this.device) throw new Error('internal: GPU logits need the GPUDevice');
        const elem = half ? 2 : 4;
        const start = (seq - 1) * vocab * elem;
        const from = Math.floor(start / 4) * 4;
        const bytes = await readBuffer(this.device, logits.gpuBuffer as GPUBuffer, from, Math.ceil((start + vocab * elem - from) / 4) * 4);
        const shift = start - from;
        return half ? halfArrayToFloat(new Uint16Array(bytes.slice(shift, shift + vocab * 2))) : new Float32Array(bytes.slice(shift, shift + vocab * 4));
      }
      const data = half ? halfArrayToFloat(logits.data as Uint16Array) : (logits.data as Float32Array);
      return data.slice((seq - 1) * vocab, seq * vocab);
    } finally {
      if (!bound) logits.dispose();
    }
  }
}
