import { useMemo } from 'react';
import { INVENTORY_TEMPLATES, ORDERS, templatesFor, type Order } from '../../traits/psychometrics/templates';
import type { Actions } from '../actions';
import type { Download } from '../actions/psych';
import { appStore, useApp } from '../store';
import { useVisibleTraits } from '../use-scores';

export function saveFile(d: Download | null): void {
  if (!d) return;
  const url = URL.createObjectURL(new Blob([d.bytes as BlobPart], { type: d.mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = d.name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function PsychStatusLine() {
  const status = useApp((s) => s.psychStatus);
  const msg = useApp((s) => s.psychMessage);
  const done = useApp((s) => s.psychDone);
  const total = useApp((s) => s.psychTotal);
  if (!msg) return null;
  return (
    <div data-testid="psych-status" data-status={status}>
      {status === 'running' && total > 0 && <progress max={total} value={done} aria-label="Measurement progress" />}
      <p className={status === 'error' ? 'error' : 'hint'} role={status === 'error' ? 'alert' : 'status'}>
        {msg}
      </p>
    </div>
  );
}

function toggle<T>(list: readonly T[], x: T, on: boolean): T[] {
  return on ? [...new Set([...list, x])] : list.filter((y) => y !== x);
}

/** Self-report: the inventory run from option probabilities, per trait with its spread across templates × orders. */
export function InventoryPanel({ actions }: { actions: Actions }) {
  const info = useApp((s) => s.info);
  const items = useApp((s) => s.items);
  const source = useApp((s) => s.itemsSource);
  const itemsMessage = useApp((s) => s.itemsMessage);
  const templateIds = useApp((s) => s.templateIds);
  const orders = useApp((s) => s.orders);
  const condition = useApp((s) => s.inventoryCondition);
  const status = useApp((s) => s.psychStatus);
  const run = useApp((s) => s.inventory);
  const traits = useVisibleTraits();
  const busy = useApp((s) => s.streaming !== null || s.compareStatus === 'running' || s.extractStatus === 'running');
  const templates = templatesFor(INVENTORY_TEMPLATES, info?.model ?? null);
  const labelOf = useMemo(() => Object.fromEntries(traits.map((t) => [t.traitId, t.label])), [traits]);
  const conditions = run ? Object.keys(run.traits[0]?.conditions ?? {}) : [];
  const st = appStore.getState();
  const running = status === 'running';
  return (
    <section className="panel" aria-labelledby="inventory-h">
      <h2 id="inventory-h">Self-report (inventory)</h2>
      <p className="hint">
        Each item is asked with five labelled options; the answer is read from the next-token probabilities of the option labels (nothing is sampled), in both
        option orders and every chosen template.
      </p>
      <div className="row">
        <span data-testid="items-source">{items ? `${items.items.length} items (${source})` : 'No items loaded'}</span>
        <label className="file">
          Import item file
          <input
            type="file"
            accept=".csv,.tsv,.json,.txt"
            aria-label="Import item file (CSV or JSON: text, trait, key, optional facet)"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (f) actions.psych.importItems(await f.text(), f.name);
              e.target.value = '';
            }}
          />
        </label>
        {source !== 'built-in' && (
          <button type="button" onClick={() => void actions.psych.loadBuiltinItems()}>
            Built-in items
          </button>
        )}
      </div>
      {itemsMessage && (
        <p className={itemsMessage.startsWith('Could not') || itemsMessage.startsWith('The built-in') ? 'error' : 'hint'} data-testid="items-message">
          {itemsMessage}
        </p>
      )}
      <fieldset className="row">
        <legend>Templates and option orders</legend>
        {templates.map((t) => (
          <label key={t.id}>
            <input type="checkbox" checked={templateIds.includes(t.id)} onChange={(e) => st.setTemplateIds(toggle(templateIds, t.id, e.target.checked))} />
            {t.label}
          </label>
        ))}
        {ORDERS.map((o) => (
          <label key={o}>
            <input type="checkbox" checked={orders.includes(o)} onChange={(e) => st.setOrders(toggle<Order>(orders, o, e.target.checked))} />
            {o} order
          </label>
        ))}
      </fieldset>
      <div className="row">
        <label>
          Run under
          <select value={condition} onChange={(e) => st.setInventoryCondition(e.target.value)}>
            <option value="">the current steering</option>
            <option value="system">the current steering + the chat's system prompt</option>
            {traits
              .filter((t) => !t.custom)
              .flatMap((t) => [
                <option key={`${t.traitId}:high`} value={`${t.traitId}:high`}>
                  persona: high {t.label} (no steering)
                </option>,
                <option key={`${t.traitId}:low`} value={`${t.traitId}:low`}>
                  persona: low {t.label} (no steering)
                </option>,
              ])}
          </select>
        </label>
        <button type="button" disabled={!info || running || busy || !items} onClick={() => void actions.psych.runInventory()}>
          Run inventory
        </button>
        <button type="button" disabled={!running} onClick={() => void actions.psych.stop()}>
          Stop
        </button>
      </div>
      <PsychStatusLine />
      {run && (
        <>
          <table className="scores" data-testid="inventory-table">
            <thead>
              <tr>
                <th>trait</th>
                <th title="mean over templates × orders, 1–5">self-report</th>
                <th title="range across templates × orders">spread</th>
                {conditions.map((c) => (
                  <th key={c}>{c}</th>
                ))}
                <th title="probability mass on the option labels">mass</th>
              </tr>
            </thead>
            <tbody>
              {run.traits.map((t) => (
                <tr key={t.trait} data-trait={t.trait}>
                  <td>{labelOf[t.trait] ?? t.trait}</td>
                  <td data-testid={`inventory-score-${t.trait}`}>{t.mean.toFixed(2)}</td>
                  <td>
                    {t.min.toFixed(2)}–{t.max.toFixed(2)} (sd {t.sd.toFixed(2)})
                  </td>
                  {conditions.map((c) => (
                    <td key={c}>{t.conditions[c]?.toFixed(2) ?? '–'}</td>
                  ))}
                  <td>{(t.mass * 100).toFixed(0)}%</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">
            {run.condition === 'steering' ? `Under steering ${JSON.stringify(run.strengths)}` : `Persona: “${run.condition}”`} · {run.rows.length} prompts ·{' '}
            {(run.elapsedMs / 1000).toFixed(1)} s · {run.model} ({run.dtype})
          </p>
          <div className="row">
            <button type="button" onClick={() => saveFile(actions.psych.exportInventory('csv'))}>
              Export CSV
            </button>
            <button type="button" onClick={() => saveFile(actions.psych.exportInventory('json'))}>
              Export JSON
            </button>
          </div>
        </>
      )}
    </section>
  );
}
