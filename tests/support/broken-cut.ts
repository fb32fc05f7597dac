/**
 * Test support: a deliberately broken cut, for the self-check's must-fail cases. Wraps the
 * model's real steering backend (the one seam every pass through the cut goes through):
 *  - 'offset':    the residual handed on is shifted by +0.5 in every element (a cut that lands
 *                 on the wrong tensor / perturbs the stream);
 *  - 'nonlinear': add-mode strengths are applied as α·|α| (steering that is not linear);
 *  - 'nan':       one residual value becomes NaN (an f16 overflow);
 *  - 'none':      passes everything through unchanged (the control).
 * GPU residuals are read and rewritten through the queue; they stay GPU buffers.
 */
import { readBuffer } from '../../src/engine/kernels/gpu-buffers';
import type { OrtTensor } from '../../src/engine/runtime/ort';
import type { CutProjections, SteeringBackend } from '../../src/engine/runtime/steering-backend';
import { MODE_CODE } from '../../src/steering/mode';
import type { LayerPlan } from '../../src/steering/plan';

export type Breakage = 'none' | 'offset' | 'nonlinear' | 'nan';

export class BrokenCut implements SteeringBackend {
  constructor(
    private readonly inner: SteeringBackend,
    private readonly device: GPUDevice,
    private readonly breakage: Breakage,
  ) {}

  setPlans(plans: LayerPlan[]): void {
    if (this.breakage !== 'nonlinear') return this.inner.setPlans(plans);
    this.inner.setPlans(
      plans.map((p) => ({ layer: p.layer, slots: p.slots.map((s) => (s.mode === MODE_CODE.add ? { ...s, alpha: s.alpha * Math.abs(s.alpha) } : s)) })),
    );
  }

  async apply(cut: number, residual: OrtTensor, tokens: number): Promise<OrtTensor> {
    const out = await this.inner.apply(cut, residual, tokens);
    if (this.breakage !== 'offset' && this.breakage !== 'nan') return out;
    const buffer = out.gpuBuffer as GPUBuffer;
    const bytes = tokens * out.dims[2] * 4; // [1, tokens, hidden] f32
    const h = new Float32Array(await readBuffer(this.device, buffer, 0, bytes));
    if (this.breakage === 'offset') for (let i = 0; i < h.length; i++) h[i] += 0.5;
    else h[h.length - 1] = NaN;
    this.device.queue.writeBuffer(buffer, 0, h);
    return out;
  }

  lastProjections(): Promise<CutProjections[]> {
    return this.inner.lastProjections();
  }

  measureNorms(on: boolean): void {
    this.inner.measureNorms(on);
  }

  takeNorms(): Promise<number[]> {
    return this.inner.takeNorms();
  }

  dispose(): void {
    this.inner.dispose();
  }
}
