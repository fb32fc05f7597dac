/**
 * Share links in the page's URL hash: make one from the current settings, or restore the
 * settings of one (the model download then waits for the user). Bad links only set a message.
 */
import { decodePreset, encodePreset, type DecodeContext } from '../../presets/codec';
import type { Preset } from '../../presets/preset';
import type { AppState, AppStore } from '../store';
import { presetOf } from '../store/preset-slice';

function context(s: AppState): DecodeContext {
  return { knownTraitIds: new Set(s.traits.filter((t) => !t.custom).map((t) => t.traitId)) };
}

/** Custom vectors shrink to the layers the loaded model steers, so links stay short. */
function steerableOnly(p: Preset, s: AppState): Preset {
  const cut = s.info?.cutLayers;
  if (!cut) return p;
  const custom = p.custom.map((c) => {
    const layers = Object.fromEntries(Object.entries(c.layers).filter(([l]) => cut.includes(Number(l))));
    return Object.keys(layers).length > 0 ? { ...c, layers } : c;
  });
  return { ...p, custom };
}

/** Puts the current settings in the URL hash; returns the link, or null (with a message) when they cannot be shared. */
export function shareCurrent(store: AppStore): string | null {
  const s = store.getState();
  const hash = encodePreset(steerableOnly(presetOf(s), s));
  const check = decodePreset(hash, context(s));
  if (!check.ok) {
    s.presetRejected(`These settings cannot be shared: ${check.error.message}`);
    return null;
  }
  const url = `${location.origin}${location.pathname}${location.search}#${hash}`;
  history.replaceState(null, '', url);
  s.setShareLink(url);
  void navigator.clipboard?.writeText(url).catch(() => undefined);
  return url;
}

/** Restores a link's settings; false when there is none or it is bad (then an alert says why). */
export function applyLink(store: AppStore, hash: string): boolean {
  if (!hash || hash === '#') return false;
  const s = store.getState();
  const r = decodePreset(hash, context(s));
  if (!r.ok) {
    s.presetRejected(`This share link cannot be used: ${r.error.message} Your current settings are kept.`);
    return false;
  }
  s.applyPreset(r.preset);
  const info = s.info;
  if (info) {
    // The same model is already loaded (same weights and layers): nothing to download.
    const p = r.preset;
    const sameModel = info.model === p.model || info.model.endsWith(p.model);
    const sameLayers = p.cutLayers.length === 0 || p.cutLayers.join() === info.cutLayers.join();
    if (sameModel && (p.dtype === 'auto' || p.dtype === info.dtype) && sameLayers) store.getState().setPendingLoad(null);
  }
  return true;
}
