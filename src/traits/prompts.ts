/**
 * Contrastive chat inputs for trait extraction, and which token positions are read.
 *
 * For each persona pair × extraction question we build two conversations that differ only in
 * the system prompt: [system: high persona, user: question] and [system: low persona, user:
 * question]. They are tokenized with the model's chat template with the assistant turn opened
 * (add_generation_prompt), so the prompt ends right where the reply would start.
 *
 * Token positions (`extractionPositions`):
 * - 'last' (default): only the last prompt token — the position whose output is the first reply
 *   token. The persona can only influence it through attention, so its residual is the model's
 *   "state of mind" just before answering; this is what the steering readout sees at the first
 *   generated token, and it is comparable across prompts of different lengths.
 * - 'reply-prompt': the mean over the last `replyPromptTokens` positions, i.e. the tokens of
 *   the assistant header the template appends (e.g. "<|im_start|>assistant\n"); averaging over
 *   a few positions is less noisy for small models, at the cost of mixing in positions that
 *   are not followed by a reply token directly.
 * - 'response': the mean over the tokens of a short reply the model itself wrote under the
 *   persona (persona_vectors' recipe): the reply is generated first (unsteered, greedy, a few
 *   tokens), then prompt + reply are read and only the reply's positions are averaged
 *   (`responsePositions`). Slower (a short generation per prompt), but it measures how the
 *   persona shows in what the model says rather than in its state before it speaks.
 * Either way the positions never include the system prompt itself, so the vector does not just
 * encode the persona words.
 */
import type { ChatMessage } from '../shared/chat';
import type { TraitDataset, QuestionSet } from './dataset';

export interface ContrastivePrompt {
  /** Index of the persona pair and of the question (into QuestionSet.questions). */
  pair: number;
  question: number;
  high: ChatMessage[];
  low: ChatMessage[];
}

/** One conversation of persona + question. */
export function personaChat(persona: string, question: string): ChatMessage[] {
  return [
    { role: 'system', content: persona },
    { role: 'user', content: question },
  ];
}

/**
 * Every pair × question of the chosen split, pair-major (all questions for pair 0, then pair 1, …).
 * `split` 'extraction' (default) builds the training prompts, 'evaluation' the held-out ones.
 */
export function contrastivePrompts(trait: TraitDataset, questions: QuestionSet, split: 'extraction' | 'evaluation' = 'extraction'): ContrastivePrompt[] {
  const idx = questions.split[split];
  const out: ContrastivePrompt[] = [];
  trait.pairs.forEach((p, pair) => {
    for (const q of idx) {
      const text = questions.questions[q];
      if (text === undefined) throw new Error(`contrastivePrompts: question index ${q} out of range`);
      out.push({ pair, question: q, high: personaChat(p.high, text), low: personaChat(p.low, text) });
    }
  });
  return out;
}

export type PositionMode = 'last' | 'reply-prompt' | 'response';

/** How the UI names each position mode. */
export const POSITION_LABELS: Readonly<Record<PositionMode, string>> = {
  last: 'prompt tokens',
  'reply-prompt': 'prompt (assistant header)',
  response: 'response tokens',
};

/** Every position mode, prompt-token ones first. */
export const POSITION_MODES: readonly PositionMode[] = ['last', 'reply-prompt', 'response'];

/** Tokens generated per prompt by 'response' extraction (ExtractRequest.responseTokens). */
export const DEFAULT_RESPONSE_TOKENS = 16;
export const MAX_RESPONSE_TOKENS = 64;

/** Tokens appended by a ChatML-style template after the last message: "<|im_start|>", "assistant", "\n". */
export const DEFAULT_REPLY_PROMPT_TOKENS = 3;

/**
 * Indices (0-based, ascending) of the prompt tokens whose residuals are averaged for
 * extraction (see the file header). `replyPromptTokens` is clamped to [1, tokenCount].
 */
export function extractionPositions(tokenCount: number, mode: PositionMode = 'last', replyPromptTokens = DEFAULT_REPLY_PROMPT_TOKENS): number[] {
  if (!Number.isInteger(tokenCount) || tokenCount < 1) throw new Error(`extractionPositions: need at least one token, got ${tokenCount}`);
  if (mode === 'last') return [tokenCount - 1];
  if (mode === 'reply-prompt') {
    if (!Number.isInteger(replyPromptTokens) || replyPromptTokens < 1) {
      throw new Error(`extractionPositions: replyPromptTokens must be a positive integer, got ${replyPromptTokens}`);
    }
    const n = Math.min(replyPromptTokens, tokenCount);
    return Array.from({ length: n }, (_, i) => tokenCount - n + i);
  }
  if (mode === 'response') throw new Error("extractionPositions: 'response' positions depend on the generated reply; use responsePositions");
  throw new Error(`extractionPositions: unknown mode ${String(mode)}`);
}

/**
 * The reply's positions in prompt + reply tokens: promptTokens .. promptTokens + replyTokens − 1.
 * A reply that ended at once (the first token was EOS) has no tokens of its own: then the last
 * prompt token is read, the position whose output was that EOS.
 */
export function responsePositions(promptTokens: number, replyTokens: number): number[] {
  if (!Number.isInteger(promptTokens) || promptTokens < 1) throw new Error(`responsePositions: need at least one prompt token, got ${promptTokens}`);
  if (!Number.isInteger(replyTokens) || replyTokens < 0) throw new Error(`responsePositions: invalid reply length ${replyTokens}`);
  if (replyTokens === 0) return [promptTokens - 1];
  return Array.from({ length: replyTokens }, (_, i) => promptTokens + i);
}

/**
 * Mean of the residual rows at `positions` of a [seq, hidden] row-major residual (one prompt).
 */
export function poolPositions(residual: Float32Array, hidden: number, positions: readonly number[]): Float32Array {
  if (positions.length === 0) throw new Error('poolPositions: no positions');
  const seq = residual.length / hidden;
  if (!Number.isInteger(seq)) throw new Error(`poolPositions: residual length ${residual.length} is not a multiple of hidden ${hidden}`);
  const out = new Float32Array(hidden);
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= seq) throw new Error(`poolPositions: position ${p} out of range 0..${seq - 1}`);
    for (let i = 0; i < hidden; i++) out[i] += residual[p * hidden + i];
  }
  for (let i = 0; i < hidden; i++) out[i] /= positions.length;
  return out;
}
