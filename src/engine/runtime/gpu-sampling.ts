/**
 * The next token chosen on the GPU, with one readback per step: argmax.wgsl (plain greedy) or
 * topk.wgsl (repetition penalty / top-k: at most TOPK_MAX candidates come back and the CPU
 * finishes with the seeded sampler), or, when neither suffices, the whole logits row. Whatever
 * else must reach the CPU this step (the trait projections) rides in the same staging buffer,
 * so a decode step costs one mapAsync. Every buffer is created once, here.
 *
 * The f16 guard lives here for the GPU path: both kernels flag a row holding NaN or ±Infinity
 * (argmax: SAMPLE_NONE instead of a token; top-k: SAMPLE_NONE as the count), and a full row is
 * checked on the CPU; each raises NonFiniteError instead of returning a token.
 */
import { ArgmaxPass } from '../kernels/argmax-pass';
import { createBuffer } from '../kernels/gpu-buffers';
import { logitsBytes, SAMPLE_NONE, type LogitsLayout } from '../kernels/sample-common';
import { TOPK_MAX, TopkPass, topkOutputWords } from '../kernels/topk-pass';
import { parseTopk } from '../kernels/topk-ref';
import { halfArrayToFloat } from './f16';
import { firstNonFinite, NonFiniteError } from './finite-guard';
import { gpuPlan, type Sampler } from './sampler';

/** Something else that reads back a few bytes per step (the steering backend's projections). */
export interface StepReadback {
  /** Most bytes encodeReadback() may write (fixed for the object's life). */
  readonly maxReadbackBytes: number;
  /** Record copies of this step's bytes into `staging` at `offset` (multiple of 8); returns the byte count (multiple of 4). */
  encodeReadback(encoder: GPUCommandEncoder, staging: GPUBuffer, offset: number): number;
  /** Receive those bytes (a view that is only valid during the call). */
  takeReadback(bytes: Uint8Array): void;
}

const align = (n: number, m: number) => Math.ceil(n / m) * m;

/** The error for a non-finite logits row; the decode loop re-raises it with the generated-token index. */
const nonFinite = () => new NonFiniteError('logits', -1);

function finiteRow(row: Float32Array): Float32Array {
  if (firstNonFinite(row) >= 0) throw nonFinite();
  return row;
}

export interface StepStats {
  steps: number;
  /** Steps whose GPU candidates could not certify the CPU sampler's choice (a second readback). */
  fallbacks: number;
}

export class GpuSampling {
  private readonly argmax: ArgmaxPass;
  private readonly topk: TopkPass;
  private readonly out: GPUBuffer; // [2 + 2 * TOPK_MAX] u32, kernel output
  private readonly staging: GPUBuffer; // MAP_READ: sample area, then the extra readback
  private readonly sampleArea: number;
  private readonly rowBytes: number;
  private seenFor: readonly number[] | null = null;
  private seenLength = 0;
  private readonly seenSet = new Set<number>();
  readonly stats: StepStats = { steps: 0, fallbacks: 0 };

