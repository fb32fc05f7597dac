/**
 * One forward pass of the cut model at the cache's position: builds the graph inputs,
 * runs the session chain with the steering backend at the cuts, keeps the presents as the
 * new KV cache, and returns the last row of logits. Prompts longer than `maxChunk` run in
 * chunks through the cache (prefill.ts, the same mechanism the tapped extraction session uses).
 */
import type { Interventor, SessionChain } from './chain';
import type { ForwardModel } from './decode-loop';
import { halfArrayToFloat } from './f16';
import { KvCache, type KvLayout } from './kv-cache';
import type { OrtTensor } from './ort';
import { chunkedPrefill, tokenFeeds } from './prefill';

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
    const rows = await chunkedPrefill(tokens, this.maxChunk, (chunk, _start, last) => this.pass(chunk, last));
    return rows[rows.length - 1]!;
  }

  /** One pass; only a prompt's final pass converts its logits. */
  private async pass(tokens: number[], last: boolean): Promise<Float32Array | null> {
    const feeds: Record<string, OrtTensor> = { ...tokenFeeds(tokens, this.cache.length), ...this.cache.feeds() };
    const { logits, presents } = await this.chain.run(feeds, this.interventor, tokens.length);
    this.cache.update(presents, tokens);
    if (!last) {
      logits.dispose();
      return null;
    }
    const [, seq, vocab] = logits.dims; // [batch, seq, vocab]
    const data = logits.type === 'float16' ? halfArrayToFloat(logits.data as Uint16Array) : (logits.data as Float32Array);
    const row = data.slice((seq - 1) * vocab, seq * vocab);
    logits.dispose();
    return row;
  }
}
