/**
 * Where a model's files live: a hub id resolves to `{host}/{id}/resolve/{revision}/{file}`,
 * a base URL of a folder in hub layout to `{base}/{file}`. Bad input gets a clear message.
 */
export const DEFAULT_HUB = 'https://huggingface.co';
const HUB_ID = /^[\w\-.]{1,96}\/[\w\-.]{1,96}$/;

export class ModelSourceError extends Error {
  override name = 'ModelSourceError';
}

export interface ResolvedSource {
  kind: 'hub' | 'url';
  /** Stable id for caches and share links: the hub id, or the normalized base URL. */
  id: string;
  revision: string;
  /** Base URL ending in '/', files are relative to it. */
  base: string;
  /** For the hub: host URL ending in '/'. */
  host: string;
}

export function resolveSource(model: string, revision = 'main', remoteHost = DEFAULT_HUB, pageUrl?: string): ResolvedSource {
  const m = model.trim();
  if (!m) throw new ModelSourceError('Enter a model: a hub id like "HuggingFaceTB/SmolLM2-360M-Instruct" or the URL of a model folder.');
  if (/^https?:\/\//i.test(m) || m.startsWith('/') || m.startsWith('./')) {
    let url: URL;
    try {
      url = new URL(m, pageUrl ?? (typeof location !== 'undefined' ? location.href : undefined));
    } catch {
      throw new ModelSourceError(`"${m}" is not a valid URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ModelSourceError(`Only http(s) model URLs are supported, got ${url.protocol}`);
    const base = url.href.replace(/[?#].*$/, '').replace(/\/?$/, '/');
    return { kind: 'url', id: base, revision, base, host: '' };
  }
  if (!HUB_ID.test(m) || m.includes('..') || m.includes('--')) {
    throw new ModelSourceError(`"${m}" is not a hub model id (expected "owner/name") or a URL.`);
  }
  if (!/^[\w\-./]+$/.test(revision)) throw new ModelSourceError(`"${revision}" is not a valid revision.`);
  const host = remoteHost.replace(/\/?$/, '/');
  return { kind: 'hub', id: m, revision, base: `${host}${m}/resolve/${encodeURIComponent(revision)}/`, host };
}

export function fileUrl(src: ResolvedSource, file: string): string {
  return src.base + file.split('/').map(encodeURIComponent).join('/');
}