  constructor(
    private readonly device: GPUDevice,
    readonly layout: LogitsLayout,
    private readonly extra: StepReadback | null = null,
    label = 'sampling',
  ) {
    this.argmax = new ArgmaxPass(device, layout, `${label}.argmax`);
    this.topk = new TopkPass(device, layout, `${label}.topk`);
    const outBytes = topkOutputWords(TOPK_MAX) * 4;
    this.out = createBuffer(device, `${label}.out [${topkOutputWords(TOPK_MAX)}]`, outBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    // A full row may start mid-word (f16, odd vocab): one extra word of room.
    this.rowBytes = logitsBytes(layout) + 4;
    this.sampleArea = align(Math.max(outBytes, this.rowBytes), 8);
    this.staging = createBuffer(
      device,
      `${label}.staging`,
      this.sampleArea + (extra?.maxReadbackBytes ?? 0),
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
  }

  /**
   * Row `row` of `logits` (a GPU buffer in `layout`) → the token `sampler` would choose on the CPU
   * from that row with this `history` (prompt + generated so far). Throws NonFiniteError (token
   * index -1: the caller knows it) when the row holds a NaN or ±Infinity; no token comes back.
   */
  async choose(logits: GPUBuffer, row: number, sampler: Sampler, history: readonly number[]): Promise<number> {
    this.stats.steps++;
    const opts = sampler.options;
    const plan = gpuPlan(opts, TOPK_MAX);
    const encoder = this.device.createCommandEncoder({ label: 'sampling.step' });
    let sampleBytes: number;
    let rowShift = 0;
    if (plan.kind === 'argmax') {
      this.argmax.encode(encoder, logits, this.out, { row });
      sampleBytes = 4;
      encoder.copyBufferToBuffer(this.out, 0, this.staging, 0, sampleBytes);
    } else if (plan.kind === 'topk') {
      if (opts.repetitionPenalty !== 1) this.syncSeen(history);
      this.topk.encode(encoder, logits, this.out, { k: plan.k, penalty: opts.repetitionPenalty, row });
      sampleBytes = topkOutputWords(Math.min(plan.k, this.layout.vocab)) * 4;
      encoder.copyBufferToBuffer(this.out, 0, this.staging, 0, sampleBytes);
    } else {
      [sampleBytes, rowShift] = this.encodeRowCopy(encoder, logits, row);
    }
    const extraOffset = align(sampleBytes, 8);
    const extraBytes = this.extra ? this.extra.encodeReadback(encoder, this.staging, extraOffset) : 0;
    this.device.queue.submit([encoder.finish()]);

    const mapped = extraOffset + extraBytes;
    await this.staging.mapAsync(GPUMapMode.READ, 0, align(mapped, 4));
    let token: number | null;
    try {
      const bytes = this.staging.getMappedRange(0, align(mapped, 4));
      if (this.extra && extraBytes > 0) this.extra.takeReadback(new Uint8Array(bytes, extraOffset, extraBytes));
      if (plan.kind === 'argmax') {
        token = new Uint32Array(bytes, 0, 1)[0];
        if (token === SAMPLE_NONE || token >= this.layout.vocab) throw nonFinite();
      } else if (plan.kind === 'topk') {
        const candidates = parseTopk(new Uint32Array(bytes, 0, sampleBytes / 4));
        if (candidates.nonFinite || firstNonFinite(candidates.raw) >= 0 || candidates.ids.some((id) => id >= this.layout.vocab)) throw nonFinite();
        token = sampler.nextFromCandidates(candidates, this.seenSet);
      } else token = sampler.next(finiteRow(this.rowFrom(bytes, rowShift)), history);
    } finally {
      this.staging.unmap();
    }
    if (token !== null) return token;

    // The candidates could not prove the CPU's choice: read the whole row (rare).
    this.stats.fallbacks++;
    const again = this.device.createCommandEncoder({ label: 'sampling.fallback' });
    const [bytes, shift] = this.encodeRowCopy(again, logits, row);
    this.device.queue.submit([again.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ, 0, bytes);
    try {
      return sampler.next(finiteRow(this.rowFrom(this.staging.getMappedRange(0, bytes), shift)), history);
    } finally {
      this.staging.unmap();
    }
  }

  /** Copy logits row `row` to staging[0..); returns [bytes copied, byte shift of the row start]. */
  private encodeRowCopy(encoder: GPUCommandEncoder, logits: GPUBuffer, row: number): [number, number] {
    const elem = this.layout.f16 ? 2 : 4;
    const start = row * this.layout.vocab * elem;
    const from = Math.floor(start / 4) * 4;
    const to = align(start + this.layout.vocab * elem, 4);
    encoder.copyBufferToBuffer(logits, from, this.staging, 0, to - from);
    return [to - from, start - from];
  }

  /** The row as f32 (a copy: the mapped range goes away at unmap). */
  private rowFrom(bytes: ArrayBuffer, shift: number): Float32Array {
    const { vocab, f16 } = this.layout;
    if (f16) return halfArrayToFloat(new Uint16Array(bytes.slice(shift, shift + vocab * 2)));
    return new Float32Array(bytes.slice(shift, shift + vocab * 4));
  }

  /** Bring the GPU's seen-token bitset (and its CPU twin) to `history`, writing only what changed. */
  private syncSeen(history: readonly number[]): void {
    if (this.seenFor !== history || history.length < this.seenLength) {
      this.seenSet.clear();
      for (const t of history) this.seenSet.add(t);
      this.topk.setSeen(this.seenSet);
    } else {
      for (let i = this.seenLength; i < history.length; i++) {
        this.seenSet.add(history[i]);
        this.topk.markSeen(history[i]);
      }
    }
    this.seenFor = history;
    this.seenLength = history.length;
  }

  destroy(): void {
    this.argmax.destroy();
    this.topk.destroy();
    this.out.destroy();
    this.staging.destroy();
  }
}
