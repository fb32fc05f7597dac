/**
 * Steering backend for the WASM EP (no WebGPU): the kernels' CPU references applied to the
 * residual on the CPU. Same semantics as the GPU backend, much slower.
 */
import { normRef, readoutRef, steerRef, type SteerParam } from '../kernels';
import type { LayerPlan } from '../../steering/plan';
import { ort, type OrtTensor } from './ort';
import type { CutProjections, SteeringBackend } from './steering-backend';

export class CpuBackend implements SteeringBackend {
  private plans: LayerPlan[] = [];
  private last: CutProjections[] = [];
  private measuring = false;
  private norms: number[][] = [];

  constructor(
    private readonly hidden: number,
    cutCount: number,
  ) {
    this.norms = Array.from({ length: cutCount }, () => []);
  }

  setPlans(plans: LayerPlan[]): void {
    this.plans = plans;
  }

  apply(c: number, residual: OrtTensor, tokens: number): OrtTensor {
    const h = residual.data as Float32Array; // [1, tokens, hidden]
    const slots = this.plans[c]?.slots ?? [];
    const vectors = slots.map((s) => s.vector);
    const params: SteerParam[] = slots.map((s) => ({ mode: s.mode, alpha: s.alpha, target: s.target }));
    if (this.measuring) this.norms[c].push(...normRef(h, tokens, this.hidden));
    const pre = readoutRef(h, 1, this.hidden, vectors, tokens - 1);
    const steered = steerRef(h, tokens, this.hidden, vectors, params);
    const post = readoutRef(steered, 1, this.hidden, vectors, tokens - 1);
    this.last[c] = { pre, post };
    residual.dispose();
    return new ort.Tensor('float32', steered, [1, tokens, this.hidden]);
  }

  async lastProjections(): Promise<CutProjections[]> {
    return this.last;
  }

  measureNorms(on: boolean): void {
    if (on) this.norms = this.norms.map(() => []);
    this.measuring = on;
  }

  async takeNorms(): Promise<number[]> {
    return this.norms.map((n) => {
      const sorted = [...n].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] || 1;
    });
  }

  dispose(): void {
    this.plans = [];
  }
}
