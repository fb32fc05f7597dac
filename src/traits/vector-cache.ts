/**
 * IndexedDB cache of extracted trait vectors (works in the engine worker and on pages), so a
 * second extraction of the same trait for the same model returns at once.
 *
 * Key: model id + revision + dtype + dataset version (trait pairs and questions actually used)
 * + method + token positions (+ PCA settings). Values are stored by structured clone
 * (Float32Array vectors included). Without IndexedDB (Node, private modes that block it) the
 * cache is a no-op: lookups miss, writes are dropped.
 */
import type { ExtractedTrait } from './extracted';

export interface VectorCacheKey {
  model: string;
  revision: string;
  dtype: string;
  datasetVersion: string;
  method: string;
  positions: string;
  traitId: string;
  /** Method settings that change the vectors (e.g. PCA iterations / centering). */
  options?: string;
}

export const VECTOR_DB = 'traitlab-vectors';
const STORE = 'vectors';
const DB_VERSION = 1;

/** The cache key as one string (fields joined with '|', each URI-encoded). */
export function vectorCacheKey(k: VectorCacheKey): string {
  return [k.model, k.revision, k.dtype, k.traitId, k.datasetVersion, k.method, k.positions, k.options ?? ''].map((s) => encodeURIComponent(s)).join('|');
}

export interface VectorStore {
  get(key: VectorCacheKey): Promise<ExtractedTrait | null>;
  put(key: VectorCacheKey, value: ExtractedTrait): Promise<void>;
  clear(): Promise<void>;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export class VectorCache implements VectorStore {
  private db: Promise<IDBDatabase | null> | null = null;

  constructor(private readonly name = VECTOR_DB) {}

  private open(): Promise<IDBDatabase | null> {
    this.db ??= new Promise<IDBDatabase | null>((resolve) => {
      if (typeof indexedDB === 'undefined') return resolve(null);
      let r: IDBOpenDBRequest;
      try {
        r = indexedDB.open(this.name, DB_VERSION);
      } catch {
        return resolve(null);
      }
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => resolve(null); // unavailable: behave as an empty cache
      r.onblocked = () => resolve(null);
    });
    return this.db;
  }

  async get(key: VectorCacheKey): Promise<ExtractedTrait | null> {
    const db = await this.open();
    if (!db) return null;
    try {
      const value = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(vectorCacheKey(key)));
      return (value as ExtractedTrait | undefined) ?? null;
    } catch {
      return null;
    }
  }

  async put(key: VectorCacheKey, value: ExtractedTrait): Promise<void> {
    const db = await this.open();
    if (!db) return;
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(value, vectorCacheKey(key));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
    });
  }

  async clear(): Promise<void> {
    const db = await this.open();
    if (!db) return;
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).clear());
  }
}
