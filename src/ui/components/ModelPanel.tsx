import { appStore, useApp } from '../store';
import type { Actions } from '../actions';
import type { Dtype } from '../../shared/dtype';
import { DTYPE_CHOICES } from '../../presets/preset';
import { CATALOG, findCatalogModel, formatMb } from '../models/catalog';
import { F16_DTYPES, resolveDtype } from '../../shared/dtype';
import { deviceFit } from '../models/device-fit';
import { downloadRate, downloadTotals } from '../store/model-slice';
import { RecoveryOffers } from './RecoveryOffers';
import { structureSummary } from '../../protocol/structure';

function formatSeconds(s: number): string {
  return s >= 90 ? `${Math.round(s / 60)} min` : `${Math.ceil(s)} s`;
}

function ProgressView() {
  const progress = useApp((s) => s.progress);
  const files = useApp((s) => s.files);
  const startedAt = useApp((s) => s.loadStartedAt);
  const lastAt = useApp((s) => s.lastProgressAt);
  const { loaded, total } = downloadTotals(files);
  const rate = startedAt === null || lastAt === null ? null : downloadRate(loaded, total, lastAt - startedAt);
  return (
    <div className="progress" aria-live="polite" data-testid="load-progress">
      <div>{progress?.message ?? 'Starting…'}</div>
      {total > 0 && (
        <>
          <progress aria-label="Download progress" value={loaded} max={total}>
            {Math.round((100 * loaded) / total)}%
          </progress>
          <div className="hint" data-testid="download-total">
            {(loaded / 1e6).toFixed(1)} / {(total / 1e6).toFixed(1)} MB
            {rate && ` · ${(rate.bytesPerSecond / 1e6).toFixed(1)} MB/s · ${loaded >= total ? 'done' : `about ${formatSeconds(rate.secondsLeft)} left`}`}
          </div>
        </>
      )}
      <ul className="files">
        {Object.entries(files).map(([name, f]) => (
          <li key={name}>
            {name}: {(f.loaded / 1e6).toFixed(1)} / {(f.total / 1e6).toFixed(1)} MB
            <progress aria-label={`${name} progress`} value={f.loaded} max={Math.max(1, f.total)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function CatalogPicker() {
  const modelInput = useApp((s) => s.modelInput);
  const device = useApp((s) => s.device);
  const dtype = resolveDtype(
    useApp((s) => s.dtypeChoice),
    !!device?.shaderF16,
  );
  const current = findCatalogModel(modelInput);
  return (
    <label>
      Model catalog
      <select
        value={current?.id ?? ''}
        onChange={(e) => {
          const m = CATALOG.find((c) => c.id === e.target.value);
          if (!m) return;
          appStore.getState().setModelInput(m.id);
          appStore.getState().setDtypeChoice(m.onlyDtype ?? m.defaultDtype ?? 'auto');
        }}
      >
        <option value="">custom (type below)</option>
        {CATALOG.map((m) => {
          const d = m.onlyDtype ?? m.defaultDtype ?? dtype;
          const mb = m.sizeMb[d];
          return (
            <option key={m.id} value={m.id}>
              {m.label} · {d}
              {mb ? ` ≈ ${formatMb(mb)}` : ''}
              {F16_DTYPES.includes(d) ? ' · needs shader-f16' : ''}
            </option>
          );
        })}
      </select>
    </label>
  );
}

export function ModelPanel({ actions }: { actions: Actions }) {
  const modelInput = useApp((s) => s.modelInput);
  const dtype = useApp((s) => s.dtypeChoice);
  const cutLayers = useApp((s) => s.cutLayersInput);
  const status = useApp((s) => s.modelStatus);
  const info = useApp((s) => s.info);
  const device = useApp((s) => s.device);
  const error = useApp((s) => s.modelError);
  const errorDetail = useApp((s) => s.modelErrorDetail);
  const warning = useApp((s) => s.loadWarning);
  const gpuNotice = useApp((s) => s.gpuNotice);
  const { setModelInput, setDtypeChoice, setCutLayersInput } = appStore.getState();
  const catalogModel = findCatalogModel(modelInput);
  const loadedModel = info ? findCatalogModel(info.model) : undefined;
  const fit = deviceFit(device, resolveDtype(dtype, !!device?.shaderF16), catalogModel);
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
          void actions.session.load();
        }}
      >
        <CatalogPicker />
        {catalogModel?.note && (
          <p className={catalogModel.randomWeights ? 'notice' : 'hint'} data-testid={catalogModel.randomWeights ? 'random-weights' : 'model-note'}>
            {catalogModel.note}
          </p>
        )}
        <label>
          Hub id or folder URL
          <input value={modelInput} onChange={(e) => setModelInput(e.target.value)} spellCheck={false} />
        </label>
        <div className="row">
          <label>
            Weights
            <select value={dtype} onChange={(e) => setDtypeChoice(e.target.value as Dtype | 'auto')}>
              {DTYPE_CHOICES.map((d) => (
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
          <button type="submit" disabled={status === 'loading' || !fit.ok}>
            {status === 'loading' ? 'Loading…' : 'Load'}
          </button>
        </div>
      </form>
      {fit.message && (
        <p className={fit.ok ? 'notice' : 'error'} role={fit.ok ? 'status' : 'alert'} data-testid="device-fit">
          {fit.message}
        </p>
      )}
      {status === 'loading' && <ProgressView />}
      {gpuNotice && (
        <p className="notice" role="status" data-testid="gpu-notice">
          {gpuNotice}
        </p>
      )}
      {warning && (
        <p className="notice" role="status" data-testid="load-warning">
          {warning}
        </p>
      )}
      {error && (
        <div data-testid="model-error">
          <p className="error" role="alert">
            {error}
          </p>
          {status !== 'loading' && <RecoveryOffers actions={actions} detail={errorDetail} />}
        </div>
      )}
      {info && (
        <p className="info" data-testid="model-info">
          {info.model} · {info.dtype} · {info.style} · {info.numLayers} layers · hidden {info.hidden} · cut after {info.cutLayers.join(', ')} · loaded in{' '}
          {(info.loadMs / 1000).toFixed(1)} s{loadedModel?.randomWeights ? ' · random weights (test model)' : ''}
        </p>
      )}
      {info?.structure && (
        <p className="info" data-testid="model-structure">
          {structureSummary(info.structure)}
        </p>
      )}
    </section>
  );
}
