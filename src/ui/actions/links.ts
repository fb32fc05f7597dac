/**
 * Share links, preset files and built-in presets. A link carries the settings and every vector
 * needed to reproduce the sender's steering (share-link.ts); a setup too large for a link
 * (LIMITS.linkChars) is offered as a preset file holding the same data. Opening a link checks
 * it completely (model reference included) before anything is shown as "will load"; a bad
 * link or file is a message and the current session is kept.
 */
import type { BuiltinPreset } from '../../presets/builtins';
import { decodePreset, decodePresetFile, encodePreset, encodePresetFile, type DecodeResult } from '../../presets/codec';
import { LIMITS } from '../../presets/preset';
import { message, state, type ActionContext } from './context';
import { load } from './session';
import { applyLinkVectors, decodeContext, describeCarried, presetToShare, sameModel, sourceOf } from './share-link';
import { pushSteering, pushVectors } from './steering';
import type { VectorDownload } from './vector-files';

export const PRESET_FILE_NAME = 'traitlab-preset.json';

/**
 * Puts the current settings and vectors in the URL hash (and the clipboard when allowed);
 * returns the link, or null when the setup is larger than a link may be (a preset file is
 * offered then) or cannot be shared (a message says why).
 */
export async function share(ctx: ActionContext): Promise<string | null> {
  const s = state(ctx);
  try {
    const preset = presetToShare(s, ctx.extracted);
    const hash = await encodePreset(preset);
    const url = `${location.origin}${location.pathname}${location.search}#${hash}`;
    if (url.length > LIMITS.linkChars) {
      state(ctx).setShareTooLarge({ chars: url.length, limit: LIMITS.linkChars });
      return null;
    }
    const check = await decodePreset(hash, decodeContext(s));
    if (!check.ok) {
      state(ctx).presetRejected(`These settings cannot be shared: ${check.error.message}`);
      return null;
    }
    history.replaceState(null, '', url);
    state(ctx).setShareLink(url, `${describeCarried(preset)} ${(url.length / 1024).toFixed(1)} KB of ${LIMITS.linkChars / 1024} KB.`);
    void navigator.clipboard?.writeText(url).catch(() => undefined);
    return url;
  } catch (err) {
    state(ctx).presetRejected(`These settings cannot be shared: ${message(err)}`);
    return null;
  }
}

/** The current settings and vectors as a preset file (no size limit), or null with a message. */
export async function presetFile(ctx: ActionContext): Promise<VectorDownload | null> {
  const s = state(ctx);
  try {
    const text = await encodePresetFile(presetToShare(s, ctx.extracted));
    const check = await decodePresetFile(text, decodeContext(s));
    if (!check.ok) throw new Error(check.error.message);
    return { name: PRESET_FILE_NAME, bytes: new TextEncoder().encode(text), mime: 'application/json' };
  } catch (err) {
    state(ctx).presetRejected(`These settings cannot be saved: ${message(err)}`);
    return null;
  }
}

async function applyDecoded(ctx: ActionContext, r: DecodeResult, what: string): Promise<boolean> {
  const s = state(ctx);
  if (!r.ok) {
    s.presetRejected(`This ${what} cannot be used: ${r.error.message} Your current settings are kept.`);
    return false;
  }
  const p = r.preset;
  s.applyPreset(p, sourceOf(p.model, s));
  const info = s.info;
  if (info) {
    // The same model is already loaded (same weights and layers): nothing to download.
    const sameLayers = p.cutLayers.length === 0 || p.cutLayers.join() === info.cutLayers.join();
    if (sameModel(info, p.model) && (p.dtype === 'auto' || p.dtype === info.dtype) && sameLayers) {
      state(ctx).setPendingLoad(null);
      applyLinkVectors(ctx);
    }
    await pushVectors(ctx);
  }
  return true;
}

/** Restores a link's settings (the model download waits for confirmation) or explains why not. */
export async function openLink(ctx: ActionContext, hash: string): Promise<void> {
  if (!hash || hash === '#') return;
  try {
    await applyDecoded(ctx, await decodePreset(hash, decodeContext(state(ctx))), 'share link');
  } catch (err) {
    // Never reached by a bad link (decoding never throws); kept so nothing can blank the page.
    state(ctx).presetRejected(`This share link cannot be used: ${message(err)}. Your current settings are kept.`);
  }
}

/** Opens a preset file (what "Download preset file" saved). */
export async function openPresetFile(ctx: ActionContext, bytes: Uint8Array, fileName: string): Promise<void> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    state(ctx).presetRejected(`This preset file cannot be used: ${fileName} is not UTF-8 text. Your current settings are kept.`);
    return;
  }
  await applyDecoded(ctx, await decodePresetFile(text, decodeContext(state(ctx))), `preset file (${fileName})`);
}

/** The user confirmed the download a link asked for. */
export async function confirmPendingLoad(ctx: ActionContext): Promise<void> {
  await load(ctx);
}

export async function applyBuiltinPreset(ctx: ActionContext, p: BuiltinPreset): Promise<void> {
  state(ctx).applyBuiltinPreset(p);
  await pushSteering(ctx);
}
