/**
 * Where extraction statistics are kept. GpuStats: our WGSL passes on ORT's GPUDevice read the
 * tapped residual gpu-buffers directly; only per-layer [hidden] vectors and per-prompt scalar
 * projections are ever read back. CpuStats: the WASM fallback (residuals are CPU tensors),
 * with src/traits/extract-math.ts doing the math.
 *
 * Lifecycle per trait: accumulate() every extraction prompt (high before low of each pair),
 * finish() → one vector per tapped layer (sign toward high), setDirections(), project() every
 * held-out prompt, projections(), dispose().
 */
import { DirectionBuffers } from '../kernels/direction-buffers';
import { createBuffer } from '../kernels/gpu-buffers';
import { PcaPass } from '../kernels/pca-pass';
import { ReadoutPass } from '../kernels/readout-pass';
import { StatsPass } from '../kernels/stats-pass';
import { fixSignTowardHigh } from '../kernels/pca-ref';
import type { OrtTensor } from '../runtime/ort';
import { dot, unitVector } from '../../steering/vector';
import { meanDifference, pcaDirection } from '../../traits/extract-math';
import { poolPositions } from '../../traits/prompts';
import type { ExtractionMethod } from '../../traits/extracted';

export interface StatsShape {
  hidden: number;
  /** Number of tapped layers (slots). */
  layers: number;
  /** Contrastive extraction pairs (rows of diffs). */
  pairs: number;
  /** Held-out prompt slots (2 per held-out pair) and rows reserved per slot (max pooled positions). */
  evalSlots: number;
  slotRows: number;
}

export interface FinishOptions {
  method: ExtractionMethod;
  pcaIterations?: number;
  pcaCenter?: boolean;
}

export interface StatsBackend {
  /** Add one prompt's pooled rows [first, first + count) of every layer; cls 0 high, 1 low; `pair` = its pair row. */
  accumulate(residuals: OrtTensor[], first: number, count: number, cls: 0 | 1, pair: number): void;
  /** Per layer slot: the trait vector (mean-diff raw, pca unit), sign toward high. */
  finish(opts: FinishOptions): Promise<Float32Array[]>;
  /** Directions (one per layer slot) that project() reads along (normalized internally). */
  setDirections(vectors: Float32Array[]): void;
  /** Projection of the pooled rows [first, first + count) of every layer on its direction, stored at `slot`. */
  project(residuals: OrtTensor[], first: number, count: number, slot: number): void;
  /** [layer slot][eval slot] projections. */
  projections(): Promise<Float64Array[]>;
  dispose(): void;
}

export class GpuStats implements StatsBackend {
  private readonly stats: StatsPass;
  private pca: PcaPass | null = null;
  private readonly readouts: ReadoutPass[] = [];
  private readonly out: GPUBuffer; // [layers, evalSlots, slotRows] projections
  private readonly counts: number[]; // pooled rows per eval slot
  private high = 0;
  private low = 0;
  private readonly destroyed: { destroy(): void }[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly shape: StatsShape,
    method: ExtractionMethod,
  ) {
    const { hidden, layers } = shape;
    this.stats = new StatsPass(device, { hidden, layers, maxPairs: method === 'pca' ? shape.pairs : 0, label: 'extract.stats' });
    const rows = Math.max(1, layers * shape.evalSlots * shape.slotRows);
    this.out = createBuffer(
      device,
      `extract.projections [${layers},${shape.evalSlots},${shape.slotRows}]`,
      rows * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    );
    this.counts = new Array(shape.evalSlots).fill(0);
    const enc = device.createCommandEncoder({ label: 'extract.reset' });
    this.stats.encodeReset(enc);
    enc.clearBuffer(this.out);
    device.queue.submit([enc.finish()]);
  }

  accumulate(residuals: OrtTensor[], first: number, count: number, cls: 0 | 1, pair: number): void {
    const enc = this.device.createCommandEncoder({ label: 'extract.accumulate' });
    residuals.forEach((t, layer) => {
      this.stats.encodeAccumulate(enc, t.gpuBuffer as GPUBuffer, { layer, first, count, cls, pair: this.stats.maxPairs > 0 ? pair : undefined });
    });
    this.device.queue.submit([enc.finish()]);
    this.stats.releaseCallBuffers();
    if (cls === 0) this.high++;
    else this.low++;
  }

