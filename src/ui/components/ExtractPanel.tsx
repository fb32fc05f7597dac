import { useApp } from '../store';
import type { Actions } from '../actions';
import { MAX_RESPONSE_TOKENS, POSITION_LABELS, type PositionMode } from '../../traits/prompts';
import { NumberField } from './NumberField';

const CHOICES: { mode: PositionMode; hint: string }[] = [
  { mode: 'last', hint: 'the last prompt token, just before the reply (fast)' },
  { mode: 'response', hint: "the model's own short reply under each persona (slower: it writes the replies first)" },
];

/** Runs trait extraction on the loaded model (the built-in persona datasets), with progress. */
export function ExtractPanel({ actions }: { actions: Actions }) {
  const ready = useApp((s) => s.info !== null);
  const status = useApp((s) => s.extractStatus);
  const msg = useApp((s) => s.extractMessage);
  const done = useApp((s) => s.extractDone);
  const total = useApp((s) => s.extractTotal);
  const quick = useApp((s) => s.extractQuick);
  const setQuick = useApp((s) => s.setExtractQuick);
  const busy = useApp((s) => s.streaming !== null || s.compareStatus === 'running');
  const stopping = useApp((s) => s.extractStopping);
  const positions = useApp((s) => s.extractPositions);
  const replyTokens = useApp((s) => s.extractResponseTokens);
  const setPositions = useApp((s) => s.setExtractPositions);
  const setReplyTokens = useApp((s) => s.setExtractResponseTokens);
  const running = status === 'running';
  const tone = status === 'error' ? 'error' : status === 'stopped' ? 'notice' : 'hint';
  return (
    <div className="extract" data-testid="extract">
      <div className="row">
        <button type="button" disabled={!ready || busy || running} onClick={() => void actions.traits.extract()}>
          {running ? 'Extracting…' : 'Extract all trait vectors'}
        </button>
        {running && (
          <button type="button" disabled={stopping} onClick={() => void actions.traits.stop()}>
            {stopping ? 'Stopping after this prompt…' : 'Stop extraction'}
          </button>
        )}
        <label className="check">
          <input type="checkbox" checked={quick} onChange={(e) => setQuick(e.target.checked)} disabled={running} />
          quick (fewer prompts)
        </label>
      </div>
      <div className="row">
        <label>
          Vector from
          <select aria-label="Extraction token positions" value={positions} disabled={running} onChange={(e) => setPositions(e.target.value as PositionMode)}>
            {CHOICES.map((c) => (
              <option key={c.mode} value={c.mode} title={c.hint}>
                {POSITION_LABELS[c.mode]}
              </option>
            ))}
          </select>
        </label>
        {positions === 'response' && (
          <NumberField
            label="Reply tokens per prompt"
            value={replyTokens}
            min={1}
            max={MAX_RESPONSE_TOKENS}
            disabled={running}
            onChange={(v) => setReplyTokens(Math.round(v))}
          />
        )}
      </div>
      <p className="hint">
        Averages {CHOICES.find((c) => c.mode === positions)?.hint ?? POSITION_LABELS[positions]}. Each extraction is kept: pick the vector per trait under its
        Advanced.
      </p>
      {!ready && <p className="hint">Load a model to extract real trait directions; until then sliders use random demo directions.</p>}
      {running && total > 0 && <progress aria-label="Extraction progress" value={done} max={total} />}
      {msg && (
        <p className={tone} role={status === 'error' ? 'alert' : 'status'} data-testid="extract-status" data-status={status}>
          {msg}
        </p>
      )}
    </div>
  );
}
