/**
 * Fetches model files with byte progress and keeps them in the Cache API, so a model downloads
 * once. A file is cached only when its byte count equals the length the host announced (or the
 * hub's size when known); an interrupted body resumes with an HTTP Range request where the host
 * answers 206 + Content-Range, and restarts otherwise (bounded retries with backoff). Before a
 * download the storage estimate must leave room for the file; a full quota is a QuotaError that
 * points at the cache manager. Every error names the file and its URL.
 */
import type { ErrorDetail } from '../../protocol/messages';
import { MODEL_CACHE, MODEL_CACHES } from '../../shared/cache-names';

export const CACHE_MANAGER_HINT = 'Free space in "Downloaded models" (delete models you no longer use), then Retry.';

export class DownloadError extends Error {
  override name = 'DownloadError';
  readonly detail: ErrorDetail;
  constructor(
    message: string,
    readonly file: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
    this.detail = { file, url, offers: ['retry', 'delete-cache'] };
  }
}

/** Not enough storage for a download (estimate or Cache.put's QuotaExceededError). */
export class QuotaError extends DownloadError {
  override name = 'QuotaError';
}

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
  cached: boolean;
  /** Something the user should know that did not stop the download (e.g. it could not be cached). */
  warning?: string;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  fetchFn?: typeof fetch;
  /** false: neither read nor write the Cache API. */
  useCache?: boolean;
  /** The cache to use (default: the Cache API's MODEL_CACHE; null = none). Tests pass a fake. */
  cache?: Pick<Cache, 'match' | 'put' | 'delete'> | null;
  /** Storage estimate source (default navigator.storage; null = no check). */
  storage?: Pick<StorageManager, 'estimate'> | null;
  /** The file's size when known independently of the response (e.g. the hub's listing). */
  expectedSize?: number;
  /** Attempts after the first one for network drops and 5xx answers (default 3). */
  retries?: number;
  /** Waits between attempts (default setTimeout; backoff 0.5 s, 1 s, 2 s, …). */
  sleep?: (ms: number) => Promise<void>;
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches !== 'undefined' ? await caches.open(MODEL_CACHE) : null;
  } catch {
    return null; // e.g. opaque origins, private modes: download without caching
  }
}

function defaultStorage(): Pick<StorageManager, 'estimate'> | null {
  return typeof navigator !== 'undefined' && navigator.storage && typeof navigator.storage.estimate === 'function' ? navigator.storage : null;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** Throws a QuotaError when the storage estimate leaves less than `bytes` free. */
export async function checkQuota(storage: Pick<StorageManager, 'estimate'> | null, bytes: number, file: string, url: string): Promise<void> {
  if (!storage || !(bytes > 0)) return;
  let est: StorageEstimate;
  try {
    est = await storage.estimate();
  } catch {
    return; // no estimate: Cache.put's QuotaExceededError still catches a full disk
  }
  if (typeof est.quota !== 'number') return;
  const free = est.quota - (est.usage ?? 0);
  if (free < bytes) {
    throw new QuotaError(
      `Not enough browser storage for ${file} (${mb(bytes)}) from ${url}: ${mb(Math.max(0, free))} free of ${mb(est.quota)}. ${CACHE_MANAGER_HINT}`,
      file,
      url,
    );
  }
}

export function isQuotaExceeded(err: unknown): boolean {
  return err instanceof Error && (err.name === 'QuotaExceededError' || /quota/i.test(err.message));
}

/** "bytes 100-199/200" → its start and total (null if absent or malformed). */
function contentRange(res: Response): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  return m ? { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) } : null;
}

function httpReason(status: number): string {
  return status === 404 ? 'not found' : status === 401 || status === 403 ? 'access denied (gated or private repo?)' : `HTTP ${status}`;
}

function join(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].byteLength === length) return chunks[0];
  const out = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** The size a cached response was stored with (our content-length header), or null. */
