/** Starts the engine worker and returns the typed client the UI uses. */
import { EngineClient } from './engine-client';

export function createEngine(): EngineClient {
  const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'traitlab-engine' });
  return new EngineClient(worker);
}
