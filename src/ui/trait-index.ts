/** The built-in trait list (public/traits/index.json), fetched before the first paint. */
import { validateIndex, type TraitIndexEntry } from '../traits/dataset';

export const TRAIT_INDEX_URL = `${import.meta.env.BASE_URL}traits/index.json`;

export async function fetchTraitIndex(fetchFn: typeof fetch = fetch): Promise<{ entries: TraitIndexEntry[]; error: string | null }> {
  try {
    const res = await fetchFn(TRAIT_INDEX_URL);
    if (!res.ok) return { entries: [], error: `Trait list not available (HTTP ${res.status}).` };
    const v = validateIndex(await res.json());
    return v.ok ? { entries: v.value.traits, error: null } : { entries: [], error: v.error };
  } catch (err) {
    return { entries: [], error: `Trait list not available (${err instanceof Error ? err.message : String(err)}).` };
  }
}
