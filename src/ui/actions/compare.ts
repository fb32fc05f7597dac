/**
 * Side by side: the same prompt and seed twice, unsteered (every intervention off, readout on),
 * then with the current steering, the KV cache reset before each so both start from the same state.
 */
import { validateSampling } from '../../shared/sampling';
import type { TraitSetting } from '../../steering/plan';
import type { CompareSide } from '../store/compare-slice';
import { steeringBlocked } from '../store/check-slice';
import { busy, message, promptMessages, state, type ActionContext } from './context';
import { pushSteering, steeringFor } from './steering';
import { streamTokens } from './stream';
import { engineSettings, unsteeredSettings } from './trait-vectors';

export async function compare(ctx: ActionContext, prompt: string): Promise<void> {
  const s = state(ctx);
  if (!prompt.trim() || busy(ctx) || !s.info) return;
  const problem = validateSampling(s.sampling);
  if (problem) return s.compareFailed(problem);
  const request = { messages: promptMessages(ctx, [], prompt), sampling: s.sampling, maxNewTokens: s.maxNewTokens, reuseCache: false };
  // With orthogonalised steering on, its directions are registered already (pushSteering).
  const settings = steeringFor(ctx, engineSettings(s.traits, s.info)).settings;
  const steered = steeringBlocked(s) ? unsteeredSettings(settings) : settings;
  s.compareStarted(prompt);
  ctx.holdSteering = true;
  try {
    const run = async (side: CompareSide, settings: TraitSetting[]) => {
      state(ctx).comparePhaseStarted(side);
      await ctx.engine.setSteering(settings);
      await ctx.engine.resetCache();
      await streamTokens(ctx, request, (batch) => state(ctx).compareAppend(side, batch));
    };
    ctx.compareStopped = false;
    await run('unsteered', unsteeredSettings(steered));
    if (!ctx.compareStopped) await run('steered', steered);
    if (ctx.compareStopped) state(ctx).compareStopped();
    else {
      state(ctx).compareDone();
      state(ctx).dismissStaleAlerts();
    }
  } catch (err) {
    state(ctx).compareFailed(message(err));
  } finally {
    ctx.holdSteering = false;
    await ctx.engine.resetCache().catch(() => undefined);
    await pushSteering(ctx);
  }
}