function storedSize(res: Response): number | null {
  const n = Number(res.headers.get('content-length'));
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The bytes of the last download that failed part-way (one file at most): a Retry of the same
 * URL resumes from them with Range instead of starting again.
 */
const partials = new Map<string, { chunks: Uint8Array[]; loaded: number; total: number }>();

export async function fetchBytes(url: string, file: string, onProgress: (p: FileProgress) => void, opts: DownloadOptions = {}): Promise<Uint8Array> {
  const fetchFn = opts.fetchFn ?? fetch;
  const cache = opts.useCache === false ? null : opts.cache !== undefined ? opts.cache : await openCache();
  const hit = cache ? await cache.match(url) : undefined;
  if (hit) {
    const buf = new Uint8Array(await hit.arrayBuffer());
    const want = opts.expectedSize ?? storedSize(hit);
    if (want === null || buf.byteLength === want) {
      onProgress({ file, loaded: buf.byteLength, total: buf.byteLength, cached: true });
      return buf;
    }
    await cache!.delete(url); // a cached file of the wrong size is never used: download again
  }
  const retries = opts.retries ?? 3;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const storage = opts.storage !== undefined ? opts.storage : defaultStorage();
  const resumed = partials.get(url);
  partials.delete(url);
  let chunks: Uint8Array[] = resumed?.chunks ?? [];
  let loaded = resumed?.loaded ?? 0;
  let total = opts.expectedSize ?? resumed?.total ?? 0;
  let quotaChecked = !cache;
  let lastProblem = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(500 * 2 ** (attempt - 1));
    const headers: Record<string, string> = loaded > 0 ? { Range: `bytes=${loaded}-` } : {};
    let res: Response;
    try {
      // no-store: the Cache API holds our copy; the HTTP cache must not hand back a bad one.
      res = await fetchFn(url, { signal: opts.signal, headers, cache: 'no-store' });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      lastProblem = `could not reach the host (${err instanceof Error ? err.message : String(err)})`;
      continue;
    }
    if (res.status === 206 && loaded > 0) {
      const range = contentRange(res);
      if (!range || range.start !== loaded) {
        chunks = []; // the host sent some other range: start over
        loaded = 0;
        continue;
      }
      if (range.total) total = opts.expectedSize ?? range.total;
    } else if (res.ok) {
      chunks = []; // 200: the whole file again (the host ignores Range)
      loaded = 0;
      const announced = Number(res.headers.get('content-length') ?? 0);
      total = opts.expectedSize ?? (announced > 0 ? announced : 0);
    } else {
      lastProblem = httpReason(res.status);
      if (res.status >= 500 || res.status === 429) continue;
      throw new DownloadError(`${file}: ${lastProblem} at ${url}`, file, url, res.status);
    }
    if (!quotaChecked) {
      quotaChecked = true;
      await checkQuota(storage, total - loaded, file, url);
    }
    try {
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
        loaded += b.byteLength;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      lastProblem = `the connection dropped after ${loaded} of ${total || '?'} bytes (${err instanceof Error ? err.message : String(err)})`;
      continue; // resume from `loaded` with Range
    }
    if (total && loaded < total) {
      lastProblem = `the body ended after ${loaded} of ${total} bytes`;
      continue;
    }
    if (total && loaded > total) {
      throw new DownloadError(`${file}: received ${loaded} bytes but ${total} were expected from ${url}; not cached.`, file, url);
    }
    const out = join(chunks, loaded);
    onProgress({ file, loaded, total: loaded, cached: false });
    if (cache) await store(cache, url, file, out, onProgress);
    return out;
  }
  if (loaded > 0) {
    partials.clear();
    partials.set(url, { chunks, loaded, total });
  }
  const kept = loaded > 0 ? ` ${loaded} bytes are kept: Retry resumes from there where the host supports it.` : '';
  throw new DownloadError(`${file}: download failed after ${retries + 1} attempts: ${lastProblem} (${url}).${kept}`, file, url);
}

async function store(cache: Pick<Cache, 'put'>, url: string, file: string, bytes: Uint8Array, onProgress: (p: FileProgress) => void): Promise<void> {
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) };
  try {
    await cache.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
  } catch (err) {
    // The model still loads from memory; it will download again next time.
    const why = isQuotaExceeded(err) ? 'the browser storage quota is exceeded' : `the cache refused it (${err instanceof Error ? err.message : String(err)})`;
    const warning = `${file} (${mb(bytes.byteLength)}) from ${url} could not be cached: ${why}. ${CACHE_MANAGER_HINT}`;
    onProgress({ file, loaded: bytes.byteLength, total: bytes.byteLength, cached: false, warning });
  }
}

export async function fetchJson<T>(url: string, file: string, onProgress: (p: FileProgress) => void, fetchFn?: typeof fetch): Promise<T> {
  const bytes = await fetchBytes(url, file, onProgress, { fetchFn });
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new DownloadError(`${file} at ${url} is not valid JSON`, file, url);
  }
}

/** Deletes every cached file under `base` (a model's folder) from the model and tokenizer caches; returns how many. */
export async function evictCachedFiles(base: string): Promise<number> {
  if (typeof caches === 'undefined') return 0;
  let n = 0;
  for (const name of MODEL_CACHES) {
    if (!(await caches.has(name))) continue;
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      if (req.url.startsWith(base) && (await cache.delete(req))) n++;
    }
  }
  return n;
}
