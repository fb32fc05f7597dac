/// <reference lib="webworker" />
/**
 * The engine worker: a thin shell that wires the message port to the handler. ORT, the
 * tokenizer, the GPUDevice and our WGSL pipelines all live on this thread.
 */
import { configureOrt } from '../engine/runtime/ort';
import { createHandler } from './handler';
import type { Request, Response } from '../protocol/messages';

// The build puts this worker in {site}/assets/ and ORT's files in {site}/ort/ (scripts/vite-plugins.ts),
// so '../ort/' from the worker's own URL works under any sub-path; the dev server serves /ort/.
const ORT_DIR = import.meta.env.DEV ? '/ort/' : '../ort/';
configureOrt(new URL(ORT_DIR, import.meta.url).href);

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (r: Response) => scope.postMessage(r);

// The engine module imports transformers.js, which must come after configureOrt.
const handlerReady = import('../engine/engine').then(({ Engine }) =>
  createHandler(new Engine({ onDeviceLost: (message) => post({ id: -1, type: 'deviceLost', message }) }), post),
);

scope.addEventListener('message', (ev: MessageEvent<Request>) => {
  void handlerReady.then((handle) => handle(ev.data));
});
