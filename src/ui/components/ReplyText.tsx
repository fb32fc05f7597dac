import { memo } from 'react';
import { score } from '../../traits/calibration';
import { scoreColor, type Calibrations } from '../scores';
import type { TokenPoint } from '../store/metrics-slice';

interface Props {
  points: readonly TokenPoint[];
  traitId: string;
  calibrations: Calibrations;
}

/** The reply token by token, each token's background coloured by one trait's score. */
export const ReplyText = memo(function ReplyText({ points, traitId, calibrations }: Props) {
  const cal = calibrations[traitId];
  return (
    <span className="reply-tokens" data-testid="reply-tokens">
      {points.map((p) => {
        const proj = p.projections[traitId];
        const s = proj && cal ? score(proj.post, cal) : undefined;
        return (
          <span key={p.index} style={{ background: scoreColor(s) }} title={s === undefined ? undefined : `${s.toFixed(2)}`}>
            {p.text}
          </span>
        );
      })}
    </span>
  );
});
