/**
 * Steering backend on the GPU: at every cut, one command buffer reads the last token's
 * projections (before), steers all rows in place and reads them again (after). Those few
 * floats reach the CPU with the step's token (StepReadback: gpu-sampling.ts copies the used
 * slots into its staging buffer, one map per step), or on their own through lastProjections().
 * Runs on ORT's own GPUDevice, so queue order alone keeps it between the two session runs.
 * Hidden states never leave the GPU.
 */
import { K_MAX } from '../../steering/mode';
import { DirectionBuffers, NormPass, ReadoutPass, SteerPass, type SteerParam } from '../kernels';
import { createBuffer } from '../kernels/gpu-buffers';
import type { LayerPlan } from '../../steering/plan';
import { ort, type OrtTensor } from './ort';
import type { StepReadback } from './gpu-sampling';
import type { CutProjections, SteeringBackend } from './steering-backend';

/** Norm measurement keeps at most this many tokens per cut. */
const NORM_CAPACITY = 4096;
const ROW_BYTES = K_MAX * 4;

interface CutKernels {
  dirs: DirectionBuffers;
  steer: SteerPass;
  readout: ReadoutPass;
  proj: GPUBuffer; // [2, K_MAX]: row 0 before steering, row 1 after
  norms: GPUBuffer; // [NORM_CAPACITY]
  normCount: number;
}

export class GpuBackend implements SteeringBackend, StepReadback {
  private readonly cuts: CutKernels[];
  private readonly norm: NormPass;
  private readonly staging: GPUBuffer; // [cuts, 2, K_MAX] MAP_READ
  private measuring = false;
  private slotCounts: number[];
  /** Projections of the latest pass when they came with the step's readback (else null). */
  private latest: CutProjections[] | null = null;
  readonly maxReadbackBytes: number;

  constructor(
    private readonly device: GPUDevice,
    hidden: number,
    cutCount: number,
  ) {
    this.norm = new NormPass(device, { hidden, label: 'calibration.norm' });
    this.cuts = Array.from({ length: cutCount }, (_, c) => {
      const label = `cut${c}`;
      const dirs = new DirectionBuffers(device, hidden, `${label}.directions`);
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      return {
        dirs,
        steer: new SteerPass(device, { hidden, directions: dirs, label: `${label}.steer` }),
        readout: new ReadoutPass(device, { hidden, directions: dirs, label: `${label}.readout` }),
        proj: createBuffer(device, `${label}.projections [2,${K_MAX}]`, 2 * ROW_BYTES, usage),
        norms: createBuffer(device, `${label}.norms [${NORM_CAPACITY}]`, NORM_CAPACITY * 4, usage),
        normCount: 0,
      };
    });
    this.staging = createBuffer(
      device,
      `projections.staging [${cutCount},2,${K_MAX}]`,
      Math.max(1, cutCount) * 2 * ROW_BYTES,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
    this.slotCounts = new Array(cutCount).fill(0);
    this.maxReadbackBytes = Math.max(1, cutCount) * 2 * ROW_BYTES;
  }

  setPlans(plans: LayerPlan[]): void {
    plans.forEach((plan, c) => {
      const cut = this.cuts[c];
      if (!cut) return;
      cut.steer.setDirections(plan.slots.map((s) => s.vector));
      const params: SteerParam[] = plan.slots.map((s) => ({ mode: s.mode, alpha: s.alpha, target: s.target }));
      cut.steer.setParams(params);
      this.slotCounts[c] = plan.slots.length;
    });
  }

  apply(c: number, residual: OrtTensor, tokens: number): OrtTensor {
    const cut = this.cuts[c];
    const buffer = residual.gpuBuffer as GPUBuffer; // [1, tokens, hidden]
    const encoder = this.device.createCommandEncoder({ label: `cut${c}.encoder` });
    if (this.measuring) {
      const n = Math.min(tokens, NORM_CAPACITY - cut.normCount);
      if (n > 0) this.norm.encode(encoder, buffer, n, cut.norms, cut.normCount);
      cut.normCount += Math.max(0, n);
    }
    const last = { tokenOffset: tokens - 1, outStride: K_MAX };
    cut.readout.encode(encoder, buffer, 1, cut.proj, 0, last);
    cut.steer.encode(encoder, buffer, tokens);
    cut.readout.encode(encoder, buffer, 1, cut.proj, 1, last);
    this.device.queue.submit([encoder.finish()]);
    this.latest = null;
    return residual;
  }

  /** Copies each cut's used slots (pre row, then post row) to `staging` at `offset`; returns the bytes. */
  encodeReadback(encoder: GPUCommandEncoder, staging: GPUBuffer, offset: number): number {
    let at = offset;
    this.cuts.forEach((cut, c) => {
      const bytes = this.slotCounts[c] * 4;
      if (bytes === 0) return;
      encoder.copyBufferToBuffer(cut.proj, 0, staging, at, bytes);
      encoder.copyBufferToBuffer(cut.proj, ROW_BYTES, staging, at + bytes, bytes);
      at += 2 * bytes;
    });
    return at - offset;
  }

  takeReadback(bytes: Uint8Array): void {
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    let at = 0;
    this.latest = this.cuts.map((_, c) => {
      const k = this.slotCounts[c];
      const out = { pre: all.slice(at, at + k), post: all.slice(at + k, at + 2 * k) };
      at += 2 * k;
      return out;
    });
  }

  async lastProjections(): Promise<CutProjections[]> {
    if (this.latest) return this.latest;
    const encoder = this.device.createCommandEncoder({ label: 'projections.readback' });
    this.cuts.forEach((cut, c) => encoder.copyBufferToBuffer(cut.proj, 0, this.staging, c * 2 * ROW_BYTES, 2 * ROW_BYTES));
    this.device.queue.submit([encoder.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    return this.cuts.map((_, c) => {
      const k = this.slotCounts[c];
      const base = c * 2 * K_MAX;
      return { pre: all.slice(base, base + k), post: all.slice(base + K_MAX, base + K_MAX + k) };
    });
  }

  measureNorms(on: boolean): void {
    if (on) for (const cut of this.cuts) cut.normCount = 0;
    this.measuring = on;
  }

  async takeNorms(): Promise<number[]> {
    const out: number[] = [];
    for (const cut of this.cuts) {
      const n = Math.min(cut.normCount, NORM_CAPACITY);
      if (n === 0) {
        out.push(1);
        continue;
      }
      const staging = createBuffer(this.device, 'norms.staging', n * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const enc = this.device.createCommandEncoder({ label: 'norms.readback' });
      enc.copyBufferToBuffer(cut.norms, 0, staging, 0, n * 4);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const norms = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      // Skip the first token of each text (attention-sink tokens carry outsized norms) via the median.
      const sorted = Array.from(norms).sort((a, b) => a - b);
      out.push(sorted[Math.floor(sorted.length / 2)] || 1);
    }
    return out;
  }

  dispose(): void {
    for (const cut of this.cuts) {
      cut.steer.destroy();
      cut.readout.destroy();
      cut.dirs.destroy();
      cut.proj.destroy();
      cut.norms.destroy();
    }
    this.norm.destroy();
    this.staging.destroy();
  }
}

export async function ortDevice(): Promise<GPUDevice> {
  const device = (await ort.env.webgpu.device) as GPUDevice | undefined;
  if (!device) throw new Error('internal: ORT has not created its WebGPU device');
  return device;
}
