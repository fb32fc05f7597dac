/** The model session: probe the GPU, load a model (then its self-check, trait vectors and steering). */
import type { ModelInfo, ModelSource } from '../../protocol/messages';
import type { Dtype } from '../../shared/dtype';
import { refreshCache } from './cache';
import { firstCheck } from './check';
import { detailOf, message, state, type ActionContext } from './context';
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

/** Asks once per session that the browser keep downloaded models (persistent storage). */
async function requestPersist(ctx: ActionContext): Promise<void> {
  if (ctx.persistRequested || !ctx.storage?.persist) return;
  ctx.persistRequested = true;
  try {
    if (!(await ctx.storage.persisted?.())) await ctx.storage.persist();
  } catch {
    // Not granted or not supported: downloads still work, the browser may evict them.
  }
}

/**
 * A different model (or the same one in other weights) does not continue the old conversation:
 * the chat and the compare runs are cleared, and a notice says so.
 */
function forgetPreviousModel(ctx: ActionContext, previous: ModelInfo | null, info: ModelInfo): void {
  if (!previous || (previous.model === info.model && previous.dtype === info.dtype)) return;
  const s = state(ctx);
  const hadChat = s.messages.length > 0 || s.streaming !== null;
  s.clearChat();
  s.compareCleared();
  if (hadChat) s.setChatNotice(`New model loaded (${info.model}, ${info.dtype}): the chat with ${previous.model} (${previous.dtype}) was cleared.`);
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
  await loadSource(ctx, { model: s.modelInput, dtype: s.dtypeChoice === 'auto' ? undefined : (s.dtypeChoice as Dtype), cutLayers: layers });
}

/**
 * Loads `source`. `keepVectors` (reload of the same model, e.g. after a lost GPU device) keeps
 * this session's extracted vectors and the charts; otherwise a new model starts without them.
 */
export async function loadSource(ctx: ActionContext, source: ModelSource, opts: { keepVectors?: boolean } = {}): Promise<void> {
  const previous = state(ctx).info;
  state(ctx).loadStarted();
  await requestPersist(ctx);
  try {
    const info = await ctx.engine.load(source, (p) => state(ctx).loadProgress(p));
    const checked = await firstCheck(ctx, info.model);
    state(ctx).loadDone(info);
    checked();
    state(ctx).dismissStaleAlerts();
    forgetPreviousModel(ctx, previous, info);
    ctx.lastSource = source;
    if (!opts.keepVectors) {
      ctx.extracted = {};
      ctx.variants = {};
      state(ctx).clearExtractedData();
      applyLinkVectors(ctx);
    }
    await pushVectors(ctx);
    if (!opts.keepVectors) state(ctx).clearPoints();
  } catch (err) {
    state(ctx).loadFailed(message(err), detailOf(err));
  }
  void refreshCache(ctx);
}

/** After non-finite f16 output: the same model again with q4 weights (fp32 activations). */
export async function reloadWithQ4(ctx: ActionContext): Promise<void> {
  const s = state(ctx);
  if (ctx.lastSource) s.setModelInput(ctx.lastSource.model);
  s.setDtypeChoice('q4');
  await load(ctx);
}
