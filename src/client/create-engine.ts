/** Starts the engine worker and returns the typed client the UI uses. */
import { EngineClient } from './engine-client';

export function createEngine(): EngineClient {
  // A factory, so the client can start a fresh worker after a lost GPU device.
  const worker = () => new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'traitlab-engine' });
  // The worker's own URL is in assets/: page-relative URLs are resolved here, against the site.
  return new EngineClient(worker, { siteBase: new URL(import.meta.env.BASE_URL, document.baseURI).href });
}
