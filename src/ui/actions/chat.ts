/** The chat: send a turn (tokens stream into the reply and the charts), stop, regenerate, clear. */
import { validateSampling } from '../../shared/sampling';
import { busy, detailOf, message, promptMessages, state, stopRunning, type ActionContext } from './context';
import { streamTokens } from './stream';

export async function send(ctx: ActionContext, content: string): Promise<void> {
  const s = state(ctx);
  if (!content.trim() || busy(ctx)) return;
  const problem = validateSampling(s.sampling);
  if (problem) return s.replyFailed(problem);
  const messages = promptMessages(ctx, s.messages, content);
  s.userSent(content);
  s.clearPoints();
  const started = ctx.now();
  try {
    const result = await streamTokens(ctx, { messages, sampling: s.sampling, maxNewTokens: s.maxNewTokens }, (batch) => {
      state(ctx).replyDelta(batch.map((p) => p.text).join(''));
      state(ctx).appendPoints(batch);
    });
    state(ctx).setTokensPerSecond(result.generatedTokens / ((ctx.now() - started) / 1000));
    state(ctx).replyDone(result);
  } catch (err) {
    state(ctx).replyFailed(message(err), detailOf(err));
  }
}

/** Re-runs the last user turn (its reply is replaced). */
export async function regenerate(ctx: ActionContext): Promise<void> {
  if (busy(ctx)) return;
  const content = state(ctx).retractLastTurn();
  if (content !== null) await send(ctx, content);
}

export const stop = stopRunning;

/** Empties the chat and the charts, and the engine's KV cache with them. */
export async function clearChat(ctx: ActionContext): Promise<void> {
  state(ctx).clearChat();
  state(ctx).clearPoints();
  await ctx.engine.resetCache().catch(() => undefined);
}
