/**
 * The downloader against a scripted host: sizes are checked before anything is cached, a
 * dropped body resumes with Range (206 + Content-Range) or restarts where Range is ignored,
 * retries are bounded, quota is checked from the storage estimate and a QuotaExceededError
 * from Cache.put becomes a warning, and every error names the file and URL.
 */
import { describe, expect, it } from 'vitest';
import { checkQuota, DownloadError, fetchBytes, QuotaError, type DownloadOptions, type FileProgress } from '../../../../src/engine/hub/download';

const URL_ = 'http://host/m/onnx/model.onnx';
const FILE = 'onnx/model.onnx';
/** For tests that leave a partial download behind (kept for a Retry). */
const URL2 = 'http://host/m2/onnx/model.onnx';
const URL3 = 'http://host/m3/onnx/model.onnx';
const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

interface Step {
  /** Bytes sent before the body ends (cleanly) or errors. */
  send?: number;
  drop?: boolean;
  /** Announced length (default: the honest length of what the answer covers). */
  length?: number;
  status?: number;
  ignoreRange?: boolean;
  throws?: boolean;
}

/** A host that answers each request with the next step; records the Range headers it got. */
function host(steps: Step[], bytes = BYTES) {
  const ranges: (string | null)[] = [];
  const fetchFn = (async (_url: string, init?: RequestInit) => {
    const range = (init?.headers as Record<string, string> | undefined)?.Range ?? null;
    ranges.push(range);
    const step = steps.shift() ?? {};
    if (step.throws) throw new TypeError('Failed to fetch');
    if (step.status && step.status >= 400) return new Response('no', { status: step.status });
    const start = range && !step.ignoreRange ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const part = bytes.subarray(start);
    const n = Math.min(part.length, step.send ?? part.length);
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent && n > 0) {
          sent = true;
          c.enqueue(part.slice(0, n));
        } else if (step.drop) c.error(new TypeError('network error'));
        else c.close();
      },
    });
    const headers: Record<string, string> = { 'content-length': String(step.length ?? part.length) };
    if (start > 0) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    return new Response(body, { status: start > 0 ? 206 : 200, headers });
  }) as typeof fetch;
  return { fetchFn, ranges };
}

class FakeCache {
  readonly store = new Map<string, Response>();
  putError: Error | null = null;
  async match(url: RequestInfo | URL) {
    return this.store.get(String(url))?.clone();
  }
  async put(url: RequestInfo | URL, res: Response) {
    if (this.putError) throw this.putError;
    this.store.set(String(url), res);
  }
  async delete(url: RequestInfo | URL) {
    return this.store.delete(String(url));
  }
}

const noSleep = async () => undefined;
const progress: FileProgress[] = [];
const onProgress = (p: FileProgress) => void progress.push(p);
const opts = (cache: FakeCache | null, extra: DownloadOptions = {}): DownloadOptions => ({ cache, storage: null, sleep: noSleep, ...extra });

