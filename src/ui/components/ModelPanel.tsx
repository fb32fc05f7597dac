import { appStore, useApp } from '../store';
import type { Controller } from '../controller';
import type { Dtype } from '../../worker/protocol';

const DTYPES: (Dtype | 'auto')[] = ['auto', 'q4', 'q4f16', 'fp16', 'fp32'];

function ProgressView() {
  const progress = useApp((s) => s.progress);
  const files = useApp((s) => s.files);
  const entries = Object.entries(files);
  const loaded = entries.reduce((a, [, f]) => a + f.loaded, 0);
  const total = entries.reduce((a, [, f]) => a + f.total, 0);
  return (
    <div className="progress" aria-live="polite">
      <div>{progress?.message ?? 'Starting…'}</div>
      {total > 0 && (
        <progress aria-label="Download progress" value={loaded} max={total}>
          {Math.round((100 * loaded) / total)}%
        </progress>
      )}
      <ul className="files">
        {entries.map(([name, f]) => (
          <li key={name}>
            {name}: {(f.loaded / 1e6).toFixed(1)} / {(f.total / 1e6).toFixed(1)} MB
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ModelPanel({ controller }: { controller: Controller }) {
  const modelInput = useApp((s) => s.modelInput);
  const dtype = useApp((s) => s.dtypeChoice);
  const cutLayers = useApp((s) => s.cutLayersInput);
  const status = useApp((s) => s.modelStatus);
  const info = useApp((s) => s.info);
  const device = useApp((s) => s.device);
  const error = useApp((s) => s.modelError);
  const { setModelInput, setDtypeChoice, setCutLayersInput } = appStore.getState();
  return (
    <section className="panel" aria-labelledby="model-h">
      <h2 id="model-h">Model</h2>
      {device?.notice && (
        <p className="notice" role="status">
          {device.notice}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void controller.load();
        }}
      >
        <label>
          Hub id or folder URL
          <input value={modelInput} onChange={(e) => setModelInput(e.target.value)} spellCheck={false} />
        </label>
        <div className="row">
          <label>
            Weights
            <select value={dtype} onChange={(e) => setDtypeChoice(e.target.value as Dtype | 'auto')}>
              {DTYPES.map((d) => (
                <option key={d} value={d}>
                  {d === 'auto' ? `auto (${device?.shaderF16 ? 'q4f16' : 'q4'})` : d}
                </option>
              ))}
            </select>
          </label>
          <label>
            Steering layers
            <input value={cutLayers} placeholder="middle" onChange={(e) => setCutLayersInput(e.target.value)} size={8} />
          </label>
          <button type="submit" disabled={status === 'loading'}>
            {status === 'loading' ? 'Loading…' : 'Load'}
          </button>
        </div>
      </form>
      {status === 'loading' && <ProgressView />}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {info && (
        <p className="info" data-testid="model-info">
          {info.model} · {info.dtype} · {info.style} · {info.numLayers} layers · hidden {info.hidden} · cut after {info.cutLayers.join(', ')} · loaded in{' '}
          {(info.loadMs / 1000).toFixed(1)} s
        </p>
      )}
    </section>
  );
}
