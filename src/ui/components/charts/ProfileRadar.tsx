import { useDeferredValue, useMemo } from 'react';
import { Legend, PolarAngleAxis, PolarGrid, PolarRadiusAxis, Radar, RadarChart, Tooltip } from 'recharts';
import { radarScale } from '../../chart-scale';
import { meanProfile, type Calibrations } from '../../scores';
import type { TokenPoint } from '../../store/metrics-slice';
import type { TraitEntry } from '../../store/steering-slice';

interface Props {
  points: readonly TokenPoint[];
  /** Baseline: an unsteered run's points (compare); else the same points' "before steering" readout. */
  baseline: readonly TokenPoint[] | null;
  traits: readonly TraitEntry[];
  calibrations: Calibrations;
}

/** Mean score per trait of the reply (after steering) against the unsteered baseline. */
export function ProfileRadar({ points, baseline, traits, calibrations }: Props) {
  const deferred = useDeferredValue(points);
  const data = useMemo(() => {
    const steered = meanProfile(deferred, calibrations, 'post');
    const base = baseline ? meanProfile(baseline, calibrations, 'post') : meanProfile(deferred, calibrations, 'pre');
    return traits.filter((t) => steered[t.traitId] !== undefined).map((t) => ({ trait: t.label, steered: steered[t.traitId], baseline: base[t.traitId] ?? 0 }));
  }, [deferred, baseline, traits, calibrations]);
  // The radius starts below the smallest score: a negative profile (or a baseline at 0) would
  // otherwise sit in the centre, invisible.
  const scale = useMemo(() => radarScale(data.flatMap((d) => [d.steered, d.baseline])), [data]);
  return (
    <figure className="chart" data-testid="radar" aria-label="Mean trait profile of the reply">
      <figcaption>Reply profile vs {baseline ? 'unsteered compare run' : 'before steering'}</figcaption>
      {data.length < 3 ? (
        <p className="hint">The profile appears after a reply with at least three traits read out.</p>
      ) : (
        <RadarChart responsive style={{ width: '100%', height: 260 }} data={data} outerRadius="70%">
          <PolarGrid />
          <PolarAngleAxis dataKey="trait" fontSize={10} />
          <PolarRadiusAxis fontSize={9} domain={scale.domain} ticks={scale.ticks} />
          <Radar name="steered" dataKey="steered" stroke="#e0662a" fill="#e0662a" fillOpacity={0.3} isAnimationActive={false} />
          {/* Drawn last, dashed and unfilled: visible even where it coincides with the steered profile. */}
          <Radar
            name={baseline ? 'unsteered (compare)' : 'before steering'}
            dataKey="baseline"
            className="radar-baseline"
            stroke="#334"
            strokeWidth={2}
            strokeDasharray="5 3"
            fill="none"
            dot={{ r: 2.5, fill: '#334' }}
            isAnimationActive={false}
          />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => Number(v).toFixed(2)} />
        </RadarChart>
      )}
    </figure>
  );
}
