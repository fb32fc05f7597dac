/**
 * IndexedDB cache of self-check reports, so the check runs once per model on a device: key =
 * model id + revision + dtype + cut layers + adapter. Without IndexedDB (Node, blocked private
 * modes) lookups miss and writes are dropped.
 */
import type { CheckReport } from '../../protocol/check';

export const CHECK_DB = 'traitlab-checks';
const STORE = 'reports';

export interface CheckKey {
  model: string;
  revision: string;
  dtype: string;
  cutLayers: readonly number[];
  device: string;
}

export function checkCacheKey(k: CheckKey): string {
  return [k.model, k.revision, k.dtype, k.cutLayers.join(','), k.device].map((s) => encodeURIComponent(s)).join('|');
}

export interface CheckStore {
  get(key: CheckKey): Promise<CheckReport | null>;
  put(key: CheckKey, report: CheckReport): Promise<void>;
}

function done<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export class CheckCache implements CheckStore {
  private db: Promise<IDBDatabase | null> | null = null;

  constructor(private readonly name = CHECK_DB) {}

  private open(): Promise<IDBDatabase | null> {
    this.db ??= new Promise<IDBDatabase | null>((resolve) => {
      if (typeof indexedDB === 'undefined') return resolve(null);
      let r: IDBOpenDBRequest;
      try {
        r = indexedDB.open(this.name, 1);
      } catch {
        return resolve(null);
      }
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => resolve(null);
      r.onblocked = () => resolve(null);
    });
    return this.db;
  }

  async get(key: CheckKey): Promise<CheckReport | null> {
    const db = await this.open();
    if (!db) return null;
    try {
      return ((await done(db.transaction(STORE, 'readonly').objectStore(STORE).get(checkCacheKey(key)))) as CheckReport | undefined) ?? null;
    } catch {
      return null;
    }
  }

  async put(key: CheckKey, report: CheckReport): Promise<void> {
    const db = await this.open();
    if (!db) return;
    try {
      await done(db.transaction(STORE, 'readwrite').objectStore(STORE).put(report, checkCacheKey(key)));
    } catch {
      // a full or blocked store only costs a re-run next time
    }
  }
}
