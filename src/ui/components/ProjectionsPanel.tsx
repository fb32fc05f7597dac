import { score } from '../../traits/calibration';
import { useApp } from '../store';
import { useCalibrations, useVisibleTraits } from '../use-scores';

/** Live readout: per trait, the projection on its direction for the latest token, and its score. */
export function ProjectionsPanel() {
  const last = useApp((s) => s.points.at(-1));
  const traits = useVisibleTraits();
  const calibrations = useCalibrations();
  return (
    <details className="panel readout">
      <summary>
        <h2 id="proj-h">Readout of the latest token</h2>
      </summary>
      <table className="projections" data-testid="projections" aria-labelledby="proj-h">
        <thead>
          <tr>
            <th>Trait</th>
            <th>before steering</th>
            <th>after steering</th>
            <th>score</th>
          </tr>
        </thead>
        <tbody>
          {traits.map((t) => {
            const p = last?.projections[t.traitId];
            const c = calibrations[t.traitId];
            return (
              <tr key={t.traitId} data-trait={t.traitId}>
                <td>{t.label}</td>
                <td className="num">{p ? p.pre.toFixed(3) : '–'}</td>
                <td className="num">{p ? p.post.toFixed(3) : '–'}</td>
                <td className="num">{p && c ? score(p.post, c).toFixed(2) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}
