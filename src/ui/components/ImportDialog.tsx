/** Asks before a vector file replaces a trait's vector (extracted, from a link, or a custom trait's). */
import { useApp } from '../store';
import type { Actions } from '../actions';

export function ImportDialog({ actions }: { actions: Actions }) {
  const pending = useApp((s) => s.pendingImport);
  if (!pending) return null;
  return (
    <div className="notice" role="alertdialog" aria-labelledby="import-q" data-testid="import-confirm">
      <p id="import-q">{pending.question} Replace it?</p>
      <div className="row">
        <button type="button" onClick={() => void actions.vectors.resolveImport(true)}>
          Replace
        </button>
        <button type="button" onClick={() => void actions.vectors.resolveImport(false)}>
          Keep current
        </button>
      </div>
    </div>
  );
}
