/**
 * Wire types of the measurement requests (issue 9): option probabilities for multiple-choice
 * prompts (inventory items, judge questions) and the unsteered re-read of a reply.
 */
import type { ChatMessage } from '../shared/chat';
import type { OptionPrompt } from '../traits/psychometrics/templates';

export type { OptionPrompt };

export interface ScoreOptionsRequest {
  /** Prompts in the order to run them; consecutive prompts sharing a prefix share its KV cache. */
  prompts: OptionPrompt[];
  /** 'current': under the engine's steering; 'off': the unsteered model (judge). */
  steering: 'current' | 'off';
}

export interface OptionScore {
  /** The exact tokenizer input: chat template applied (assistant turn opened) + answer prefix. */
  promptText: string;
  promptTokens: number;
  /** Leading tokens taken from the KV cache (the shared prefix) instead of being run. */
  reusedTokens: number;
  /** Labels as tokenized (" 1" or "1"), in listed order. */
  labelTexts: string[];
  /** The first token each label adds after the prompt. */
  labelTokenIds: number[];
  /** Probability of each label token from the softmax over the full vocabulary at the answer position. */
  probs: number[];
}

export interface ScoreOptionsResult {
  scores: OptionScore[];
  elapsedMs: number;
  /** Time inside forward passes (the rest is tokenizing and bookkeeping). */
  forwardMs: number;
  /** Tokens actually run (prompt tokens minus those reused from the cache). */
  tokensRun: number;
  /** Bytes the option passes read back from the GPU (8 + 4 per option per prompt; 0 on the WASM EP, whose logits are on the CPU). */
  readbackBytes?: number;
}

export interface ScoreProgress {
  done: number;
  total: number;
}

export interface RereadRequest {
  /** The conversation up to the reply (system, user …); the reply is read as the assistant's turn. */
  messages: ChatMessage[];
  reply: string;
}

export interface RereadResult {
  /** traitId → raw projection of each reply token's residual (unsteered) at the trait's readout layer. */
  projections: Record<string, number[]>;
  replyTokens: number;
}
