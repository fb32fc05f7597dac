/** Share links and presets: share the current settings, open a link, apply a built-in preset. */
import type { BuiltinPreset } from '../../presets/builtins';
import { state, type ActionContext } from './context';
import { load } from './session';
import { applyLink, shareCurrent } from './share-link';
import { pushSteering, pushVectors } from './steering';

export function share(ctx: ActionContext): string | null {
  return shareCurrent(ctx.store);
}

/** Restores a link's settings (the model download waits for confirmation) or explains why not. */
export async function openLink(ctx: ActionContext, hash: string): Promise<void> {
  if (applyLink(ctx.store, hash) && state(ctx).info) await pushVectors(ctx);
}

/** The user confirmed the download a link asked for. */
export async function confirmPendingLoad(ctx: ActionContext): Promise<void> {
  await load(ctx);
}

export async function applyBuiltinPreset(ctx: ActionContext, p: BuiltinPreset): Promise<void> {
  state(ctx).applyBuiltinPreset(p);
  await pushSteering(ctx);
}
