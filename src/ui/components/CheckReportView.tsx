/** "Check this model" in the Model panel: the button, the report (numbers and thresholds) and its JSON export. */
import type { Actions } from '../actions';
import { useApp } from '../store';
import { saveDownload } from '../actions/vector-files';
import type { CheckItem } from '../../protocol/check';

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

function CheckRow({ c }: { c: CheckItem }) {
  return (
    <tr className={c.passed ? 'pass' : 'fail'} data-check={c.id}>
      <td>{c.passed ? '✓' : '✗'}</td>
      <td>{c.label}</td>
      <td>
        {fmt(c.value)} {c.bound === 'max' ? '≤' : '≥'} {fmt(c.threshold)}
      </td>
      <td className="hint">{c.detail}</td>
    </tr>
  );
}

export function CheckReportView({ actions }: { actions: Actions }) {
  const report = useApp((s) => s.checkReport);
  const status = useApp((s) => s.checkStatus);
  const error = useApp((s) => s.checkError);
  const ready = useApp((s) => s.info !== null && s.modelStatus === 'ready');
  const busy = useApp((s) => s.streaming !== null || s.compareStatus === 'running' || s.extractStatus === 'running');
  return (
    <div className="self-check" data-testid="self-check">
      <div className="row">
        <button type="button" disabled={!ready || busy || status === 'running'} onClick={() => void actions.session.check()}>
          {status === 'running' ? 'Checking…' : 'Check this model'}
        </button>
        {report && (
          <button
            type="button"
            onClick={() => {
              const d = actions.session.checkReportDownload();
              if (d) saveDownload(d);
            }}
          >
            Export report (JSON)
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {report && (
        <>
          <p className={report.passed ? 'notice' : 'error'} role="status" data-testid="check-summary">
            {report.passed ? 'Self-check passed' : `Self-check failed: ${report.failed.length} of ${report.checks.length} checks`} on {report.device} ·{' '}
            {report.dtype} · cut after {report.cutLayers.join(', ')} · {report.promptTokens}-token prompt, {report.steps} greedy tokens ·{' '}
            {report.cached ? `cached from ${report.ranAt}` : `${(report.ms / 1000).toFixed(1)} s`}
          </p>
          <table className="check-table">
            <tbody>
              {report.checks.map((c) => (
                <CheckRow key={c.id} c={c} />
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
