/** The model session: probe the GPU, load a model (then its self-check, trait vectors and steering). */
import type { Dtype } from '../../shared/dtype';
import { refreshCache } from './cache';
import { firstCheck } from './check';
import { message, state, type ActionContext } from './context';
import { applyLinkVectors } from './share-link';
import { pushVectors } from './steering';

/** "1, 3" → [1, 3]; empty → undefined (the engine's default); anything else → the message to show. */
export function parseLayers(text: string): number[] | undefined | string {
  const t = text.trim();
  if (!t) return undefined;
  const parts = t.split(/[\s,]+/).map(Number);
  if (parts.some((x) => !Number.isInteger(x) || x < 0)) return `"${text}" is not a list of layer numbers`;
  return parts;
}

export async function probeDevice(ctx: ActionContext): Promise<void> {
  try {
    state(ctx).setDevice(await ctx.engine.device());
  } catch (err) {
    state(ctx).loadFailed(message(err));
  }
}

/**
 * Loads the model named in the model panel; a new model starts with no extracted vectors. The
 * self-check follows every load (a cached report returns at once), so steering starts off for a
 * model whose check failed.
 */
export async function load(ctx: ActionContext): Promise<void> {
  const s = state(ctx);
  const layers = parseLayers(s.cutLayersInput);
  if (typeof layers === 'string') return s.loadFailed(layers);
  s.loadStarted();
  try {
    const info = await ctx.engine.load(
      { model: s.modelInput, dtype: s.dtypeChoice === 'auto' ? undefined : (s.dtypeChoice as Dtype), cutLayers: layers },
      (p) => state(ctx).loadProgress(p),
    );
    const checked = await firstCheck(ctx, info.model);
    state(ctx).loadDone(info);
    checked();
    ctx.extracted = {};
    state(ctx).clearExtractedData();
    applyLinkVectors(ctx);
    await pushVectors(ctx);
    state(ctx).clearPoints();
  } catch (err) {
    state(ctx).loadFailed(message(err));
  }
  void refreshCache(ctx);
}
