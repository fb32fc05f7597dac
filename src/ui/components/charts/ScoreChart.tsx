import { useDeferredValue, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { Scale } from '../../chart-scale';
import { scoreRows, type Calibrations } from '../../scores';
import type { TokenPoint } from '../../store/metrics-slice';
import type { TraitEntry } from '../../store/steering-slice';
import { traitColor } from '../../trait-colors';

interface Props {
  points: readonly TokenPoint[];
  traits: readonly TraitEntry[];
  calibrations: Calibrations;
  title: string;
  height?: number;
  testId?: string;
  legend?: boolean;
  /** A y-scale shared with other charts (compare); default: fitted to this chart's scores. */
  scale?: Scale;
}

function TokenTooltip({
  active,
  payload,
}: {
  active?: boolean;
  payload?: readonly { payload?: { token?: string; index?: number }; name?: string | number; value?: unknown; color?: string }[];
}) {
  if (!active || !payload?.length) return null;
  const row = payload[0].payload;
  return (
    <div className="chart-tip">
      <div>
        token {row?.index}: <code>{JSON.stringify(row?.token ?? '')}</code>
      </div>
      {payload.map((p) => (
        <div key={String(p.name)} style={{ color: p.color }}>
          {p.name}: {Number(p.value).toFixed(2)}
        </div>
      ))}
    </div>
  );
}

/** Calibrated score per generated token, one line per trait; hover shows the token. */
export function ScoreChart({ points, traits, calibrations, title, height = 220, testId, legend = true, scale }: Props) {
  // Deferred: while tokens stream in, React may skip intermediate chart renders.
  const deferred = useDeferredValue(points);
  const rows = useMemo(() => scoreRows(deferred, calibrations), [deferred, calibrations]);
  return (
    <figure className="chart" data-testid={testId} data-points={points.length} aria-label={title}>
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p className="hint">No tokens yet.</p>
      ) : (
        <LineChart responsive style={{ width: '100%', height }} data={rows} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="index" fontSize={10} />
          {scale ? <YAxis fontSize={10} domain={scale.domain} ticks={scale.ticks} /> : <YAxis fontSize={10} domain={['auto', 'auto']} />}
          <ReferenceLine y={0} stroke="#99a" />
          <Tooltip content={<TokenTooltip />} isAnimationActive={false} />
          {legend && <Legend wrapperStyle={{ fontSize: 11 }} />}
          {traits.map((t, i) => (
            <Line
              key={t.traitId}
              dataKey={t.traitId}
              name={t.label}
              stroke={traitColor(i)}
              dot={false}
              isAnimationActive={false}
              strokeWidth={1.5}
              connectNulls
            />
          ))}
        </LineChart>
      )}
    </figure>
  );
}
