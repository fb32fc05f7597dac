import { useApp } from '../store';
import type { Actions } from '../actions';
import { BUILTIN_PRESETS } from '../../presets/builtins';
import { PendingLoad, ShareControls } from './ShareControls';

export function PresetBar({ actions }: { actions: Actions }) {
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
      </div>
      <ShareControls actions={actions} />
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
