/**
 * Which model references a share link or preset file may name, checked before anything about
 * the link is shown as "will load": a hub id (`owner/name`), an absolute http(s) URL of a
 * folder in hub layout, or a model this site serves itself (its offline demo ids). Anything
 * else (javascript:, data:, file:, relative paths, protocol-relative `//host`) is refused
 * with a message saying what was wrong.
 */

export const HUB_HOST = 'huggingface.co';
const MAX_CHARS = 512;
const HUB_PART = /^[A-Za-z0-9][\w.-]{0,95}$/;

export type ModelRef =
  | { ok: true; kind: 'hub'; host: string }
  | { ok: true; kind: 'url'; host: string; origin: string }
  | { ok: true; kind: 'site' }
  | { ok: false; message: string };

function refuse(message: string): ModelRef {
  return { ok: false, message };
}

/** `siteModels`: ids this site serves (e.g. the offline demo), accepted as they are. */
export function checkModelRef(ref: string, siteModels: ReadonlySet<string> = new Set()): ModelRef {
  if (typeof ref !== 'string' || ref.trim() === '') return refuse('The link names no model.');
  const shown = JSON.stringify(ref.length > 80 ? `${ref.slice(0, 80)}…` : ref);
  if (ref.length > MAX_CHARS) return refuse(`The model reference ${shown} is longer than ${MAX_CHARS} characters.`);
  if (ref !== ref.trim() || /[\s\\]/.test(ref) || [...ref].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return refuse(`The model reference ${shown} contains spaces, backslashes or control characters.`);
  if (siteModels.has(ref)) return { ok: true, kind: 'site' };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(ref)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== 'http' && scheme !== 'https')
      return refuse(`The model reference ${shown} uses "${scheme}:"; only hub ids (owner/name) and http(s) URLs are allowed.`);
    let url: URL;
    try {
      url = new URL(ref);
    } catch {
      return refuse(`The model reference ${shown} is not a valid URL.`);
    }
    if (!/^https?:\/\/[^/]/i.test(ref) || !url.host) return refuse(`The model URL ${shown} has no host.`);
    if (url.username || url.password) return refuse(`The model URL ${shown} carries a user name or password; links must not.`);
    return { ok: true, kind: 'url', host: url.host, origin: url.origin };
  }
  if (ref.startsWith('//')) return refuse(`The model reference ${shown} is a protocol-relative URL; write it with https://.`);
  if (ref.startsWith('/') || ref.startsWith('.'))
    return refuse(`The model reference ${shown} is a path on this site that it does not serve; only hub ids (owner/name) and http(s) URLs are allowed.`);
  const parts = ref.split('/');
  if (parts.length === 2 && parts.every((p) => HUB_PART.test(p)) && !ref.includes('..') && !ref.includes('--'))
    return { ok: true, kind: 'hub', host: HUB_HOST };
  return refuse(`The model reference ${shown} is neither a hub id (owner/name) nor an http(s) URL.`);
}

/** Where a checked reference downloads from, for the "will load" banner. */
export function describeSource(ref: ModelRef, pageOrigin?: string): string {
  if (!ref.ok) return ref.message;
  if (ref.kind === 'site') return 'served by this site';
  if (ref.kind === 'hub') return `the Hugging Face hub (${ref.host})`;
  if (pageOrigin && ref.origin === pageOrigin) return `this site (${ref.host})`;
  return `${ref.host} — not the Hugging Face hub: the files will be downloaded from that host`;
}
