/**
 * Response-token extraction (positions 'response', persona_vectors' recipe): before the
 * residuals are read, the model answers each contrastive prompt itself — under the high persona
 * and under the low one — with steering off, greedily, for at most `responseTokens` tokens. The
 * tapped session then reads prompt + reply in one prefill and only the reply's positions are
 * averaged (traits/prompts.ts responsePositions), so the trait vector is mean(high replies) −
 * mean(low replies) per layer.
 *
 * The replies come from the engine's own decode loop (runtime/decode-loop.ts) over the loaded
 * chain with no interventor and a KV cache of its own: exactly what the unsteered model says,
 * without touching the chat's cache or the current steering.
 */
import type { ChatTokenizer } from '../hub/tokenizer';
import { runDecodeLoop, type ForwardModel } from '../runtime/decode-loop';
import { GREEDY } from '../../shared/sampling';
import { responsePositions, type ContrastivePrompt } from '../../traits/prompts';
import { ExtractionCancelled } from '../../protocol/extraction';
import type { ExtractionResponse } from '../../traits/extracted';

/** Unsteered greedy replies for extraction; one per run, disposed after. */
export interface Responder {
  /** The reply's token ids (EOS excluded) to `prompt`, at most `maxNewTokens`; `stopped` when shouldStop cut it short. */
  reply(prompt: number[], maxNewTokens: number, shouldStop: () => boolean): Promise<{ tokens: number[]; stopped: boolean }>;
  dispose(): void;
}

/** A Responder over a forward model with its own KV cache (no interventor: steering off). */
export function decodeResponder(forward: ForwardModel & { destroy(): void }, eos: readonly number[], contextLength: number): Responder {
  return {
    async reply(prompt, maxNewTokens, shouldStop) {
      forward.cache.clear();
      try {
        const r = await runDecodeLoop(forward, prompt, {
          sampling: GREEDY,
          maxNewTokens,
          eos,
          contextLength,
          reuseCache: false,
          shouldStop,
          onToken: () => undefined,
        });
        return { tokens: r.generated, stopped: r.finishReason === 'stopped' };
      } finally {
        forward.cache.clear();
      }
    },
    dispose: () => forward.destroy(),
  };
}

/** One side of a tokenized pair: prompt + reply tokens and the pooled (reply) range. */
export interface RepliedSide {
  tokens: number[];
  first: number;
  count: number;
  /** The reply alone. */
  reply: number[];
}

export interface RepliedPair {
  pair: number;
  question: number;
  high: RepliedSide;
  low: RepliedSide;
}

/** prompt + reply as a pooled side (contiguous reply positions; see responsePositions). */
export function repliedSide(prompt: readonly number[], reply: readonly number[]): RepliedSide {
  const pos = responsePositions(prompt.length, reply.length);
  return { tokens: [...prompt, ...reply], first: pos[0], count: pos.length, reply: [...reply] };
}

/**
 * Generate the replies of every prompt (high, then low, pair by pair) and tokenize prompt +
 * reply. `progress(done)` after each reply; a stop (checked before each reply and between its
 * tokens) throws ExtractionCancelled.
 */
export async function replyPairs(
  tokenizer: ChatTokenizer,
  responder: Responder,
  prompts: readonly ContrastivePrompt[],
  maxNewTokens: number,
  shouldStop: () => boolean,
  progress: () => void,
): Promise<RepliedPair[]> {
  const out: RepliedPair[] = [];
  for (const p of prompts) {
    const sides: RepliedSide[] = [];
    for (const chat of [p.high, p.low]) {
      if (shouldStop()) throw new ExtractionCancelled();
      const prompt = tokenizer.encodeChat(chat);
      const r = await responder.reply(prompt, maxNewTokens, shouldStop);
      if (r.stopped || shouldStop()) throw new ExtractionCancelled();
      sides.push(repliedSide(prompt, r.tokens));
      progress();
    }
    out.push({ pair: p.pair, question: p.question, high: sides[0], low: sides[1] });
  }
  return out;
}

/** The replies as they are kept in the result (token ids; the text is the tokenizer's decode). */
export function responseRecords(tokenizer: ChatTokenizer, split: 'extraction' | 'evaluation', pairs: readonly RepliedPair[]): ExtractionResponse[] {
  return pairs.map((p) => ({
    split,
    pair: p.pair,
    question: p.question,
    high: p.high.reply,
    low: p.low.reply,
    highText: tokenizer.decode(p.high.reply),
    lowText: tokenizer.decode(p.low.reply),
  }));
}
