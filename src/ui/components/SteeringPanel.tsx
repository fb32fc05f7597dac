import { useShallow } from 'zustand/react/shallow';
import { appStore, useApp } from '../store';
import type { Controller } from '../controller';
import { traitsForModel } from '../store/steering-slice';
import { CustomTraitForm } from './CustomTraitForm';
import { ExtractPanel } from './ExtractPanel';
import { TraitSlider } from './TraitSlider';

function ImportVector({ controller }: { controller: Controller }) {
  return (
    <label className="import">
      Import trait vector (traitlab-vector JSON)
      <input
        type="file"
        accept=".json,application/json"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void f.text().then((t) => controller.importVector(t, f.name));
        }}
      />
    </label>
  );
}

export function SteeringPanel({ controller }: { controller: Controller }) {
  const model = useApp((s) => s.info?.model ?? s.modelInput);
  const traits = useApp(useShallow((s) => traitsForModel(s.traits, model)));
  const error = useApp((s) => s.steeringError);
  const info = useApp((s) => s.info);
  const indexError = useApp((s) => s.traitIndexError);
  return (
    <section className="panel" aria-labelledby="steer-h">
      <h2 id="steer-h">Steering</h2>
      <p className="hint">
        {info
          ? `Strength 1.0 = the typical residual norm at layer ${info.cutLayers[0]} (${info.typicalNorm[info.cutLayers[0]]?.toFixed(2)}). Changes apply from the next token.`
          : 'Set strengths now; they apply once a model is loaded.'}
      </p>
      <ExtractPanel controller={controller} />
      {indexError && (
        <p className="error" role="alert">
          {indexError}
        </p>
      )}
      {traits.map((t) => (
        <TraitSlider key={t.traitId} trait={t} controller={controller} />
      ))}
      <div className="row">
        <button
          type="button"
          onClick={() => {
            appStore.getState().resetStrengths();
            void controller.pushSteering();
          }}
        >
          Reset all
        </button>
      </div>
      <CustomTraitForm controller={controller} />
      <ImportVector controller={controller} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
