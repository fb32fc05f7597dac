import { useApp } from '../store';

/** Live readout: per trait, the projection of the residual on its direction for the latest token. */
export function ProjectionsPanel() {
  const points = useApp((s) => s.points);
  const traits = useApp((s) => s.traits);
  const tps = useApp((s) => s.tokensPerSecond);
  const last = points[points.length - 1];
  return (
    <section className="panel" aria-labelledby="proj-h">
      <h2 id="proj-h">Trait readout</h2>
      <table className="projections" data-testid="projections">
        <thead>
          <tr>
            <th>Trait</th>
            <th>before steering</th>
            <th>after steering</th>
          </tr>
        </thead>
        <tbody>
          {traits.map((t) => {
            const p = last?.projections[t.traitId];
            return (
              <tr key={t.traitId} data-trait={t.traitId}>
                <td>{t.label}</td>
                <td className="num">{p ? p.pre.toFixed(3) : '–'}</td>
                <td className="num">{p ? p.post.toFixed(3) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="hint">
        {points.length} tokens{tps ? ` · ${tps.toFixed(1)} tokens/s` : ''}
      </p>
    </section>
  );
}
