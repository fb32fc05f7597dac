import { useApp } from '../store';
import type { Actions } from '../actions';
import { BUILTIN_PRESETS } from '../../presets/builtins';

/** A model named by a share link: shown before anything downloads; the user starts it. */
function PendingLoad({ actions }: { actions: Actions }) {
  const pending = useApp((s) => s.pendingLoad);
  const setPending = useApp((s) => s.setPendingLoad);
  const traits = useApp((s) => s.traits.filter((t) => t.strength !== 0).length);
  const custom = useApp((s) => Object.keys(s.customTraits).length);
  if (!pending) return null;
  return (
    <div className="pending" role="region" aria-label="Shared preset" data-testid="pending-load">
      <p>
        This link sets {traits} trait{traits === 1 ? '' : 's'}
        {custom ? ` and ${custom} custom trait${custom === 1 ? '' : 's'}` : ''} and uses the model <code>{pending.model}</code> ({pending.dtype}
        {pending.cutLayers ? `, steering layers ${pending.cutLayers}` : ''}). Nothing has been downloaded yet.
      </p>
      <div className="row">
        <button type="button" onClick={() => void actions.links.confirmPendingLoad()}>
          Start download
        </button>
        <button type="button" onClick={() => setPending(null)}>
          Not now
        </button>
      </div>
    </div>
  );
}

export function PresetBar({ actions }: { actions: Actions }) {
  const link = useApp((s) => s.shareLink);
  const error = useApp((s) => s.presetError);
  const dismiss = useApp((s) => s.presetRejected);
  return (
    <section className="panel presets" aria-labelledby="presets-h">
      <h2 id="presets-h">Presets and sharing</h2>
      <div className="row">
        {BUILTIN_PRESETS.map((p) => (
          <button key={p.id} type="button" title={p.description} onClick={() => void actions.links.applyBuiltinPreset(p)}>
            {p.label}
          </button>
        ))}
        <button type="submit" onClick={() => actions.links.share()}>
          Share link
        </button>
      </div>
      {link && (
        <label>
          Link to these settings (copied to the clipboard when allowed)
          <input readOnly value={link} data-testid="share-link" onFocus={(e) => e.target.select()} />
        </label>
      )}
      {error && (
        <div className="error" role="alert" data-testid="preset-error">
          {error}{' '}
          <button type="button" onClick={() => dismiss(null)}>
            Dismiss
          </button>
        </div>
      )}
      <PendingLoad actions={actions} />
    </section>
  );
}
