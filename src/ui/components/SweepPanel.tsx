import { useMemo, useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { illusionRows, measureOf, type SweepResult } from '../../traits/psychometrics/sweep';
import type { Actions } from '../actions';
import { appStore, useApp } from '../store';
import { useVisibleTraits } from '../use-scores';
import { CrossTraitMatrices, vectorsLabel } from './CrossTraitMatrices';
import { PsychStatusLine, saveFile } from './InventoryPanel';

const NO_SWEEPS: SweepResult[] = [];

/** One trait's dose-response: self-report and judge (left axis, 1–5, with spread bands), re-read and inside (right axis). */
function DoseChart({ result, trait, label }: { result: SweepResult; trait: string; label: string }) {
  const rows = result.steps
    .filter((s) => s.trait === trait)
    .map((s) => ({
      strength: s.strength,
      inventory: s.inventory[trait]?.mean,
      inventoryBand: s.inventory[trait] ? [s.inventory[trait].min, s.inventory[trait].max] : undefined,
      judge: s.judge[trait]?.mean,
      judgeBand: s.judge[trait] ? [s.judge[trait].min, s.judge[trait].max] : undefined,
      reread: s.reread[trait],
      inside: s.inside[trait],
    }));
  const personas = result.personas.filter((p) => p.trait === trait);
  return (
    <figure className="chart" data-testid={`sweep-chart-${trait}`} data-steps={rows.length} aria-label={`${label}: dose-response`}>
      <figcaption>{label}: measures against steering strength</figcaption>
      <ComposedChart responsive style={{ width: '100%', height: 240 }} data={rows} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="strength" type="number" domain={['dataMin', 'dataMax']} fontSize={10} />
        <YAxis yAxisId="likert" domain={[1, 5]} fontSize={10} />
        <YAxis yAxisId="cal" orientation="right" domain={['auto', 'auto']} fontSize={10} />
        <Tooltip isAnimationActive={false} />
        <Legend wrapperStyle={{ fontSize: 11 }} />
        <Area yAxisId="likert" dataKey="inventoryBand" name="self-report spread" fill="#e67814" fillOpacity={0.2} stroke="none" isAnimationActive={false} />
        <Line yAxisId="likert" dataKey="inventory" name="self-report" stroke="#e67814" dot isAnimationActive={false} />
        <Area yAxisId="likert" dataKey="judgeBand" name="judge spread" fill="#2a9d8f" fillOpacity={0.2} stroke="none" isAnimationActive={false} />
        <Line yAxisId="likert" dataKey="judge" name="judge" stroke="#2a9d8f" dot isAnimationActive={false} />
        <Line yAxisId="cal" dataKey="reread" name="re-read" stroke="#6a4c93" strokeDasharray="4 2" dot isAnimationActive={false} />
        <Line yAxisId="cal" dataKey="inside" name="inside" stroke="#1d4ed8" strokeDasharray="2 2" dot isAnimationActive={false} />
        {personas.map((p) => (
          <ReferenceLine
            key={p.pole}
            yAxisId="likert"
            y={measureOf(p, 'inventory', trait)}
            stroke={p.pole === 'high' ? '#b45309' : '#64748b'}
            strokeDasharray="6 3"
            label={{ value: `${p.pole} persona`, fontSize: 10, position: 'insideTopLeft' }}
          />
        ))}
      </ComposedChart>
      {personas.length > 0 && (
        <p className="hint" data-testid={`sweep-personas-${trait}`}>
          Prompting (strength 0):{' '}
          {personas
            .map(
              (p) =>
                `${p.pole} persona → self-report ${measureOf(p, 'inventory', trait).toFixed(2)}, judge ${measureOf(p, 'judge', trait).toFixed(2)}, re-read ${measureOf(p, 'reread', trait).toFixed(2)}, inside ${measureOf(p, 'inside', trait).toFixed(2)}`,
            )
            .join('; ')}
        </p>
      )}
    </figure>
  );
}

/** Do self-report, behaviour and inside readout move together across the sweep? */
function IllusionView({ result, labels }: { result: SweepResult; labels: Record<string, string> }) {
  const rows = illusionRows(result);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  return (
    <div data-testid="illusion-view">
      <h3>Illusion view</h3>
      <table className="scores">
        <thead>
          <tr>
            <th>trait</th>
            <th title="Spearman ρ with the strength">self-report ρ</th>
            <th>judge ρ</th>
            <th>re-read ρ</th>
            <th>inside ρ</th>
            <th title="ρ between self-report and behaviour across the steps">self vs behaviour</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.trait} data-trait={r.trait}>
              <td>{labels[r.trait] ?? r.trait}</td>
              <td>{f(r.withStrength.inventory)}</td>
              <td>{f(r.withStrength.judge)}</td>
              <td>{f(r.withStrength.reread)}</td>
              <td>{f(r.withStrength.inside)}</td>
              <td>{f(r.selfVsBehaviour)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ul className="readings">
        {rows.map((r) => (
          <li key={r.trait} data-testid={`illusion-reading-${r.trait}`}>
            {r.reading.replace(new RegExp(`^${r.trait}`), labels[r.trait] ?? r.trait)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function SweepPanel({ actions }: { actions: Actions }) {
  const info = useApp((s) => s.info);
  const cfg = useApp((s) => s.sweepSettings);
  const status = useApp((s) => s.psychStatus);
  const sweeps = useApp((s) => (s.info ? s.sweeps[s.info.model] : undefined)) ?? NO_SWEEPS;
  const traits = useVisibleTraits();
  const [pick, setPick] = useState<string | null>(null);
  const result = sweeps.find((r) => r.startedAt === pick) ?? sweeps.at(-1) ?? null;
  const partner = result?.pair ? sweeps.find((r) => r.startedAt === result.pair) : undefined;
  const labels = useMemo(() => Object.fromEntries(traits.map((t) => [t.traitId, t.label])), [traits]);
  const st = appStore.getState();
  const running = status === 'running';
  return (
    <section className="panel" aria-labelledby="sweep-h">
      <h2 id="sweep-h">Dose-response sweep</h2>
      <fieldset className="row">
        <legend>Traits to sweep (one at a time, the others at 0)</legend>
        {traits.map((t) => (
          <label key={t.traitId}>
            <input
              type="checkbox"
              aria-label={`Sweep ${t.label}`}
              checked={cfg.traits.includes(t.traitId)}
              onChange={(e) => st.setSweepSettings({ traits: e.target.checked ? [...cfg.traits, t.traitId] : cfg.traits.filter((x) => x !== t.traitId) })}
            />
            {t.label}
          </label>
        ))}
      </fieldset>
      <div className="row">
        <label>
          From
          <input type="number" step="0.1" aria-label="Sweep from" value={cfg.min} onChange={(e) => st.setSweepSettings({ min: Number(e.target.value) })} />
        </label>
        <label>
          to
          <input type="number" step="0.1" aria-label="Sweep to" value={cfg.max} onChange={(e) => st.setSweepSettings({ max: Number(e.target.value) })} />
        </label>
        <label>
          steps
          <input type="number" step="1" aria-label="Sweep steps" value={cfg.steps} onChange={(e) => st.setSweepSettings({ steps: Number(e.target.value) })} />
        </label>
        <label>
          <input type="checkbox" checked={cfg.personas} onChange={(e) => st.setSweepSettings({ personas: e.target.checked })} />
          persona reference points
        </label>
        <label>
          Vectors
          <select aria-label="Sweep vectors" value={cfg.vectors} onChange={(e) => st.setSweepSettings({ vectors: e.target.value as typeof cfg.vectors })}>
            <option value="raw">raw</option>
            <option value="orthogonal">orthogonalised</option>
            <option value="both">both (compare)</option>
          </select>
        </label>
        <label>
          <input type="checkbox" checked={cfg.judgeSweptOnly} onChange={(e) => st.setSweepSettings({ judgeSweptOnly: e.target.checked })} />
          judge only the swept traits
        </label>
      </div>
      <label>
        Probe prompt (one greedy reply per step, then re-read and judged)
        <input type="text" aria-label="Probe prompt" value={cfg.probe} onChange={(e) => st.setSweepSettings({ probe: e.target.value })} />
      </label>
      <div className="row">
        <button type="button" disabled={!info || running} onClick={() => void actions.psych.runSweep()}>
          Run sweep
        </button>
        <button type="button" disabled={!running} onClick={() => void actions.psych.stop()}>
          Stop
        </button>
        {sweeps.length > 1 && (
          <select aria-label="Sweep result" value={result?.startedAt ?? ''} onChange={(e) => setPick(e.target.value)}>
            {sweeps.map((r) => (
              <option key={r.startedAt} value={r.startedAt}>
                {r.startedAt.replace(/\+.*$/, '')} · {r.config.traits.join(', ')} · {vectorsLabel(r)}
                {r.partial ? ' (partial)' : ''}
              </option>
            ))}
          </select>
        )}
        {result && (
          <>
            <button type="button" onClick={() => saveFile(actions.psych.exportSweep(result))}>
              Export summary JSON
            </button>
            <button type="button" onClick={() => saveFile(actions.psych.exportInventory('csv', 'sweep'))}>
              Export all prompts CSV
            </button>
          </>
        )}
      </div>
      <PsychStatusLine />
      {result && (
        <div data-testid="sweep-result" data-partial={String(result.partial)} data-vectors={result.vectors ?? 'raw'}>
          {partner && <p className="hint">Charts and the illusion view: {vectorsLabel(result)} (pick the other result above for its own).</p>}
          {result.config.traits.map((t) => (
            <DoseChart key={t} result={result} trait={t} label={labels[t] ?? t} />
          ))}
          <CrossTraitMatrices results={partner ? [result, partner] : [result]} labels={labels} />
          <IllusionView result={result} labels={labels} />
        </div>
      )}
    </section>
  );
}
