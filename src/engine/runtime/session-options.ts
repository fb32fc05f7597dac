/**
 * ORT session options, in one place for every session the engine creates: the cut model's
 * chain parts (runtime/chain.ts) and the tapped extraction session (extraction/tapped-session.ts).
 * On WebGPU, outputs stay GPU buffers (residuals for our kernels, presents for the next step)
 * except the ones named to come back to the CPU (the chain names none: even its logits stay on
 * the GPU for the sampling kernels).
 */
import type { ort } from './ort';

export type ExecutionProvider = 'webgpu' | 'wasm';

/** An external data file by the name the graph references (e.g. "model.onnx_data"). */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

export interface SessionSpec {
  ep: ExecutionProvider;
  externalData?: readonly ExternalDataFile[];
  /**
   * WebGPU output placement: omitted = every output stays on the GPU; given = these outputs,
   * with the ones in `onCpu` read back to the CPU and the rest left on the GPU.
   */
  outputs?: { names: readonly string[]; onCpu: readonly string[] };
}

export function sessionOptions(spec: SessionSpec): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [spec.ep],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only: node-placement warnings are expected (shape ops on the CPU)
  };
  if (spec.externalData?.length) options.externalData = spec.externalData.map((f) => ({ path: f.path, data: f.data }));
  if (spec.ep === 'webgpu') {
    if (!spec.outputs) options.preferredOutputLocation = 'gpu-buffer';
    else {
      const where: Record<string, ort.Tensor.DataLocation> = {};
      for (const name of spec.outputs.names) where[name] = spec.outputs.onCpu.includes(name) ? 'cpu' : 'gpu-buffer';
      options.preferredOutputLocation = where;
    }
  }
  return options;
}
