/**
 * "Check this model": the engine's self-check of the loaded model on this device (cached per
 * model, revision, dtype, cut layers and adapter in the worker). Runs after every load (a
 * cached report returns at once) and on demand. A failed report keeps steering off (steering.ts);
 * a check that could not run at all leaves steering on and says why.
 */
import type { CheckReport } from '../../protocol/check';
import { busy, message, state, type ActionContext } from './context';
import { pushSteering } from './steering';

/** Runs (force) or fetches the cached self-check; returns the report, or null when it did not run. */
export async function checkModel(ctx: ActionContext, force: boolean): Promise<CheckReport | null> {
  const s = state(ctx);
  if (!s.info || busy(ctx)) return null;
  s.checkStarted();
  try {
    const report = await ctx.engine.check({ force });
    state(ctx).checkDone(report);
    return report;
  } catch (err) {
    state(ctx).checkFailed(`The self-check could not run: ${message(err)}`);
    return null;
  } finally {
    await pushSteering(ctx);
  }
}

/**
 * The check that follows a load, before the model is shown as ready (so "ready" means checked):
 * the cached report or a fresh run, shown as the load's last step. Returns what to put in the
 * store once the new model is in it.
 */
export async function firstCheck(ctx: ActionContext, model: string): Promise<() => void> {
  state(ctx).loadProgress({ phase: 'check', loaded: 0, total: 1, message: `Checking the cut of ${model} on this device` });
  try {
    const report = await ctx.engine.check({ force: false });
    return () => state(ctx).checkDone(report);
  } catch (err) {
    const text = `The self-check could not run: ${message(err)}`;
    return () => {
      state(ctx).clearCheck();
      state(ctx).checkFailed(text);
    };
  }
}

/** The report as a JSON download (what the Model panel's export button saves). */
export function checkReportDownload(ctx: ActionContext): { name: string; bytes: Uint8Array; mime: string } | null {
  const report = state(ctx).checkReport;
  if (!report) return null;
  const slug = report.model.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || 'model';
  return { name: `traitlab-check-${slug}-${report.dtype}.json`, bytes: new TextEncoder().encode(JSON.stringify(report, null, 1)), mime: 'application/json' };
}
