/**
 * Fetches model files with byte progress and keeps them in the Cache API, so a model downloads
 * once. Failed or partial downloads are never cached.
 */
import { MODEL_CACHE } from '../../shared/cache-names';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
  cached: boolean;
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches !== 'undefined' ? await caches.open(MODEL_CACHE) : null;
  } catch {
    return null; // e.g. opaque origins, private modes: download without caching
  }
}

export async function fetchBytes(
  url: string,
  file: string,
  onProgress: (p: FileProgress) => void,
  opts: { signal?: AbortSignal; fetchFn?: typeof fetch; useCache?: boolean } = {},
): Promise<Uint8Array> {
  const fetchFn = opts.fetchFn ?? fetch;
  const cache = opts.useCache === false ? null : await openCache();
  const hit = cache ? await cache.match(url) : undefined;
  if (hit) {
    const buf = new Uint8Array(await hit.arrayBuffer());
    onProgress({ file, loaded: buf.byteLength, total: buf.byteLength, cached: true });
    return buf;
  }
  let res: Response;
  try {
    res = await fetchFn(url, { signal: opts.signal });
  } catch (err) {
    throw new DownloadError(`Could not reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) {
    const why = res.status === 404 ? 'not found' : res.status === 401 || res.status === 403 ? 'access denied (gated or private repo?)' : `HTTP ${res.status}`;
    throw new DownloadError(`${file}: ${why} at ${url}`, res.status);
  }
  const total = Number(res.headers.get('content-length') ?? 0);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress({ file, loaded, total: Math.max(total, loaded), cached: false });
    }
  } else {
    const b = new Uint8Array(await res.arrayBuffer());
    chunks.push(b);
    loaded = b.byteLength;
  }
  if (total && loaded !== total) throw new DownloadError(`${file}: download incomplete (${loaded} of ${total} bytes)`);
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  onProgress({ file, loaded, total: loaded, cached: false });
  if (cache) {
    // Stored in the background: loading goes on while the browser writes the file.
    void cache
      .put(url, new Response(out, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(loaded) } }))
      .catch(() => undefined); // quota exceeded: keep going uncached
  }
  return out;
}

export async function fetchJson<T>(url: string, file: string, onProgress: (p: FileProgress) => void, fetchFn?: typeof fetch): Promise<T> {
  const bytes = await fetchBytes(url, file, onProgress, { fetchFn });
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new DownloadError(`${file} at ${url} is not valid JSON`);
  }
}
