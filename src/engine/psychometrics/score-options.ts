/**
 * Option probabilities for multiple-choice prompts (inventory items, judge questions), read
 * from the next-token distribution at the answer position — nothing is sampled.
 *
 * Cost: the prompts run through a forward model with its own KV cache. Each prompt reuses the
 * longest token prefix it shares with the previous one (KvCache.reusable), the cache is cut back
 * to it and only the rest is run, so prompts that share an instruction (they arrive grouped)
 * prefill it once and then cost one short pass each. Each pass returns only the option
 * probabilities of the full-vocabulary softmax (option-pass.ts: on WebGPU a kernel reduces the
 * logits row and 8 + 4k bytes are read back; on the WASM EP labelProbabilities below).
 */
import type { ChatTokenizer } from '../hub/tokenizer';
import type { KvCache } from '../runtime/kv-cache';
import type { OptionPrompt, OptionScore, ScoreOptionsResult } from '../../protocol/psychometrics';

export class LabelTokenError extends Error {
  override name = 'LabelTokenError';
}

export interface ScoringHost {
  tokenizer: ChatTokenizer;
  /** The KV cache of the forward the option passes run through (nobody else uses it; cleared by the caller afterwards). */
  cache: KvCache;
  /** Runs `tokens` after the cache and returns p(id) for each id under the full-vocabulary softmax at the last position. */
  optionPass(tokens: number[], ids: readonly number[]): Promise<number[]>;
  contextLength: number;
}

export interface ScoreOptions {
  onProgress?: (done: number, total: number) => void;
  shouldStop?: () => boolean;
}

/**
 * The token id of each label right after `text`: the first token that `text + label` adds to
 * `tokens` (= encode(text)). With `space`, " A" is tried first and "A" when the spaced forms do
 * not give distinct first tokens (byte-level vocabularies without merged " A").
 */
export function resolveLabels(
  tok: ChatTokenizer,
  text: string,
  tokens: readonly number[],
  labels: readonly string[],
  space: boolean,
): { texts: string[]; ids: number[] } {
  const forms = space ? [' ', ''] : ['', ' '];
  const problems: string[] = [];
  for (const pre of forms) {
    const texts = labels.map((l) => pre + l);
    const ids: number[] = [];
    let problem: string | null = null;
    for (const t of texts) {
      const full = tok.encode(text + t);
      let same = tokens.length <= full.length;
      for (let i = 0; same && i < tokens.length; i++) same = full[i] === tokens[i];
      if (!same || full.length === tokens.length) {
        problem = `label ${JSON.stringify(t)} merges with the text before it`;
        break;
      }
      ids.push(full[tokens.length]);
    }
    if (!problem && new Set(ids).size !== ids.length) problem = `labels ${JSON.stringify(texts)} do not start with distinct tokens`;
    if (!problem) return { texts, ids };
    problems.push(problem);
  }
  throw new LabelTokenError(`This model's tokenizer cannot read the options ${labels.join(', ')}: ${problems.join('; ')}. Choose another template.`);
}

/** A prompt's tokenizer work: the exact tokenizer input, its tokens, the label token ids. */
export interface PreparedPrompt {
  /** chatText(messages) + answerPrefix. */
  promptText: string;
  tokens: readonly number[];
  labels: { texts: string[]; ids: number[] };
}

/** Prompts kept per tokenizer (oldest dropped first); 120 items × 2 templates × 2 orders × a few judges fit. */
export const PREPARED_MAX = 4096;

const prepared = new WeakMap<ChatTokenizer, Map<string, PreparedPrompt>>();

/**
 * The chat text, tokens and label ids of `p`, once per tokenizer: resolveLabels encodes the
 * whole prompt again per label, and a sweep asks the same prompts at every step, so after the
 * first time a prompt costs only its option pass. A pure memo (the same messages, answer
 * prefix and labels give the same tokenizer output); failures are not kept.
 */
export function preparePrompt(tok: ChatTokenizer, p: OptionPrompt): PreparedPrompt {
  let memo = prepared.get(tok);
  if (!memo) prepared.set(tok, (memo = new Map()));
  const key = JSON.stringify([p.messages, p.answerPrefix, p.labels, p.labelSpace]);
  const hit = memo.get(key);
  if (hit) return hit;
  const promptText = tok.chatText(p.messages) + p.answerPrefix;
  const tokens = tok.encode(promptText);
  const out: PreparedPrompt = { promptText, tokens, labels: resolveLabels(tok, promptText, tokens, p.labels, p.labelSpace) };
  memo.set(key, out);
  if (memo.size > PREPARED_MAX) memo.delete(memo.keys().next().value!);
  return out;
}

/** Drop the prepared prompts of `tok` (the bench's first-time inventory). */
export function forgetPrepared(tok: ChatTokenizer): void {
  prepared.delete(tok);
}

/** p(id) for each id under softmax(logits) over the whole row, in float64. */
export function labelProbabilities(logits: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return ids.map((id) => {
    if (!Number.isInteger(id) || id < 0 || id >= logits.length) throw new LabelTokenError(`label token ${id} is outside the vocabulary (${logits.length})`);
    return Math.exp(logits[id] - max) / sum;
  });
}

export function abortError(): Error {
  const e = new Error('Scoring stopped.');
  e.name = 'AbortError';
  return e;
}

export async function scoreOptions(host: ScoringHost, prompts: readonly OptionPrompt[], opts: ScoreOptions = {}): Promise<ScoreOptionsResult> {
  const started = performance.now();
  const { tokenizer: tok, cache } = host;
  const scores: OptionScore[] = [];
  let tokensRun = 0;
  let forwardMs = 0;
  for (const [i, p] of prompts.entries()) {
    if (opts.shouldStop?.()) throw abortError();
    if (p.labels.length < 2) throw new LabelTokenError(`prompt ${i + 1}: at least two options are needed`);
    const { promptText, tokens, labels } = preparePrompt(tok, p);
    if (tokens.length >= host.contextLength) {
      throw new Error(`prompt ${i + 1} is ${tokens.length} tokens but this model's context holds ${host.contextLength}; shorten the item or the persona.`);
    }
    const reuse = cache.reusable(tokens);
    cache.truncate(reuse);
    const t0 = performance.now();
    const probs = await host.optionPass(tokens.slice(reuse), labels.ids);
    forwardMs += performance.now() - t0;
    tokensRun += tokens.length - reuse;
    scores.push({
      promptText,
      promptTokens: tokens.length,
      reusedTokens: reuse,
      labelTexts: [...labels.texts],
      labelTokenIds: [...labels.ids],
      probs,
    });
    opts.onProgress?.(i + 1, prompts.length);
  }
  return { scores, elapsedMs: performance.now() - started, forwardMs, tokensRun };
}
