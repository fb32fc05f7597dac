/** The chat: send a turn (tokens stream into the reply and the charts), stop, regenerate, clear. */
import { validateSampling } from '../../shared/sampling';
import { busy, detailOf, message, promptMessages, state, stopRunning, type ActionContext } from './context';
import { streamTokens } from './stream';

/** 'sent': the engine took the turn (a reply, or part of one, is in the chat); otherwise nothing was kept. */
export type SendOutcome = 'sent' | 'rejected' | 'ignored';

/**
 * Sends `content` as the next user turn. A turn the engine refuses before its first token (too
 * long for the context, engine busy, …) is taken back out of the chat: the error says why.
 * `notice` (e.g. which seed a regenerate drew) shows once the turn is on its way.
 */
export async function send(ctx: ActionContext, content: string, notice: string | null = null): Promise<SendOutcome> {
  const s = state(ctx);
  if (!content.trim() || busy(ctx)) return 'ignored';
  const problem = validateSampling(s.sampling);
  if (problem) {
    s.replyFailed(problem);
    return 'rejected';
  }
  const messages = promptMessages(ctx, s.messages, content);
  s.userSent(content);
  if (notice) s.setChatNotice(notice);
  s.clearPoints();
  const started = ctx.now();
  let tokens = 0;
  try {
    const result = await streamTokens(ctx, { messages, sampling: s.sampling, maxNewTokens: s.maxNewTokens }, (batch) => {
      tokens += batch.length;
      state(ctx).replyDelta(batch.map((p) => p.text).join(''));
      state(ctx).appendPoints(batch);
    });
    state(ctx).setTokensPerSecond(result.generatedTokens / ((ctx.now() - started) / 1000));
    state(ctx).replyDone(result);
    state(ctx).dismissStaleAlerts();
    return 'sent';
  } catch (err) {
    if (tokens > 0) {
      state(ctx).replyFailed(message(err), detailOf(err));
      return 'sent';
    }
    state(ctx).replyRejected(message(err), detailOf(err));
    return 'rejected';
  }
}

/** Sends the input box's text; if the turn is not taken, the text goes back into the box. */
export async function sendDraft(ctx: ActionContext): Promise<SendOutcome> {
  const content = state(ctx).draft;
  if (!content.trim()) return 'ignored';
  state(ctx).setDraft('');
  const outcome = await send(ctx, content);
  if (outcome !== 'sent') giveBack(ctx, content, outcome === 'rejected');
  return outcome;
}

/** A turn that was not taken goes back into the input box (unless the user typed something newer there). */
function giveBack(ctx: ActionContext, content: string, refused: boolean): void {
  const s = state(ctx);
  if (s.draft !== '') return;
  s.setDraft(content);
  if (refused && s.chatError) s.replyFailed(`${s.chatError} Your message was not sent; it is back in the input box.`);
}

/** The seed for a regenerate (a new one unless "fixed seed" is on) and the line saying which. */
function regenerateSeed(ctx: ActionContext): string {
  const s = state(ctx);
  if (s.fixedSeed) return `Regenerated with the same seed, ${s.sampling.seed} (fixed seed is on): the same settings give the same reply.`;
  const seed = ctx.randomSeed();
  s.setSampling({ seed });
  return s.sampling.temperature === 0
    ? `Regenerated with a new seed, ${seed}, but temperature 0 always picks the likeliest token, so the reply repeats: raise the temperature (Sampling) for a different one.`
    : `Regenerated with a new seed: ${seed}.`;
}

/** Re-runs the last user turn (its reply is replaced), with a new seed unless "fixed seed" is on. */
export async function regenerate(ctx: ActionContext): Promise<void> {
  if (busy(ctx)) return;
  const content = state(ctx).retractLastTurn();
  if (content === null) return;
  const outcome = await send(ctx, content, regenerateSeed(ctx));
  if (outcome !== 'sent') giveBack(ctx, content, outcome === 'rejected');
}

export const stop = stopRunning;

/** Empties the chat and the charts, and the engine's KV cache with them. */
export async function clearChat(ctx: ActionContext): Promise<void> {
  state(ctx).clearChat();
  state(ctx).clearPoints();
  await ctx.engine.resetCache().catch(() => undefined);
}
