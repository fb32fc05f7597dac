/**
 * The cross-trait matrix of a sweep (steering trait i → change of every trait j's score per
 * unit strength), and, for a raw/orthogonalised pair of sweeps, both matrices side by side with
 * the mean off-diagonal effect of each: does orthogonalising the vectors reduce the spill-over?
 */
import { useState } from 'react';
import { crossTraitMatrix, type MeasureName, type SweepResult } from '../../traits/psychometrics/sweep';

export const MEASURES: { id: MeasureName; label: string }[] = [
  { id: 'inventory', label: 'self-report (1–5)' },
  { id: 'judge', label: 'judge (1–5)' },
  { id: 'reread', label: 're-read (calibrated)' },
  { id: 'inside', label: 'inside (calibrated)' },
];

function cellColor(x: number): string {
  if (!Number.isFinite(x)) return 'transparent';
  const a = Math.min(1, Math.abs(x)) * 0.5;
  return x >= 0 ? `rgba(230, 120, 20, ${a.toFixed(3)})` : `rgba(40, 100, 220, ${a.toFixed(3)})`;
}

export const vectorsLabel = (r: SweepResult) => (r.vectors === 'orthogonal' ? 'orthogonalised vectors' : 'raw vectors');

/** Mean |slope| off the diagonal (trait i steered → another trait j's score); NaN when there is none. */
export function offDiagonal(result: SweepResult, measure: MeasureName, traits: readonly string[]): number {
  const m = crossTraitMatrix(result, measure, traits);
  const xs = m.swept.flatMap((i, r) => m.slopes[r].filter((x, c) => m.traits[c] !== i && Number.isFinite(x)).map(Math.abs));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function Matrix({ result, labels, measure, testId }: { result: SweepResult; labels: Record<string, string>; measure: MeasureName; testId: string }) {
  const m = crossTraitMatrix(result, measure, Object.keys(labels));
  return (
    <table className="scores matrix" data-testid={testId} data-vectors={result.vectors ?? 'raw'}>
      <caption>{vectorsLabel(result)}</caption>
      <thead>
        <tr>
          <th title="steered trait → change of each trait's score per unit strength">steer ↓ / score →</th>
          {m.traits.map((t) => (
            <th key={t} scope="col">
              {labels[t] ?? t}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {m.swept.map((i, r) => (
          <tr key={i}>
            <th scope="row">{labels[i] ?? i}</th>
            {m.slopes[r].map((x, c) => (
              <td key={c} data-trait={m.traits[c]} style={{ background: cellColor(x) }}>
                {Number.isFinite(x) ? x.toFixed(2) : '–'}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One sweep's matrix, or a raw/orthogonalised pair side by side (raw first). */
export function CrossTraitMatrices({ results, labels }: { results: SweepResult[]; labels: Record<string, string> }) {
  const [measure, setMeasure] = useState<MeasureName>('inventory');
  const sorted = [...results].sort((a, b) => Number(a.vectors === 'orthogonal') - Number(b.vectors === 'orthogonal'));
  const traits = Object.keys(labels);
  const off = sorted.map((r) => offDiagonal(r, measure, traits));
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  return (
    <div>
      <label>
        Cross-trait matrix of
        <select value={measure} onChange={(e) => setMeasure(e.target.value as MeasureName)}>
          {MEASURES.map((x) => (
            <option key={x.id} value={x.id}>
              {x.label}
            </option>
          ))}
        </select>
      </label>
      <div className="row matrices">
        {sorted.map((r, k) => (
          <Matrix key={r.startedAt} result={r} labels={labels} measure={measure} testId={k === 0 ? 'cross-trait-matrix' : 'cross-trait-matrix-orthogonal'} />
        ))}
      </div>
      {sorted.length === 2 && (
        <p className="hint" data-testid="cross-trait-comparison">
          Mean off-diagonal effect (|slope| of another trait&apos;s score per unit strength): raw {f(off[0])}, orthogonalised {f(off[1])}
          {Number.isFinite(off[0]) && Number.isFinite(off[1])
            ? off[1] < off[0]
              ? ' — orthogonalising reduced the spill-over.'
              : ' — orthogonalising did not reduce the spill-over.'
            : '.'}
        </p>
      )}
    </div>
  );
}
