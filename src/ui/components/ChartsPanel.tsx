import { useApp } from '../store';
import { useCalibrations, useVisibleTraits } from '../use-scores';
import { ProfileRadar } from './charts/ProfileRadar';
import { ScoreChart } from './charts/ScoreChart';

/** Live per-token scores of the latest reply, the colour-by choice, and the reply's profile. */
export function ChartsPanel() {
  const points = useApp((s) => s.points);
  const colorTraitId = useApp((s) => s.colorTraitId);
  const setColorTrait = useApp((s) => s.setColorTrait);
  const compareBase = useApp((s) => (s.compareStatus === 'done' ? s.compareRuns.unsteered.points : null));
  const traits = useVisibleTraits();
  const calibrations = useCalibrations();
  const tps = useApp((s) => s.tokensPerSecond);
  return (
    <section className="panel" aria-labelledby="charts-h">
      <h2 id="charts-h">Trait scores</h2>
      <ScoreChart points={points} traits={traits} calibrations={calibrations} title="Per-token score of the latest reply" testId="score-chart" />
      <div className="row">
        <label>
          Colour the reply by
          <select value={colorTraitId ?? ''} onChange={(e) => setColorTrait(e.target.value || null)}>
            <option value="">no colouring</option>
            {traits.map((t) => (
              <option key={t.traitId} value={t.traitId}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <span className="hint">
          {points.length} tokens{tps ? ` · ${tps.toFixed(1)} tokens/s` : ''}
        </span>
      </div>
      <ProfileRadar points={points} baseline={compareBase} traits={traits} calibrations={calibrations} />
    </section>
  );
}
