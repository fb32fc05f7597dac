/**
 * The tapped model for extraction: the loaded model's own ONNX bytes (and external data) with
 * the residual after every layer as an extra output (surgery's tapResiduals), as ONE ORT
 * session created on demand and released after. On WebGPU the residual outputs stay
 * 'gpu-buffer' tensors; each prompt is a fresh prefill with an empty KV cache.
 */
import type { ModelBytes } from '../hub/model-bytes';
import { KvCache, type KvLayout } from '../runtime/kv-cache';
import { ort, type OrtSession, type OrtTensor } from '../runtime/ort';
import { tokenFeeds } from '../runtime/prefill';
import { sessionOptions, type ExecutionProvider } from '../runtime/session-options';
import { residualName, tapResiduals } from '../surgery';

/** The original model file's bytes and its external data files (as given to ORT at load). */
export interface TappedSource extends ModelBytes {
  ep: ExecutionProvider;
  kv: KvLayout;
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
    // Residuals for our kernels stay GPU buffers on WebGPU (presents and logits are never fetched).
    const session = await ort.InferenceSession.create(bytes, sessionOptions({ ep: src.ep, externalData: src.externalData }));
    return new TappedSession(session, new KvCache(src.kv, null), sorted);
  }

  /**
   * One prefill of `tokens`; returns residual.{L} per tapped layer (in `layers` order),
   * `// [1, tokens, hidden]` f32 (GPU buffers on WebGPU). The caller disposes them.
   */
  async run(tokens: number[]): Promise<OrtTensor[]> {
    const all: Record<string, OrtTensor> = { ...tokenFeeds(tokens, 0), ...this.empty.feeds() };
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