describe('fetchBytes', () => {
  it('downloads, checks the length, caches, and then serves from the cache', async () => {
    const h = host([{}]);
    const cache = new FakeCache();
    expect(await fetchBytes(URL_, FILE, onProgress, { ...opts(cache), fetchFn: h.fetchFn })).toEqual(BYTES);
    expect(cache.store.has(URL_)).toBe(true);
    const again = await fetchBytes(URL_, FILE, onProgress, { ...opts(cache), fetchFn: host([{ status: 500 }]).fetchFn });
    expect(again).toEqual(BYTES);
    expect(progress.at(-1)).toMatchObject({ file: FILE, cached: true, loaded: 1000 });
  });

  it('resumes a dropped body with a Range request (206 + Content-Range)', async () => {
    const h = host([{ send: 300, drop: true }, {}]);
    const cache = new FakeCache();
    const got = await fetchBytes(URL_, FILE, onProgress, { ...opts(cache), fetchFn: h.fetchFn });
    expect(got).toEqual(BYTES);
    expect(h.ranges).toEqual([null, 'bytes=300-']);
    expect(cache.store.has(URL_)).toBe(true);
  });

  it('restarts from zero when the host ignores Range (200)', async () => {
    const h = host([{ send: 300, drop: true }, { ignoreRange: true }]);
    const got = await fetchBytes(URL_, FILE, onProgress, { ...opts(new FakeCache()), fetchFn: h.fetchFn });
    expect(got).toEqual(BYTES);
    expect(h.ranges).toEqual([null, 'bytes=300-']);
  });

  it('never caches a body shorter than its Content-Length, and gives up after the retries naming file and URL', async () => {
    const h = host([{ send: 10, length: 1000 }, { send: 10, length: 1000, ignoreRange: true }, { throws: true }]);
    const cache = new FakeCache();
    const err = await fetchBytes(URL2, FILE, onProgress, { ...opts(cache, { retries: 2 }), fetchFn: h.fetchFn }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).message).toContain(FILE);
    expect((err as DownloadError).message).toContain(URL2);
    expect((err as DownloadError).message).toMatch(/after 3 attempts/);
    expect((err as DownloadError).message).toMatch(/10 bytes are kept: Retry resumes/);
    expect((err as DownloadError).detail).toEqual({ file: FILE, url: URL2, offers: ['retry', 'delete-cache'] });
    expect(h.ranges.length).toBe(3);
    expect(cache.store.size).toBe(0);
  });

  it('a Retry after a failed download resumes from the bytes it kept (Range)', async () => {
    const first = host([{ send: 400, drop: true }, { throws: true }]);
    await expect(fetchBytes(URL3, FILE, onProgress, { ...opts(null, { retries: 1 }), fetchFn: first.fetchFn })).rejects.toThrow(/400 bytes are kept/);
    const retry = host([{}]);
    expect(await fetchBytes(URL3, FILE, onProgress, { ...opts(null), fetchFn: retry.fetchFn })).toEqual(BYTES);
    expect(retry.ranges).toEqual(['bytes=400-']);
  });

  it('checks the hub size when known: a body of another size is not cached', async () => {
    const cache = new FakeCache();
    const err = await fetchBytes(URL_, FILE, onProgress, { ...opts(cache, { expectedSize: 900, retries: 0 }), fetchFn: host([{}]).fetchFn }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/received 1000 bytes but 900 were expected/);
    expect(cache.store.size).toBe(0);
  });

  it('drops a cached file whose size differs from the size it was stored with, and downloads again', async () => {
    const cache = new FakeCache();
    cache.store.set(URL_, new Response(BYTES.slice(0, 10), { headers: { 'content-length': '1000' } }));
    const h = host([{}]);
    expect(await fetchBytes(URL_, FILE, onProgress, { ...opts(cache), fetchFn: h.fetchFn })).toEqual(BYTES);
    expect(h.ranges).toEqual([null]);
    expect((await (await cache.match(URL_))!.arrayBuffer()).byteLength).toBe(1000);
  });

  it('retries 5xx with backoff but not 404', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const ok = await fetchBytes(URL_, FILE, onProgress, { ...opts(null), sleep, fetchFn: host([{ status: 503 }, { status: 502 }, {}]).fetchFn });
    expect(ok).toEqual(BYTES);
    expect(waits).toEqual([500, 1000]);
    const h = host([{ status: 404 }, {}]);
    const err = await fetchBytes(URL_, FILE, onProgress, { ...opts(null), fetchFn: h.fetchFn }).catch((e: unknown) => e);
    expect((err as DownloadError).status).toBe(404);
    expect((err as Error).message).toBe(`${FILE}: not found at ${URL_}`);
    expect(h.ranges.length).toBe(1);
  });

  it('refuses to start when the storage estimate leaves too little room (pointing at the cache manager)', async () => {
    const storage = { estimate: async () => ({ quota: 10_000, usage: 9_500 }) };
    const cache = new FakeCache();
    const err = await fetchBytes(URL_, FILE, onProgress, { ...opts(cache), storage, fetchFn: host([{}]).fetchFn }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaError);
    expect((err as Error).message).toContain('Not enough browser storage for onnx/model.onnx');
    expect((err as Error).message).toContain('Downloaded models');
    expect(cache.store.size).toBe(0);
    // Enough room: no error.
    await expect(checkQuota({ estimate: async () => ({ quota: 10_000, usage: 0 }) }, 1000, FILE, URL_)).resolves.toBeUndefined();
  });

  it('keeps going when Cache.put hits the quota, with a warning naming the file and the cache manager', async () => {
    const cache = new FakeCache();
    cache.putError = Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
    const seen: FileProgress[] = [];
    const got = await fetchBytes(URL_, FILE, (p) => void seen.push(p), { ...opts(cache), fetchFn: host([{}]).fetchFn });
    expect(got).toEqual(BYTES);
    const warning = seen.find((p) => p.warning)?.warning ?? '';
    expect(warning).toContain(`${FILE} (0.0 MB) from ${URL_} could not be cached: the browser storage quota is exceeded`);
    expect(warning).toContain('Downloaded models');
  });
});
