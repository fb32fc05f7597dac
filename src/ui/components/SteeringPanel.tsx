import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { appStore, useApp } from '../store';
import { saveDownload } from '../actions/vector-files';
import type { Actions } from '../actions';
import { traitsForModel } from '../store/steering-slice';
import { CustomTraitForm } from './CustomTraitForm';
import { ExtractPanel } from './ExtractPanel';
import { ImportDialog } from './ImportDialog';
import { TraitSlider } from './TraitSlider';

/** Trait vectors in and out: llama.cpp control-vector GGUF and traitlab JSON. */
function VectorFiles({ actions, traitIds }: { actions: Actions; traitIds: { id: string; label: string }[] }) {
  const [traitId, setTraitId] = useState('');
  const chosen = traitId || traitIds[0]?.id || '';
  const save = (what: Parameters<Actions['vectors']['exportFile']>[0]) => {
    const d = actions.vectors.exportFile(what);
    if (d) saveDownload(d);
  };
  return (
    <details className="vector-files">
      <summary>Vector files (GGUF / JSON)</summary>
      <div className="row">
        <button type="button" onClick={() => save('steering')}>
          Export current steering (GGUF)
        </button>
      </div>
      <div className="row">
        <select aria-label="Trait to export" value={chosen} onChange={(e) => setTraitId(e.target.value)}>
          {traitIds.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
        <button type="button" disabled={!chosen} onClick={() => save({ traitId: chosen, format: 'gguf' })}>
          Export GGUF
        </button>
        <button type="button" disabled={!chosen} onClick={() => save({ traitId: chosen, format: 'json' })}>
          Export JSON
        </button>
      </div>
      <label className="import">
        Import trait vector (llama.cpp GGUF or traitlab JSON)
        <input
          type="file"
          accept=".json,.gguf,application/json"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void f.arrayBuffer().then((b) => actions.vectors.importFile(new Uint8Array(b), f.name));
          }}
        />
      </label>
    </details>
  );
}

export function SteeringPanel({ actions }: { actions: Actions }) {
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
      <ExtractPanel actions={actions} />
      {indexError && (
        <p className="error" role="alert">
          {indexError}
        </p>
      )}
      {traits.map((t) => (
        <TraitSlider key={t.traitId} trait={t} actions={actions} />
      ))}
      <div className="row">
        <button
          type="button"
          onClick={() => {
            appStore.getState().resetStrengths();
            void actions.steering.push();
          }}
        >
          Reset all
        </button>
      </div>
      <CustomTraitForm actions={actions} />
      <VectorFiles actions={actions} traitIds={traits.map((t) => ({ id: t.traitId, label: t.label }))} />
      <ImportDialog actions={actions} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
