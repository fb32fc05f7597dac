/**
 * The page's one onnxruntime-web: the WebGPU build that transformers.js pins, with its wasm
 * served by our own build (public/ort), registered so transformers.js uses this same instance.
 * Import this module before anything imports @huggingface/transformers.
 */
import * as ort from 'onnxruntime-web/webgpu';

let configured = false;

export function configureOrt(wasmBase: string): typeof ort {
  if (configured) return ort;
  configured = true;
  ort.env.wasm.wasmPaths = wasmBase.replace(/\/?$/, '/');
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  ort.env.wasm.numThreads = isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
  return ort;
}

export { ort };
export type OrtTensor = ort.Tensor;
export type OrtSession = ort.InferenceSession;
