import { CpuBackend } from './cpu-backend';
import { GpuBackend, ortDevice } from './gpu-backend';
import type { SteeringBackend } from './steering-backend';

/** The steering backend for the execution provider in use (call after the sessions exist). */
export async function createBackend(ep: 'webgpu' | 'wasm', hidden: number, cutCount: number): Promise<SteeringBackend> {
  return ep === 'webgpu' ? new GpuBackend(await ortDevice(), hidden, cutCount) : new CpuBackend(hidden, cutCount);
}
