import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { SeparationSummary } from '../../../traits/vector-json';

/** Per-layer separation of a trait's extraction (effect size per residual layer). */
export function SeparationChart({ separation, bestLayer, label }: { separation: Record<number, SeparationSummary>; bestLayer?: number; label: string }) {
  const data = Object.entries(separation)
    .map(([layer, s]) => ({ layer: Number(layer), effect: Number.isFinite(s.effectSize) ? s.effectSize : 10, accuracy: s.accuracy }))
    .sort((a, b) => a.layer - b.layer);
  return (
    <figure className="separation" aria-label={`${label}: separation per layer`}>
      <BarChart width={260} height={120} data={data} margin={{ top: 4, right: 4, bottom: 0, left: -20 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="layer" fontSize={10} />
        <YAxis fontSize={10} />
        <Tooltip formatter={(v, name) => [Number(v).toFixed(2), name === 'effect' ? 'effect size' : String(name)]} labelFormatter={(l) => `layer ${l}`} />
        <Bar dataKey="effect" fill="#4b5fd6" isAnimationActive={false} />
      </BarChart>
      <figcaption className="hint">Separation (effect size) per layer{bestLayer !== undefined ? `; best: layer ${bestLayer}` : ''}.</figcaption>
    </figure>
  );
}
