import { appStore, useApp } from '../store';
import type { Controller } from '../controller';
import type { InterventionMode } from '../../engine/steering/plan';
import type { TraitEntry } from '../store/steering-slice';

const MODES: InterventionMode[] = ['add', 'clamp', 'ablate'];

function TraitSlider({ trait, controller }: { trait: TraitEntry; controller: Controller }) {
  const st = appStore.getState();
  const apply = (fn: () => void) => {
    fn();
    void controller.pushSteering();
  };
  const id = `trait-${trait.traitId}`;
  return (
    <div className="trait" data-trait={trait.traitId}>
      <label htmlFor={id}>{trait.label}</label>
      <input
        id={id}
        type="range"
        min={-1}
        max={1}
        step={0.01}
        value={trait.strength}
        aria-label={`${trait.label} strength`}
        aria-valuetext={trait.strength.toFixed(2)}
        onChange={(e) => apply(() => st.setStrength(trait.traitId, Number(e.target.value)))}
      />
      <input
        type="number"
        min={-1}
        max={1}
        step={0.01}
        value={trait.strength}
        aria-label={`${trait.label} strength value`}
        onChange={(e) => apply(() => st.setStrength(trait.traitId, Number(e.target.value)))}
      />
      <button type="button" aria-label={`Reset ${trait.label}`} onClick={() => apply(() => st.setStrength(trait.traitId, 0))}>
        Reset
      </button>
      <select aria-label={`${trait.label} mode`} value={trait.mode} onChange={(e) => apply(() => st.setMode(trait.traitId, e.target.value as InterventionMode))}>
        {MODES.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
    </div>
  );
}

export function SteeringPanel({ controller }: { controller: Controller }) {
  const traits = useApp((s) => s.traits);
  const error = useApp((s) => s.steeringError);
  const info = useApp((s) => s.info);
  return (
    <section className="panel" aria-labelledby="steer-h">
      <h2 id="steer-h">Steering</h2>
      {traits.length === 0 && <p className="hint">Load a model to get trait controls.</p>}
      {info && traits.length > 0 && (
        <p className="hint">
          Strength 1.0 = the typical residual norm at layer {traits[0].layer} ({info.typicalNorm[traits[0].layer]?.toFixed(2)}). Changes apply from the next token.
        </p>
      )}
      {traits.map((t) => (
        <TraitSlider key={t.traitId} trait={t} controller={controller} />
      ))}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
