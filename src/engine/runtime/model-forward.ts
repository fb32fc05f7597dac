/**
 * One forward pass of the cut model at the cache's position: builds the graph inputs,
 * runs the session chain with the steering backend at the cuts, keeps the presents as the
 * new KV cache, and returns the last row of logits.
 */
import type { Interventor, SessionChain } from './chain';
import type { ForwardModel } from './decode-loop';
import { halfArrayToFloat } from './f16';
import { KvCache, type KvLayout } from './kv-cache';
import type { OrtTensor } from './ort';
import { tokenFeeds } from './prefill';

export class ModelForward implements ForwardModel {
  readonly cache: KvCache;

  constructor(
    private readonly chain: SessionChain,
    private readonly interventor: Interventor | null,
    layout: KvLayout,
    device: GPUDevice | null,
    /** Longest prefill one pass may run (prefill.ts prefillChunk); longer prompts go in chunks through the KV cache. */
    private readonly maxChunk = Infinity,
  ) {
    this.cache = new KvCache(layout, device);
  }

  async forward(tokens: number[]): Promise<Float32Array> {
    let logits: Float32Array | null = null;
    for (let i = 0; i < tokens.length; i += this.maxChunk) logits = await this.pass(tokens.slice(i, i + this.maxChunk));
    return logits!;
  }

  private async pass(tokens: number[]): Promise<Float32Array> {
    const past = this.cache.length;
    const n = tokens.length;
    const feeds: Record<string, OrtTensor> = { ...tokenFeeds(tokens, past), ...this.cache.feeds() };
    const { logits, presents } = await this.chain.run(feeds, this.interventor, n);
    this.cache.update(presents, tokens);
    const [, seq, vocab] = logits.dims; // [batch, seq, vocab]
    const data = logits.type === 'float16' ? halfArrayToFloat(logits.data as Uint16Array) : (logits.data as Float32Array);
    const last = data.slice((seq - 1) * vocab, seq * vocab);
    logits.dispose();
    return last;
  }
}
