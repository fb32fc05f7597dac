import { useEffect } from 'react';
import { useApp } from '../store';
import type { Actions } from '../actions';

function formatBytes(b: number): string {
  return b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(b / 1e3))} kB`;
}

/** Models kept in the browser's cache, with their size and a delete button. */
export function CachePanel({ actions }: { actions: Actions }) {
  const models = useApp((s) => s.cachedModels);
  const error = useApp((s) => s.cacheError);
  useEffect(() => {
    void actions.cache.refresh();
  }, [actions]);
  return (
    <details className="panel cache-panel">
      <summary>
        <h2>Downloaded models</h2>
      </summary>
      {models === null ? (
        <p className="hint">Reading the cache…</p>
      ) : models.length === 0 ? (
        <p className="hint">Nothing cached yet.</p>
      ) : (
        <ul className="cached" data-testid="cached-models">
          {models.map((m) => (
            <li key={m.model}>
              <span className="grow">{m.model}</span>
              <span className="num">
                {formatBytes(m.bytes)} · {m.files} files
              </span>
              <button type="button" aria-label={`Delete ${m.model} from the cache`} onClick={() => void actions.cache.remove(m.model)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}
