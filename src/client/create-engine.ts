/** Starts the engine worker and returns the typed client the UI uses. */
import { EngineClient } from './engine-client';

export function createEngine(): EngineClient {
  // A factory, so the client can start a fresh worker after a lost GPU device.
  return new EngineClient(() => new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'traitlab-engine' }));
}
