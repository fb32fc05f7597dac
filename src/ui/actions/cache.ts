/** The cached-models panel: list the browser caches' models with their sizes, delete one. */
import type { ErrorDetail } from '../../protocol/messages';
import { message, state, type ActionContext } from './context';
import { deleteCachedModel, listCachedModels, modelOfUrl } from './model-cache';

/** Lists the cached models again; `error` (a failure just before, e.g. a delete) stays shown with the new list. */
export async function refreshCache(ctx: ActionContext, error: string | null = null): Promise<void> {
  try {
    state(ctx).setCachedModels(await listCachedModels(), error);
  } catch (err) {
    state(ctx).setCachedModels(null, error ?? message(err));
  }
}

/** Deletes one model's cached files, then lists again; a failed delete stays on screen after that refresh. */
export async function deleteCached(ctx: ActionContext, model: string): Promise<void> {
  let failure: string | null = null;
  try {
    await deleteCachedModel(model);
  } catch (err) {
    failure = `Could not delete ${model} from the cache: ${message(err)}`;
    state(ctx).setCachedModels(state(ctx).cachedModels, failure);
  }
  await refreshCache(ctx, failure);
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
