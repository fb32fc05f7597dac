/**
 * The tapped model for extraction: the loaded model's own ONNX bytes (and external data) with
 * the residual after every layer as an extra output (surgery's tapResiduals), as ONE ORT
 * session created on demand and released after. On WebGPU the residual outputs stay
 * 'gpu-buffer' tensors; each prompt is a fresh prefill with an empty KV cache.
 */
import { KvCache, type KvLayout } from '../runtime/kv-cache';
import { ort, type OrtSession, type OrtTensor } from '../runtime/ort';
import { residualName, tapResiduals } from '../surgery';

export interface TappedSource {
  /** The original model file's bytes and its external data files (as given to ORT at load). */
  graph: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
  ep: 'webgpu' | 'wasm';
  kv: KvLayout;
}

function int64(values: number[], dims: number[]): OrtTensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

export class TappedSession {
  readonly layers: number[];
  private readonly fetches: string[];

  private constructor(
    private readonly session: OrtSession,
    private readonly empty: KvCache,
    layers: number[],
  ) {
    this.layers = layers;
    this.fetches = layers.map(residualName);
  }

  /** Tap the residual after each of `layers` (ascending) and create the session. */
  static async create(src: TappedSource, layers: number[]): Promise<TappedSession> {
    const bytes = tapResiduals(src.graph, layers);
    const sorted = [...new Set(layers)].sort((a, b) => a - b);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [src.ep],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    if (src.externalData.length) options.externalData = src.externalData.map((f) => ({ path: f.path, data: f.data }));
    if (src.ep === 'webgpu') {
      // Residuals for our kernels, presents and logits never needed on the CPU.
      options.preferredOutputLocation = 'gpu-buffer';
    }
    const session = await ort.InferenceSession.create(bytes, options);
    return new TappedSession(session, new KvCache(src.kv, null), sorted);
  }

  /**
   * One prefill of `tokens`; returns residual.{L} per tapped layer (in `layers` order),
   * `// [1, tokens, hidden]` f32 (GPU buffers on WebGPU). The caller disposes them.
   */
  async run(tokens: number[]): Promise<OrtTensor[]> {
    const n = tokens.length;
    const all: Record<string, OrtTensor> = {
      input_ids: int64(tokens, [1, n]), // [batch, seq]
      attention_mask: int64(new Array(n).fill(1), [1, n]), // [batch, total]
      position_ids: int64(
        Array.from({ length: n }, (_, i) => i),
        [1, n],
      ), // [batch, seq]
      ...this.empty.feeds(),
    };
    const feeds: Record<string, OrtTensor> = {};
    for (const name of this.session.inputNames) {
      const t = all[name];
      if (!t) throw new Error(`internal: the tapped model needs input "${name}" that extraction does not provide`);
      feeds[name] = t;
    }
    const out = await this.session.run(feeds, this.fetches);
    return this.fetches.map((name) => {
      const t = out[name];
      if (!t) throw new Error(`internal: the tapped model did not output ${name}`);
      return t;
    });
  }

  async release(): Promise<void> {
    await this.session.release().catch(() => undefined);
  }
}
