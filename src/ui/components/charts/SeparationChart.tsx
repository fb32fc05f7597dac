import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { POSITION_LABELS, type PositionMode } from '../../../traits/prompts';
import type { SeparationSummary } from '../../../traits/vector-json';
import type { SeparationCurve } from '../../store/steering-slice';

const COLORS: Record<PositionMode, string> = { last: '#4b5fd6', 'reply-prompt': '#7a8b99', response: '#d6704b' };

/** Infinite effect sizes (constant classes) are drawn at 10. */
const shown = (d: number): number => (Number.isFinite(d) ? d : 10);

/**
 * Per-layer separation of a trait's extraction (effect size per residual layer): bars for one
 * extraction, one labelled line per extraction method when there are several (prompt tokens vs
 * response tokens), so the user can see which vector separates better before picking it.
 */
export function SeparationChart({
  separation,
  bestLayer,
  label,
  curves,
  inUse,
}: {
  separation: Record<number, SeparationSummary>;
  bestLayer?: number;
  label: string;
  curves?: Partial<Record<PositionMode, SeparationCurve>>;
  inUse?: PositionMode;
}) {
  const modes = Object.keys(curves ?? {}) as PositionMode[];
  if (curves && modes.length > 1) {
    const layers = [...new Set(modes.flatMap((m) => Object.keys(curves[m]!.separation).map(Number)))].sort((a, b) => a - b);
    const data = layers.map((layer) => ({ layer, ...Object.fromEntries(modes.map((m) => [m, shown(curves[m]!.separation[layer]?.effectSize ?? NaN)])) }));
    const best = modes.map((m) => {
      const c = curves[m]!;
      const d = c.separation[c.bestLayer]?.effectSize;
      return `${POSITION_LABELS[m]}: best layer ${c.bestLayer}${d !== undefined ? ` (d = ${d.toFixed(2)})` : ''}`;
    });
    return (
      <figure className="separation" aria-label={`${label}: separation per layer`} data-curves={modes.join(' ')}>
        <LineChart width={260} height={140} data={data} margin={{ top: 4, right: 4, bottom: 0, left: -20 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="layer" fontSize={10} />
          <YAxis fontSize={10} />
          <Tooltip formatter={(v, name) => [Number(v).toFixed(2), String(name)]} labelFormatter={(l) => `layer ${l}`} />
          <Legend wrapperStyle={{ fontSize: 10 }} />
          {modes.map((m) => (
            <Line key={m} dataKey={m} name={POSITION_LABELS[m]} stroke={COLORS[m]} strokeWidth={m === inUse ? 2.5 : 1.5} dot isAnimationActive={false} />
          ))}
        </LineChart>
        <figcaption className="hint">
          Separation (effect size) per layer; {best.join('; ')}
          {inUse ? `. In use: ${POSITION_LABELS[inUse]}.` : '.'}
        </figcaption>
      </figure>
    );
  }
  const data = Object.entries(separation)
    .map(([layer, s]) => ({ layer: Number(layer), effect: shown(s.effectSize), accuracy: s.accuracy }))
    .sort((a, b) => a.layer - b.layer);
  return (
    <figure className="separation" aria-label={`${label}: separation per layer`} data-curves={modes.join(' ')}>
      <BarChart width={260} height={120} data={data} margin={{ top: 4, right: 4, bottom: 0, left: -20 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="layer" fontSize={10} />
        <YAxis fontSize={10} />
        <Tooltip formatter={(v, name) => [Number(v).toFixed(2), name === 'effect' ? 'effect size' : String(name)]} labelFormatter={(l) => `layer ${l}`} />
        <Bar dataKey="effect" fill={COLORS[inUse ?? 'last']} isAnimationActive={false} />
      </BarChart>
      <figcaption className="hint">
        Separation (effect size) per layer{inUse ? ` from ${POSITION_LABELS[inUse]}` : ''}
        {bestLayer !== undefined ? `; best: layer ${bestLayer}` : ''}.
      </figcaption>
    </figure>
  );
}
