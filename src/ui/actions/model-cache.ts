/**
 * The browser caches that hold downloaded models: `traitlab-models` (our downloads, see
 * src/engine/hub/download.ts) and `transformers-cache` (tokenizer files). Entries are grouped
 * by model (hub id or folder URL) so each can be listed with its size and deleted.
 */
import { MODEL_CACHES } from '../../shared/cache-names';
import type { CachedModel } from '../store/model-slice';

/** The model a cached file URL belongs to: `org/name` for hub URLs, else the folder above `onnx/`. */
export function modelOfUrl(url: string): string {
  const hub = /^https?:\/\/[^/]+\/(?:hub\/)?([^/]+\/[^/]+)\/resolve\//.exec(url);
  if (hub) return hub[1];
  const u = url.replace(/[?#].*$/, '');
  const onnx = u.indexOf('/onnx/');
  return onnx >= 0 ? u.slice(0, onnx + 1) : u.slice(0, u.lastIndexOf('/') + 1);
}

async function entrySize(cache: Cache, req: Request): Promise<number> {
  const res = await cache.match(req);
  if (!res) return 0;
  const len = Number(res.headers.get('content-length'));
  return Number.isFinite(len) && len > 0 ? len : (await res.blob()).size;
}

export async function listCachedModels(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined') return [];
  const byModel = new Map<string, CachedModel>();
  for (const name of MODEL_CACHES) {
    if (!(await caches.has(name))) continue;
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const model = modelOfUrl(req.url);
      const m = byModel.get(model) ?? { model, bytes: 0, files: 0 };
      m.bytes += await entrySize(cache, req);
      m.files += 1;
      byModel.set(model, m);
    }
  }
  return [...byModel.values()].sort((a, b) => b.bytes - a.bytes);
}

export async function deleteCachedModel(model: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  for (const name of MODEL_CACHES) {
    if (!(await caches.has(name))) continue;
    const cache = await caches.open(name);
    for (const req of await cache.keys()) if (modelOfUrl(req.url) === model) await cache.delete(req);
  }
}
