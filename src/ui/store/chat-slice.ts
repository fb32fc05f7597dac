import type { StateCreator } from 'zustand';
import type { SamplingOptions } from '../../shared/sampling';
import type { ErrorDetail, GenerateResult } from '../../protocol/messages';
import type { ChatMessage } from '../../shared/chat';
import type { AppState } from './index';

export interface ChatSlice {
  systemPrompt: string;
  messages: ChatMessage[];
  /** The reply being streamed (not yet in `messages`). */
  streaming: string | null;
  sampling: SamplingOptions;
  maxNewTokens: number;
  lastResult: GenerateResult | null;
  chatError: string | null;
  /** What to offer after a failed reply (e.g. reload with q4 after non-finite logits). */
  chatErrorDetail: ErrorDetail | null;
  setSystemPrompt(v: string): void;
  setSampling(s: Partial<SamplingOptions>): void;
  setMaxNewTokens(n: number): void;
  userSent(content: string): void;
  replyDelta(text: string): void;
  replyDone(result: GenerateResult): void;
  replyFailed(message: string, detail?: ErrorDetail | null): void;
  clearChat(): void;
  /** Removes the last user turn and any reply after it; returns that user message (for regenerate). */
  retractLastTurn(): string | null;
}

export const createChatSlice: StateCreator<AppState, [], [], ChatSlice> = (set, get) => ({
  systemPrompt: 'You are a helpful assistant.',
  messages: [],
  streaming: null,
  sampling: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.1, seed: 1 },
  maxNewTokens: 64,
  lastResult: null,
  chatError: null,
  chatErrorDetail: null,
  setSystemPrompt: (systemPrompt) => set({ systemPrompt }),
  setSampling: (s) => set({ sampling: { ...get().sampling, ...s } }),
  setMaxNewTokens: (maxNewTokens) => set({ maxNewTokens }),
  userSent: (content) => set({ messages: [...get().messages, { role: 'user', content }], streaming: '', chatError: null, chatErrorDetail: null }),
  replyDelta: (text) => set({ streaming: (get().streaming ?? '') + text }),
  replyDone: (result) => set({ messages: [...get().messages, { role: 'assistant', content: result.text }], streaming: null, lastResult: result }),
  // The user's message stays; the partial reply is kept visible so nothing is lost.
  replyFailed: (chatError, chatErrorDetail = null) => {
    const partial = get().streaming;
    set({ chatError, chatErrorDetail, streaming: null, messages: partial ? [...get().messages, { role: 'assistant', content: partial }] : get().messages });
  },
  clearChat: () => set({ messages: [], streaming: null, lastResult: null, chatError: null, chatErrorDetail: null }),
  retractLastTurn: () => {
    const msgs = get().messages;
    const i = msgs.map((m) => m.role).lastIndexOf('user');
    if (i < 0 || get().streaming !== null) return null;
    set({ messages: msgs.slice(0, i), chatError: null });
    return msgs[i].content;
  },
});
