/**
 * "Trait geometry": the cosine matrix of the trait vectors in use (a heat-map table with the
 * numbers), a one-line reading against what random directions in this hidden size give, and
 * the switch that steers every trait orthogonalised against the other traits' vectors.
 */
import type { Actions } from '../actions';
import { useApp } from '../store';

function cellColor(c: number | null): string {
  if (c === null || !Number.isFinite(c)) return 'transparent';
  const a = Math.min(1, Math.abs(c)) * 0.6;
  return c >= 0 ? `rgba(230, 120, 20, ${a.toFixed(3)})` : `rgba(40, 100, 220, ${a.toFixed(3)})`;
}

export function GeometryPanel({ actions }: { actions: Actions }) {
  const g = useApp((s) => s.geometry);
  const info = useApp((s) => s.info);
  const orthogonal = useApp((s) => s.orthogonal);
  const traits = useApp((s) => s.traits);
  const measuring = useApp((s) => s.psychStatus === 'running');
  if (!info || !g) return null;
  const leftOutLabels = g.leftOut.map((id) => traits.find((t) => t.traitId === id)?.label ?? id);
  return (
    <section className="panel" aria-labelledby="geometry-h">
      <h2 id="geometry-h">Trait geometry</h2>
      <p className="hint" data-testid="geometry-reading">
        {g.reading}
      </p>
      {g.rows.length > 0 && (
        <>
          <p className="hint">
            {g.oneLayer
              ? `Cosines between the trait vectors at the steering layer (${g.rows[0].layer}).`
              : "Each row is compared at the row trait's steering layer (its layer column), using every trait's vector at that layer; n/a = that trait has no vector there, so the table need not be symmetric."}{' '}
            “kept” = the share of a vector left after removing its components along the others.
          </p>
          <table className="scores matrix" data-testid="geometry-matrix">
            <caption>Cosine similarity of trait vectors (1 = same direction, 0 = orthogonal)</caption>
            <thead>
              <tr>
                <th scope="col">trait</th>
                <th scope="col">layer</th>
                {g.labels.map((l, j) => (
                  <th key={g.ids[j]} scope="col">
                    {l}
                  </th>
                ))}
                <th scope="col">kept</th>
              </tr>
            </thead>
            <tbody>
              {g.rows.map((r) => (
                <tr key={r.traitId} data-trait={r.traitId}>
                  <th scope="row">{r.label}</th>
                  <td>{r.layer}</td>
                  {r.cos.map((c, j) => (
                    <td key={g.ids[j]} data-trait={g.ids[j]} data-cos={c ?? ''} style={{ background: cellColor(c) }}>
                      {c === null ? 'n/a' : c.toFixed(3)}
                    </td>
                  ))}
                  <td data-kept={r.kept ?? ''}>{r.kept === null ? '–' : r.degenerate ? '0 % (in the span)' : `${(100 * r.kept).toFixed(1)} %`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {leftOutLabels.length > 0 && <p className="hint">Left out (no vector yet, demo direction): {leftOutLabels.join(', ')}.</p>}
      <label>
        <input
          type="checkbox"
          aria-label="Steer orthogonalised"
          checked={orthogonal}
          disabled={measuring}
          onChange={(e) => void actions.steering.setOrthogonal(e.target.checked)}
        />
        Steer orthogonalised: each trait pushes along its vector minus its components along the other traits&apos; vectors at its layer (same length, so
        strengths keep their meaning; readouts stay on the raw vectors).
      </label>
      {orthogonal && g.rows.some((r) => r.degenerate) && (
        <p className="error" role="alert">
          {g.rows
            .filter((r) => r.degenerate)
            .map((r) => r.label)
            .join(', ')}{' '}
          lies in the span of the other vectors: orthogonalised, it has nothing left to steer with.
        </p>
      )}
    </section>
  );
}
