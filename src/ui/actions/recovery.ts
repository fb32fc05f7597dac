/**
 * A lost GPU device (driver reset, another tab's hang, or a test's device.destroy()): the engine
 * worker reports it, the client fails what was running, and this starts a fresh worker and
 * reloads the same model with this session's vectors and settings. The conversation stays in
 * the store (the new engine re-reads it as the next prompt), so nothing the user wrote is lost.
 */
import { state, type ActionContext } from './context';
import { loadSource } from './session';

export function watchDeviceLoss(ctx: ActionContext): void {
  ctx.engine.onDeviceLost?.((reason) => void recoverFromDeviceLoss(ctx, reason));
}

export async function recoverFromDeviceLoss(ctx: ActionContext, reason: string): Promise<void> {
  if (ctx.recovering || !ctx.engine.restart) return;
  ctx.recovering = true;
  const source = ctx.lastSource;
  const s = state(ctx);
  s.setGpuNotice(
    `The GPU device was lost (${reason}). Restarting the engine${source ? ` and reloading ${source.model}` : ''}; the conversation and settings are kept.`,
  );
  try {
    ctx.engine.restart();
    if (!source) {
      s.setGpuNotice(`The GPU device was lost (${reason}); the engine was restarted. Load a model to continue.`);
      return;
    }
    await loadSource(ctx, source, { keepVectors: true });
    const failed = state(ctx).modelError;
    state(ctx).setGpuNotice(
      failed
        ? `The GPU device was lost (${reason}) and reloading ${source.model} failed: see the Model panel. The conversation is kept.`
        : `Recovered from a lost GPU device (${reason}): the engine was restarted and ${source.model} reloaded. The conversation and settings are kept.`,
    );
  } finally {
    ctx.recovering = false;
  }
}
