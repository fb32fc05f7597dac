/**
 * TopkPass: records shaders/topk.wgsl — the repetition penalty on tokens seen so far and a
 * selection of the top-k scores of one logits row, written as {count, bound, (index, raw
 * logit) x count} u32 words. The seen-token bitset lives on the GPU and is updated
 * incrementally (one 4-byte write per new token).
 */
import topkWgsl from '../../../shaders/topk.wgsl?raw';
import { checkStorage, checkU32, createBuffer, UniformCache } from './gpu-buffers';
import { buildKernel, type ComputeKernel } from './pipeline';
import { checkLayout, logitsBytes, sampleValues, type LogitsLayout } from './sample-common';
import { buildWgsl } from './shader-source';

/** Largest k the GPU selection serves (larger top-k settings read the full row instead). */

/** The kernel's WGSL for f32 or f16 logits. */
export function topkSource(f16: boolean): string {
  return buildWgsl('topk', topkWgsl, sampleValues(f16));
}

export const TOPK_MAX = 256;

export interface TopkEncodeOptions {
  /** Candidates wanted, 1..TOPK_MAX. */
  k: number;
  /** Repetition penalty (1 = off); applied to tokens marked seen. */
  penalty: number;
  /** Logits row to read (default 0). */
  row?: number;
}

/** u32 words topk.wgsl writes for `k` candidates: 2 header words + 2 per candidate. */
export function topkOutputWords(k: number): number {
  return 2 + 2 * k;
}

export class TopkPass {
  /** Bitset of seen tokens // [ceil(vocab / 32)] u32. */
  readonly seen: GPUBuffer;
  private readonly seenCpu: Uint32Array<ArrayBuffer>;
  private readonly kernel: ComputeKernel;
  private readonly calls: UniformCache; // uniform Call (8 words)

  constructor(
    private readonly device: GPUDevice,
    readonly layout: LogitsLayout,
    private readonly label = 'topk',
  ) {
    checkLayout(layout);
    const words = Math.ceil(layout.vocab / 32);
    this.seenCpu = new Uint32Array(words);
    this.seen = createBuffer(device, `${label}.seen [${words}]`, words * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    this.kernel = buildKernel(device, label, topkSource(layout.f16), ['read-only-storage', 'read-only-storage', 'uniform', 'storage']);
    this.calls = new UniformCache(device, `${label}.call`);
  }

  /** Replace the seen set (e.g. with a new prompt). Out-of-range ids are ignored. */
  setSeen(tokens: Iterable<number>): void {
    this.seenCpu.fill(0);
    for (const t of tokens) if (t >= 0 && t < this.layout.vocab) this.seenCpu[t >>> 5] |= 1 << (t & 31);
    this.device.queue.writeBuffer(this.seen, 0, this.seenCpu);
  }

  /** Mark one more token seen (writes only its word, and only when it changes). */
  markSeen(token: number): void {
    if (!(token >= 0 && token < this.layout.vocab)) return;
    const w = token >>> 5;
    const next = (this.seenCpu[w] | (1 << (token & 31))) >>> 0;
    if (next === this.seenCpu[w]) return;
    this.seenCpu[w] = next;
    this.device.queue.writeBuffer(this.seen, w * 4, this.seenCpu, w, 1);
  }

  /** Record the selection of row `row` into out[0 .. topkOutputWords(min(k, vocab))). */
  encode(encoder: GPUCommandEncoder, logits: GPUBuffer, out: GPUBuffer, opts: TopkEncodeOptions): void {
    const row = opts.row ?? 0;
    checkU32(row, 'row');
    if (!Number.isInteger(opts.k) || opts.k < 1 || opts.k > TOPK_MAX) throw new RangeError(`k must be in 1..${TOPK_MAX}, got ${opts.k}`);
    if (!(opts.penalty >= 1)) throw new RangeError(`penalty must be >= 1, got ${opts.penalty}`);
    const vocab = this.layout.vocab;
    const emit = Math.min(opts.k, vocab);
    const pick = Math.min(opts.k + 1, vocab);
    checkStorage(logits, logitsBytes(this.layout, row + 1), 'logits');
    checkStorage(out, topkOutputWords(emit) * 4, 'topk output');
    const f = new Float32Array([opts.penalty, 1 / opts.penalty]);
    const bits = new Uint32Array(f.buffer);
    const call = this.calls.get([vocab, row * vocab, pick, emit, opts.penalty !== 1 ? 1 : 0, bits[0], bits[1], 0]);
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, this.kernel.bindGroups.get([logits, this.seen, call, out]));
    pass.dispatchWorkgroups(1, 1, 1);
    pass.end();
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
    this.seen.destroy();
  }
}