  async finish(opts: FinishOptions): Promise<Float32Array[]> {
    const { hidden, layers } = this.shape;
    const bytes = layers * hidden * 4;
    const enc = this.device.createCommandEncoder({ label: 'extract.finish' });
    this.stats.encodeMeanDiff(enc, this.high, this.low);
    let result: GPUBuffer | null = null;
    if (opts.method === 'pca') {
      this.pca = new PcaPass(this.device, { hidden, layers, label: 'extract.pca' });
      result = this.pca.encode(enc, this.stats.diffs, this.stats.meanDiff, {
        pairs: Math.min(this.high, this.low),
        iterations: opts.pcaIterations,
        center: opts.pcaCenter,
      });
    }
    const staging = createBuffer(
      this.device,
      `extract.vectors.staging [${result ? 2 : 1},${layers},${hidden}]`,
      (result ? 2 : 1) * bytes,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
    enc.copyBufferToBuffer(this.stats.meanDiff, 0, staging, 0, bytes);
    if (result) enc.copyBufferToBuffer(result, 0, staging, bytes, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0, (result ? 2 : 1) * bytes));
    staging.unmap();
    staging.destroy();
    const row = (k: number, l: number) => all.slice((k * layers + l) * hidden, (k * layers + l + 1) * hidden);
    return Array.from({ length: layers }, (_, l) => (result ? fixSignTowardHigh(row(1, l), row(0, l)) : row(0, l)));
  }

  setDirections(vectors: Float32Array[]): void {
    vectors.forEach((v, l) => {
      let r = this.readouts[l];
      if (!r) {
        const dirs = new DirectionBuffers(this.device, this.shape.hidden, `extract.layer${l}.direction`);
        this.destroyed.push(dirs);
        r = new ReadoutPass(this.device, { hidden: this.shape.hidden, directions: dirs, label: `extract.layer${l}.readout` });
        this.readouts[l] = r;
      }
      r.setDirections([v]);
    });
  }

  project(residuals: OrtTensor[], first: number, count: number, slot: number): void {
    const { evalSlots, slotRows } = this.shape;
    if (count > slotRows) throw new Error(`internal: ${count} pooled rows > ${slotRows} reserved`);
    const enc = this.device.createCommandEncoder({ label: 'extract.project' });
    residuals.forEach((t, l) => {
      this.readouts[l].encode(enc, t.gpuBuffer as GPUBuffer, count, this.out, (l * evalSlots + slot) * slotRows, { tokenOffset: first, outStride: 1 });
    });
    this.device.queue.submit([enc.finish()]);
    this.counts[slot] = count;
  }

  async projections(): Promise<Float64Array[]> {
    const { layers, evalSlots, slotRows } = this.shape;
    const n = layers * evalSlots * slotRows;
    const staging = createBuffer(this.device, `extract.projections.staging [${n}]`, n * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const enc = this.device.createCommandEncoder({ label: 'extract.projections.readback' });
    enc.copyBufferToBuffer(this.out, 0, staging, 0, Math.max(4, n * 4));
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = new Float32Array(staging.getMappedRange().slice(0, n * 4));
    staging.unmap();
    staging.destroy();
    // Projection of the mean of rows = mean of the rows' projections.
    return Array.from({ length: layers }, (_, l) => {
      const p = new Float64Array(evalSlots);
      for (let s = 0; s < evalSlots; s++) {
        const c = this.counts[s];
        let acc = 0;
        for (let r = 0; r < c; r++) acc += raw[(l * evalSlots + s) * slotRows + r];
        p[s] = c > 0 ? acc / c : NaN;
      }
      return p;
    });
  }

  dispose(): void {
    this.stats.destroy();
    this.pca?.destroy();
    for (const r of this.readouts) r.destroy();
    for (const d of this.destroyed) d.destroy();
    this.out.destroy();
  }
}

/** The WASM fallback: pooled rows come to the CPU (there is no GPU to keep them on). */
export class CpuStats implements StatsBackend {
  private readonly high: Float32Array[][];
  private readonly low: Float32Array[][];
  private units: Float32Array[] = [];
  private readonly proj: Float64Array[];

  constructor(private readonly shape: StatsShape) {
    this.high = Array.from({ length: shape.layers }, () => []);
    this.low = Array.from({ length: shape.layers }, () => []);
    this.proj = Array.from({ length: shape.layers }, () => new Float64Array(shape.evalSlots).fill(NaN));
  }

  private pooled(t: OrtTensor, first: number, count: number): Float32Array {
    const positions = Array.from({ length: count }, (_, i) => first + i);
    return poolPositions(t.data as Float32Array, this.shape.hidden, positions);
  }

  accumulate(residuals: OrtTensor[], first: number, count: number, cls: 0 | 1, pair: number): void {
    residuals.forEach((t, l) => {
      (cls === 0 ? this.high : this.low)[l][pair] = this.pooled(t, first, count);
    });
  }

  async finish(opts: FinishOptions): Promise<Float32Array[]> {
    return this.high.map((h, l) => {
      const lo = this.low[l];
      if (opts.method === 'pca') return pcaDirection(h, lo, { center: opts.pcaCenter, maxIter: opts.pcaIterations });
      return meanDifference(h, lo);
    });
  }

  setDirections(vectors: Float32Array[]): void {
    this.units = vectors.map((v) => unitVector(v));
  }

  project(residuals: OrtTensor[], first: number, count: number, slot: number): void {
    residuals.forEach((t, l) => {
      this.proj[l][slot] = dot(this.pooled(t, first, count), this.units[l]);
    });
  }

  async projections(): Promise<Float64Array[]> {
    return this.proj;
  }

  dispose(): void {}
}
