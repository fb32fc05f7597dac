/** The cached-models panel: list the browser caches' models with their sizes, delete one. */
import type { ErrorDetail } from '../../protocol/messages';
import { message, state, type ActionContext } from './context';
import { deleteCachedModel, listCachedModels, modelOfUrl } from './model-cache';

export async function refreshCache(ctx: ActionContext): Promise<void> {
  try {
    state(ctx).setCachedModels(await listCachedModels());
  } catch (err) {
    state(ctx).setCachedModels(null, message(err));
  }
}

export async function deleteCached(ctx: ActionContext, model: string): Promise<void> {
  try {
    await deleteCachedModel(model);
  } catch (err) {
    state(ctx).setCachedModels(state(ctx).cachedModels, message(err));
  }
  await refreshCache(ctx);
}

/** "Delete cached copy" after a failed load: every cached file of the model the error names. */
export async function deleteCachedCopy(ctx: ActionContext, detail: ErrorDetail | null): Promise<void> {
  const model = detail?.url ? modelOfUrl(detail.url) : (ctx.lastSource?.model ?? state(ctx).modelInput);
  try {
    await deleteCachedModel(model);
    state(ctx).loadFailed(`Deleted the cached copy of ${model}. Retry downloads it again.`, { ...detail, offers: ['retry'] });
  } catch (err) {
    state(ctx).loadFailed(`Could not delete the cached copy of ${model}: ${message(err)}`, detail);
  }
  await refreshCache(ctx);
}
