import type { Actions } from '../actions';
import { useApp } from '../store';
import { useVisibleTraits } from '../use-scores';

function fmt(x: number | undefined, digits = 2, signed = true): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return (signed && x > 0 ? '+' : '') + x.toFixed(digits);
}

/**
 * Under a reply: the inside readout (what the steering did to the residual while it was
 * written) beside two behaviour measures by the unsteered model — the re-read of the reply and
 * a judge rating — so their disagreement is visible.
 */
export function ReplyMeasures({ index, content, actions }: { index: number; content: string; actions: Actions }) {
  const stored = useApp((s) => s.replyMeasures[index]);
  // Measures of an earlier reply at this position (the chat was edited since) do not apply.
  const m = stored?.content === content ? stored : undefined;
  const busy = useApp((s) => s.psychStatus === 'running' || s.streaming !== null || s.compareStatus === 'running' || s.extractStatus === 'running');
  const traits = useVisibleTraits();
  if (!m || m.status === 'error') {
    return (
      <div className="reply-measures" data-testid={`reply-measures-${index}`}>
        <button type="button" disabled={busy} onClick={() => void actions.psych.measureReply(index)}>
          Measure this reply
        </button>
        {m?.error && <span className="error"> {m.error}</span>}
      </div>
    );
  }
  if (m.status === 'running') {
    return (
      <div className="reply-measures hint" data-testid={`reply-measures-${index}`}>
        Re-reading and judging with steering off…
      </div>
    );
  }
  return (
    <table className="scores reply-measures" data-testid={`reply-measures-${index}`} data-status="done">
      <thead>
        <tr>
          <th>trait</th>
          <th title="calibrated readout while the reply was generated, after steering (−1 low persona … +1 high persona)">inside</th>
          <th title="the reply re-read by the unsteered model, calibrated like the inside score">re-read</th>
          <th title="the unsteered model rates the reply 1–5 (mean over option orders and templates)">judge</th>
        </tr>
      </thead>
      <tbody>
        {traits.map((t) => (
          <tr key={t.traitId} data-trait={t.traitId}>
            <td>{t.label}</td>
            <td data-measure="inside">{fmt(m.inside?.[t.traitId])}</td>
            <td data-measure="reread">{fmt(m.reread?.[t.traitId])}</td>
            <td data-measure="judge">{fmt(m.judge?.[t.traitId]?.mean, 2, false)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
