import type { Actions } from '../actions';
import { BUILTIN_PRESETS } from '../../presets/builtins';
import { ShareControls } from './ShareControls';

export function PresetBar({ actions }: { actions: Actions }) {
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
    </section>
  );
}
