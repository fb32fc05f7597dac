/**
 * Tokenizer and chat template through @huggingface/transformers, which downloads and caches
 * tokenizer.json / tokenizer_config.json. transformers.js is imported lazily, after ORT is
 * configured (runtime/ort.ts), so it uses our ORT instance and never a CDN.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatMessage } from '../../shared/chat';
import type { ResolvedSource } from './source';

export interface TokenizerProgress {
  file: string;
  loaded: number;
  total: number;
}

export class ChatTokenizer {
  constructor(private readonly tok: PreTrainedTokenizer) {}

  /** Prompt tokens for a conversation, with the assistant turn opened. */
  encodeChat(messages: ChatMessage[]): number[] {
    return this.encode(this.chatText(messages));
  }

  /** The prompt text for a conversation (chat template applied, assistant turn opened). */
  chatText(messages: ChatMessage[]): string {
    let text: string;
    try {
      text = this.tok.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string;
    } catch (err) {
      // Some templates reject a system role: fold it into the first user message.
      if (messages[0]?.role !== 'system') throw err;
      const [sys, ...rest] = messages;
      const merged =
        rest.length && rest[0].role === 'user' ? [{ role: 'user' as const, content: `${sys.content}\n\n${rest[0].content}` }, ...rest.slice(1)] : rest;
      text = this.tok.apply_chat_template(merged, { add_generation_prompt: true, tokenize: false }) as string;
    }
    return text;
  }

  encode(text: string): number[] {
    // The template already wrote any BOS it wants: add no special tokens here.
    return Array.from(this.tok.encode(text, { add_special_tokens: false }));
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { skip_special_tokens: true });
  }
}

/**
 * Streams text from a growing token list without re-decoding all of it each token: only the
 * tokens since the last committed point are decoded (a few tokens of context are kept so
 * merges across the boundary decode right), and incomplete UTF-8 is held back.
 */
export class TextStreamer {
  private emitted = '';
  /** Tokens before `start` are committed; `prefix` is the decode of tokens [start, mark). */
  private start = 0;
  private mark = 0;
  constructor(private readonly tok: ChatTokenizer) {}

  push(ids: readonly number[]): string {
    const prefix = this.tok.decode(ids.slice(this.start, this.mark));
    const text = this.tok.decode(ids.slice(this.start));
    if (text.endsWith('\uFFFD') || !text.startsWith(prefix)) return '';
    const delta = text.slice(prefix.length);
    this.emitted += delta;
    // Slide the window: the last few tokens stay as context for the next decode.
    this.start = Math.max(this.start, ids.length - 4);
    this.mark = ids.length;
    return delta;
  }

  get text(): string {
    return this.emitted;
  }
}

export async function loadTokenizer(src: ResolvedSource, onProgress: (p: TokenizerProgress) => void): Promise<ChatTokenizer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  const progress_callback = (p: { status: string; file?: string; loaded?: number; total?: number }) => {
    if (p.status === 'progress' && p.file) onProgress({ file: p.file, loaded: p.loaded ?? 0, total: p.total ?? 0 });
  };
  // Both kinds go through transformers.js's remote loader (with its cache): a hub id as
  // {host}/{id}/resolve/{revision}/, a folder URL as {parent}/{folder}/.
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  let id: string;
  if (src.kind === 'hub') {
    env.remoteHost = src.host;
    env.remotePathTemplate = '{model}/resolve/{revision}/';
    id = src.id;
  } else {
    const trimmed = src.base.replace(/\/$/, '');
    const cut = trimmed.lastIndexOf('/');
    env.remoteHost = trimmed.slice(0, cut + 1);
    env.remotePathTemplate = '{model}/';
    id = trimmed.slice(cut + 1);
  }
  const tok = await AutoTokenizer.from_pretrained(id, { revision: src.revision, progress_callback });
  return new ChatTokenizer(tok);
}
