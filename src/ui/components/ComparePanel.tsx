import { useMemo, useState } from 'react';
import { sharedScoreScale, type Scale } from '../chart-scale';
import { scoreRows } from '../scores';
import { useApp } from '../store';
import type { Actions } from '../actions';
import type { CompareSide } from '../store/compare-slice';
import { useCalibrations, useVisibleTraits } from '../use-scores';
import { ScoreChart } from './charts/ScoreChart';

const TITLE: Record<CompareSide, string> = { unsteered: 'Unsteered', steered: 'Steered' };

function CompareColumn({ side, scale }: { side: CompareSide; scale: Scale }) {
  const run = useApp((s) => s.compareRuns[side]);
  const active = useApp((s) => s.comparePhase === side);
  const traits = useVisibleTraits();
  const calibrations = useCalibrations();
  return (
    <div className="compare-col" data-testid={`compare-${side}`}>
      <h3>
        {TITLE[side]}
        {active ? ' …' : ''}
      </h3>
      <p className="compare-text">{run.text || (active ? '' : '(no visible text)')}</p>
      <ScoreChart
        points={run.points}
        traits={traits}
        calibrations={calibrations}
        title={`${TITLE[side]} per-token scores`}
        height={180}
        legend={false}
        testId={`compare-chart-${side}`}
        scale={scale}
      />
    </div>
  );
}

/** The same prompt and seed, unsteered and steered, side by side. */
export function ComparePanel({ actions }: { actions: Actions }) {
  const [prompt, setPrompt] = useState('Tell me about your weekend.');
  const status = useApp((s) => s.compareStatus);
  const error = useApp((s) => s.compareError);
  const ready = useApp((s) => s.info !== null);
  const chatBusy = useApp((s) => s.streaming !== null);
  const seed = useApp((s) => s.sampling.seed);
  const runs = useApp((s) => s.compareRuns);
  const traits = useVisibleTraits();
  const calibrations = useCalibrations();
  // Both traces on one y-scale, so the difference steering makes is visible at a glance.
  const scale = useMemo(
    () =>
      sharedScoreScale(
        [scoreRows(runs.unsteered.points, calibrations), scoreRows(runs.steered.points, calibrations)],
        traits.map((t) => t.traitId),
      ),
    [runs, calibrations, traits],
  );
  return (
    <section className="panel" aria-labelledby="compare-h">
      <h2 id="compare-h">Compare: unsteered vs steered</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.compare.run(prompt);
        }}
      >
        <label className="grow">
          Compare prompt
          <input value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <button type="submit" disabled={!ready || chatBusy || status === 'running' || !prompt.trim()}>
          {status === 'running' ? 'Comparing…' : 'Compare'}
        </button>
        {status === 'running' && (
          <button type="button" onClick={() => void actions.compare.stop()}>
            Stop compare
          </button>
        )}
      </form>
      <p className="hint">
        Same prompt and seed ({seed}), the KV cache reset before each run; the current system prompt and sampling settings are used. Both charts share one
        y-scale.
      </p>
      {status === 'stopped' && (
        <p className="notice" role="status">
          Compare stopped: what ran so far is shown below. Press Compare to run it again.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {status !== 'idle' && (
        <div className="compare-grid">
          <CompareColumn side="unsteered" scale={scale} />
          <CompareColumn side="steered" scale={scale} />
        </div>
      )}
    </section>
  );
}
