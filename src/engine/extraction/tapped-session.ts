/**
 * The tapped model for extraction: the loaded model's own ONNX bytes (and external data) with
 * the residual after every layer as an extra output (surgery's tapResiduals), as ONE ORT
 * session created on demand and released after. On WebGPU the residual outputs stay
 * 'gpu-buffer' tensors.
 *
 * Each prompt is a fresh prefill through the same mechanism generation uses (runtime/prefill.ts):
 * where the graph needs it (GroupQueryAttention on WebGPU) the prompt runs in chunks through a
 * KV cache, and each layer's residual rows of the chunks are concatenated (GPU buffer copies, or
 * CPU array copies on WASM) into one [1, tokens, hidden] tensor, as if it had run in one pass.
 */
import type { ModelBytes } from '../hub/model-bytes';
import { KvCache, type KvLayout } from '../runtime/kv-cache';
import { ort, type OrtSession, type OrtTensor } from '../runtime/ort';
import { chunkedPrefill, tokenFeeds } from '../runtime/prefill';
import { sessionOptions, type ExecutionProvider } from '../runtime/session-options';
import { residualName, tapResiduals } from '../surgery';

/** The original model file's bytes and its external data files (as given to ORT at load). */
export interface TappedSource extends ModelBytes {
  ep: ExecutionProvider;
  kv: KvLayout;
  /** Longest prefill one pass may run (runtime/prefill.ts prefillChunk); default unlimited. */
  maxChunk?: number;
  /** ORT's GPUDevice on WebGPU (concatenates chunked residuals); null on WASM. */
  device?: GPUDevice | null;
}

/** Concatenate [1, rows_i, hidden] f32 tensors along rows. */
function concatRows(parts: OrtTensor[], device: GPUDevice | null): OrtTensor {
  const hidden = parts[0].dims[2];
  const rows = parts.reduce((s, t) => s + t.dims[1], 0);
  const dims = [1, rows, hidden];
  if (parts[0].location !== 'gpu-buffer') {
    const out = new Float32Array(rows * hidden); // [rows, hidden]
    let at = 0;
    for (const t of parts) {
      out.set(t.data as Float32Array, at);
      at += t.dims[1] * hidden;
    }
    return new ort.Tensor('float32', out, dims);
  }
  if (!device) throw new Error('internal: concatenating GPU residuals needs the GPUDevice');
  const bytes = rows * hidden * 4;
  const buffer = device.createBuffer({
    label: `tapped.residual [${rows},${hidden}]`,
    size: Math.ceil(bytes / 16) * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: 'tapped.concat' });
  let offset = 0;
  for (const t of parts) {
    const size = t.dims[1] * hidden * 4;
    encoder.copyBufferToBuffer(t.gpuBuffer as GPUBuffer, 0, buffer, offset, size);
    offset += size;
  }
  device.queue.submit([encoder.finish()]);
  return ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims, dispose: () => buffer.destroy() });
}

export class TappedSession {
  readonly layers: number[];
  private readonly fetches: string[];
  private readonly presents: string[];

  private constructor(
    private readonly session: OrtSession,
    private readonly cache: KvCache,
    layers: number[],
    private readonly maxChunk: number,
    private readonly device: GPUDevice | null,
  ) {
    this.layers = layers;
    this.fetches = layers.map(residualName);
    this.presents = session.outputNames.filter((n) => n.startsWith('present'));
  }

  /** Tap the residual after each of `layers` (ascending) and create the session. */
  static async create(src: TappedSource, layers: number[]): Promise<TappedSession> {
    const bytes = tapResiduals(src.graph, layers);
    const sorted = [...new Set(layers)].sort((a, b) => a - b);
    // Residuals for our kernels and presents for the next chunk stay GPU buffers on WebGPU (logits are never fetched).
    const session = await ort.InferenceSession.create(bytes, sessionOptions({ ep: src.ep, externalData: src.externalData }));
    const device = src.device ?? null;
    return new TappedSession(session, new KvCache(src.kv, device), sorted, src.maxChunk ?? Infinity, device);
  }

  /**
   * One prefill of `tokens` (from an empty cache); returns residual.{L} per tapped layer (in
   * `layers` order), `// [1, tokens, hidden]` f32 (GPU buffers on WebGPU). The caller disposes them.
   */
  async run(tokens: number[]): Promise<OrtTensor[]> {
    this.cache.clear();
    try {
      const chunks = await chunkedPrefill(tokens, this.maxChunk, (chunk, _start, last) => this.pass(chunk, last));
      if (chunks.length === 1) return chunks[0];
      const out = this.layers.map((_, l) =>
        concatRows(
          chunks.map((c) => c[l]),
          this.device,
        ),
      );
      for (const c of chunks) for (const t of c) t.dispose();
      return out;
    } finally {
      this.cache.clear();
    }
  }

  /** One pass; all but a prompt's last pass also fetch the presents for the next one. */
  private async pass(tokens: number[], last: boolean): Promise<OrtTensor[]> {
    const all: Record<string, OrtTensor> = { ...tokenFeeds(tokens, this.cache.length), ...this.cache.feeds() };
    const feeds: Record<string, OrtTensor> = {};
    for (const name of this.session.inputNames) {
      const t = all[name];
      if (!t) throw new Error(`internal: the tapped model needs input "${name}" that extraction does not provide`);
      feeds[name] = t;
    }
    const out = await this.session.run(feeds, last ? this.fetches : [...this.fetches, ...this.presents]);
    if (!last) this.cache.update(Object.fromEntries(this.presents.map((n) => [n, out[n]])), tokens);
    return this.fetches.map((name) => {
      const t = out[name];
      if (!t) throw new Error(`internal: the tapped model did not output ${name}`);
      return t;
    });
  }

  async release(): Promise<void> {
    this.cache.clear();
    await this.session.release().catch(() => undefined);
  }
}
