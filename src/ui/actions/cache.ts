/** The cached-models panel: list the browser caches' models with their sizes, delete one. */
import { message, state, type ActionContext } from './context';
import { deleteCachedModel, listCachedModels } from './model-cache';

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
