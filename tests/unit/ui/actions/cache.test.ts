/** Cache actions over a fake CacheStorage: list models with sizes, delete one, failures as messages. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MODEL_CACHES } from '../../../../src/shared/cache-names';
import { setup } from '../../../support/fake-engine';

/** Just what model-cache.ts uses of CacheStorage: has, open, keys, match, delete. */
function fakeCaches(files: Record<string, Record<string, number>>, failDelete = false) {
  const stores = new Map(Object.entries(files).map(([name, entries]) => [name, new Map(Object.entries(entries))]));
  const cacheOf = (entries: Map<string, number>) => ({
    keys: async () => [...entries.keys()].map((url) => ({ url })),
    match: async (req: { url: string }) =>
      entries.has(req.url) ? { headers: new Headers({ 'content-length': String(entries.get(req.url)) }), blob: async () => new Blob([]) } : undefined,
    delete: async (req: { url: string }) => {
      if (failDelete) throw new Error('quota: cache is locked');
      return entries.delete(req.url);
    },
  });
  return { has: async (name: string) => stores.has(name), open: async (name: string) => cacheOf(stores.get(name)!), stores };
}

const HOST = 'http://127.0.0.1:5173';

afterEach(() => vi.unstubAllGlobals());

describe('cache actions', () => {
  const files = {
    [MODEL_CACHES[0]]: {
      [`${HOST}/hub/org/big/resolve/main/onnx/model_q4.onnx`]: 3000,
      [`${HOST}/hub/org/big/resolve/main/config.json`]: 100,
      [`${HOST}/local-models/traitlab/tiny/onnx/model_q4.onnx`]: 500,
    },
  };

  it('refresh lists the cached models by size', async () => {
    vi.stubGlobal('caches', fakeCaches(files));
    const { actions, state } = setup();
    await actions.cache.refresh();
    expect(state().cachedModels).toEqual([
      { model: 'org/big', bytes: 3100, files: 2 },
      { model: `${HOST}/local-models/traitlab/tiny/`, bytes: 500, files: 1 },
    ]);
    expect(state().cacheError).toBeNull();
  });

  it('remove deletes only that model, then lists again', async () => {
    const c = fakeCaches(files);
    vi.stubGlobal('caches', c);
    const { actions, state } = setup();
    await actions.cache.remove('org/big');
    expect([...c.stores.get(MODEL_CACHES[0])!.keys()]).toEqual([`${HOST}/local-models/traitlab/tiny/onnx/model_q4.onnx`]);
    expect(state().cachedModels?.map((m) => m.model)).toEqual([`${HOST}/local-models/traitlab/tiny/`]);
  });

  it('a failing delete keeps the list and says why', async () => {
    vi.stubGlobal('caches', fakeCaches(files, true));
    const { actions, state, store } = setup();
    await actions.cache.refresh();
    const errors: (string | null)[] = [];
    const unsubscribe = store.subscribe((s) => errors.push(s.cacheError));
    await actions.cache.remove('org/big');
    unsubscribe();
    expect(errors[0]).toBe('Could not delete org/big from the cache: quota: cache is locked');
    // The refresh after the failure lists the model (it is still cached) and keeps the message on screen.
    expect(state().cachedModels?.map((m) => m.model)).toContain('org/big');
    expect(state().cacheError).toBe('Could not delete org/big from the cache: quota: cache is locked');
    // The next successful refresh clears it.
    vi.stubGlobal('caches', fakeCaches(files));
    await actions.cache.refresh();
    expect(state().cacheError).toBeNull();
  });

  it('a failing listing is a message; no CacheStorage at all is an empty list', async () => {
    vi.stubGlobal('caches', {
      has: async () => {
        throw new Error('SecurityError: no caches here');
      },
    });
    const { actions, state } = setup();
    await actions.cache.refresh();
    expect(state().cachedModels).toBeNull();
    expect(state().cacheError).toBe('SecurityError: no caches here');

    vi.unstubAllGlobals();
    await actions.cache.refresh();
    expect(state().cachedModels).toEqual([]);
  });

  it('a load refreshes the cache list', async () => {
    vi.stubGlobal('caches', fakeCaches(files));
    const { actions, state } = setup();
    await actions.session.load();
    await vi.waitFor(() => expect(state().cachedModels).toHaveLength(2));
  });
});
