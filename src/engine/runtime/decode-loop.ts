/**
 * The decode loop over any forward model: prefill (reusing the KV cache when the prompt
 * extends it), then sample → emit → feed one token at a time, until EOS, the token budget,
 * a stop request, or the context is full. Non-finite logits stop it (NonFiniteError).
 */
import type { FinishReason } from '../../protocol/messages';
import type { KvCache } from './kv-cache';
import type { SamplingOptions } from '../../shared/sampling';
import { Sampler } from './sampler';
import { assertFinite, NonFiniteError } from './finite-guard';

export interface ForwardModel {
  readonly cache: KvCache;
  /** Runs `tokens` at positions cache.length.. and appends them to the cache; returns the last row of logits // [vocab]. */
  forward(tokens: number[]): Promise<Float32Array>;
  /**
   * Optional: runs `tokens` like forward() and returns the token `sampler` would pick from the
   * last row with this `history` (exactly sampler.next's choice), without bringing the row to the CPU.
   */
  choose?(tokens: number[], sampler: Sampler, history: readonly number[]): Promise<number>;
}

export class ContextFullError extends Error {
  override name = 'ContextFullError';
}

export interface LoopOptions {
  sampling: SamplingOptions;
  maxNewTokens: number;
  eos: readonly number[];
  contextLength: number;
  reuseCache: boolean;
  shouldStop: () => boolean;
  /** Called with each generated token (before it is fed back) and all tokens generated so far. */
  onToken: (tokenId: number, index: number, generated: readonly number[]) => Promise<void> | void;
}

export interface LoopResult {
  finishReason: FinishReason;
  prefillTokens: number;
  generated: number[];
  prefillMs: number;
  decodeMs: number;
}

export async function runDecodeLoop(model: ForwardModel, prompt: number[], opts: LoopOptions): Promise<LoopResult> {
  if (prompt.length === 0) throw new Error('The prompt is empty.');
  if (prompt.length >= opts.contextLength) {
    throw new ContextFullError(
      `The conversation is ${prompt.length} tokens but this model's context holds ${opts.contextLength}. Clear the chat (or shorten the system prompt) to continue.`,
    );
  }
  const reuse = opts.reuseCache ? model.cache.reusable(prompt) : 0;
  model.cache.truncate(reuse);
  const sampler = new Sampler(opts.sampling);
  const history = [...prompt];
  const generated: number[] = [];

  // Run tokens, pick the next one: on the GPU when the model can, else from CPU logits.
  // f16 guard: never sample from NaN/Inf. The GPU path raises NonFiniteError itself
  // (gpu-sampling.ts), without the token index, which is set here.
  const step = async (tokens: number[]): Promise<number> => {
    if (model.choose) {
      try {
        return await model.choose(tokens, sampler, history);
      } catch (err) {
        throw err instanceof NonFiniteError ? new NonFiniteError(err.what, generated.length) : err;
      }
    }
    const logits = await model.forward(tokens);
    assertFinite(logits, 'logits', generated.length);
    return sampler.next(logits, history);
  };

  const t0 = performance.now();
  let next = await step(prompt.slice(reuse));
  const prefillMs = performance.now() - t0;
  const t1 = performance.now();
  let finishReason: FinishReason = 'max-tokens';
  while (generated.length < opts.maxNewTokens) {
    if (opts.shouldStop()) {
      finishReason = 'stopped';
      break;
    }
    if (opts.eos.includes(next)) {
      finishReason = 'eos';
      break;
    }
    generated.push(next);
    history.push(next);
    await opts.onToken(next, generated.length - 1, generated);
    if (generated.length >= opts.maxNewTokens) break;
    if (model.cache.length + 1 >= opts.contextLength) {
      finishReason = 'context-full';
      break;
    }
    if (opts.shouldStop()) {
      finishReason = 'stopped';
      break;
    }
    next = await step([next]);
  }
  return { finishReason, prefillTokens: prompt.length - reuse, generated, prefillMs, decodeMs: performance.now() - t1 };
}
