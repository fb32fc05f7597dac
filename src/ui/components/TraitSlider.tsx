import { appStore, useApp } from '../store';
import type { Actions } from '../actions';
import { MODES, type Mode } from '../../steering/mode';
import type { TraitEntry } from '../store/steering-slice';
import { NumberField } from './NumberField';
import { steeringBlocked } from '../store/check-slice';
import { MAX_TYPED_STRENGTH, SLIDER_STRENGTH } from '../../steering/strength';
import { SeparationChart } from './charts/SeparationChart';
import { POSITION_LABELS, type PositionMode } from '../../traits/prompts';

const NO_LAYERS: readonly number[] = [];

const KIND_NOTE: Record<string, string> = {
  demo: 'demo direction',
  extracted: 'extracted',
  shared: 'from the share link',
  custom: 'custom vector',
  incompatible: 'vector does not fit this model',
};

function TraitAdvanced({ trait, apply, actions }: { trait: TraitEntry; apply: (fn: () => void) => void; actions: Actions }) {
  const st = appStore.getState();
  const cutLayers = useApp((s) => s.info?.cutLayers ?? NO_LAYERS);
  const data = useApp((s) => s.traitData[trait.traitId]);
  const canExtract = useApp((s) => s.info !== null && s.extractStatus !== 'running' && s.streaming === null && s.compareStatus !== 'running');
  const layers = trait.layer !== null && !cutLayers.includes(trait.layer) ? [...cutLayers, trait.layer] : cutLayers;
  return (
    <details className="advanced">
      <summary>Advanced</summary>
      <div className="row">
        <label>
          Layer
          <select
            aria-label={`${trait.label} layer`}
            value={trait.layer === null ? '' : String(trait.layer)}
            onChange={(e) => apply(() => st.setLayer(trait.traitId, e.target.value === '' ? null : Number(e.target.value)))}
          >
            <option value="">default{cutLayers.length ? ` (${cutLayers[0]})` : ''}</option>
            {layers.map((l) => (
              <option key={l} value={l}>
                {l}
                {cutLayers.includes(l) ? '' : ' (not cut: reload with it)'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mode
          <select aria-label={`${trait.label} mode`} value={trait.mode} onChange={(e) => apply(() => st.setMode(trait.traitId, e.target.value as Mode))}>
            {MODES.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={trait.enabled}
            onChange={(e) => apply(() => st.setEnabled(trait.traitId, e.target.checked))}
            aria-label={`${trait.label} steering on`}
          />
          steer
        </label>
      </div>
      {data?.bestLayer !== undefined && !cutLayers.includes(data.bestLayer) && cutLayers.length > 0 && (
        <p className="hint">Best separated at layer {data.bestLayer}: add it to “Steering layers” and reload to steer there.</p>
      )}
      {!trait.custom && (
        <button type="button" disabled={!canExtract} onClick={() => void actions.traits.extract([trait.traitId])}>
          Extract {trait.label}
        </button>
      )}
      {data?.curves && Object.keys(data.curves).length > 1 && (
        <label>
          Vector
          <select
            aria-label={`${trait.label} vector`}
            value={data.positions ?? ''}
            disabled={!canExtract}
            onChange={(e) => void actions.traits.chooseVector(trait.traitId, e.target.value as PositionMode)}
          >
            {(Object.keys(data.curves) as PositionMode[]).map((m) => (
              <option key={m} value={m}>
                {POSITION_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
      )}
      {data?.separation ? (
        <SeparationChart separation={data.separation} bestLayer={data.bestLayer} label={trait.label} curves={data.curves} inUse={data.positions} />
      ) : (
        <p className="hint">No extraction data for this trait yet.</p>
      )}
    </details>
  );
}

export function TraitSlider({ trait, actions }: { trait: TraitEntry; actions: Actions }) {
  const st = appStore.getState();
  const kind = useApp((s) => s.vectorKind[trait.traitId]);
  const blocked = useApp((s) => steeringBlocked(s));
  const fileUnits = useApp((s) => s.fileUnits[trait.traitId]);
  const beyond = Math.abs(trait.strength) > SLIDER_STRENGTH;
  const apply = (fn: () => void) => {
    fn();
    void actions.steering.push();
  };
  const id = `trait-${trait.traitId}`;
  return (
    <div className="trait-block" data-trait={trait.traitId}>
      <div className="trait">
        <label htmlFor={id} title={kind ? KIND_NOTE[kind] : undefined}>
          {trait.label}
          {kind && kind !== 'extracted' && <small className={`kind ${kind}`}>{KIND_NOTE[kind]}</small>}
        </label>
        <input
          id={id}
          type="range"
          min={-1}
          max={1}
          step={0.01}
          value={trait.strength}
          aria-label={`${trait.label} strength`}
          aria-valuetext={trait.strength.toFixed(2)}
          disabled={blocked}
          onChange={(e) => apply(() => st.setStrength(trait.traitId, Number(e.target.value)))}
        />
        <NumberField
          label={`${trait.label} strength value`}
          showLabel={false}
          value={trait.strength}
          min={-MAX_TYPED_STRENGTH}
          max={MAX_TYPED_STRENGTH}
          step={0.01}
          disabled={blocked}
          onChange={(v) => apply(() => st.setStrength(trait.traitId, v))}
        />
        <button type="button" aria-label={`Reset ${trait.label}`} disabled={trait.strength === 0} onClick={() => apply(() => st.setStrength(trait.traitId, 0))}>
          Reset
        </button>
        {trait.custom ? (
          <button type="button" aria-label={`Remove ${trait.label}`} onClick={() => void actions.traits.removeCustom(trait.traitId)}>
            ✕
          </button>
        ) : (
          <span />
        )}
      </div>
      {fileUnits !== undefined && (
        <p className="hint" data-testid={`file-units-${trait.traitId}`}>
          Imported control vector: strength 1 adds the file's vector as-is (llama.cpp scale 1) = {fileUnits.toPrecision(3)} × the typical residual norm at this
          layer.
        </p>
      )}
      {beyond && (
        <p className="notice" role="status" data-testid={`strength-warning-${trait.traitId}`}>
          Strength {trait.strength} is beyond the slider's ±{SLIDER_STRENGTH}: this pushes the residual {Math.abs(trait.strength)}× as far
          {fileUnits === undefined ? ' as its typical norm' : ' as the file intends'} and often breaks the model's output.
        </p>
      )}
      <TraitAdvanced trait={trait} apply={apply} actions={actions} />
    </div>
  );
}
