/**
 * What the engine needs at the cuts: apply the current steering plan to the residual, read
 * projections out, and (once per model) measure typical residual norms. Two implementations:
 * WGSL kernels on ORT's GPUDevice (gpu-backend.ts) and their CPU references on the WASM EP
 * (cpu-backend.ts).
 */
import type { LayerPlan } from '../../steering/plan';
import type { Interventor } from './chain';

export interface CutProjections {
  /** per slot of the cut's plan: projection of the last token's residual on the unit direction */
  pre: Float32Array; // [K]
  post: Float32Array; // [K]
}

export interface SteeringBackend extends Interventor {
  /** New directions and/or strengths; takes effect on the next forward pass. */
  setPlans(plans: LayerPlan[]): void;
  /** Projections of the last token of the latest forward pass, per cut. */
  lastProjections(): Promise<CutProjections[]>;
  /** While on, every forward pass adds its per-token residual norms (before steering) to a running mean per cut. */
  measureNorms(on: boolean): void;
  /** Mean residual norm per cut since measuring started. */
  takeNorms(): Promise<number[]>;
  dispose(): void;
}
