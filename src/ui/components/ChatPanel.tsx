import { appStore, useApp } from '../store';
import type { Actions } from '../actions';
import { useCalibrations } from '../use-scores';
import { ReplyMeasures } from './ReplyMeasures';
import { ReplyText } from './ReplyText';
import { SamplingControls } from './SamplingControls';
import { RecoveryOffers } from './RecoveryOffers';

/** The latest reply, coloured by the chosen trait when its token readout is at hand. */
function LatestReply({ fallback }: { fallback: string }) {
  const points = useApp((s) => s.points);
  const traitId = useApp((s) => s.colorTraitId);
  const calibrations = useCalibrations();
  if (!traitId || points.length === 0) return <span>{fallback}</span>;
  return <ReplyText points={points} traitId={traitId} calibrations={calibrations} />;
}

export function ChatPanel({ actions }: { actions: Actions }) {
  const draft = useApp((s) => s.draft);
  const notice = useApp((s) => s.chatNotice);
  const replySeed = useApp((s) => s.replySeed);
  const messages = useApp((s) => s.messages);
  const streaming = useApp((s) => s.streaming);
  const system = useApp((s) => s.systemPrompt);
  const error = useApp((s) => s.chatError);
  const errorDetail = useApp((s) => s.chatErrorDetail);
  const ready = useApp((s) => s.modelStatus === 'ready' || s.info !== null);
  const comparing = useApp((s) => s.compareStatus === 'running');
  const result = useApp((s) => s.lastResult);
  const checking = useApp((s) => s.checkStatus === 'running');
  const busy = streaming !== null || comparing || checking;
  const lastAssistant = streaming === null && messages.at(-1)?.role === 'assistant' ? messages.length - 1 : -1;
  return (
    <section className="panel chat" aria-labelledby="chat-h">
      <h2 id="chat-h">Chat</h2>
      <label>
        System prompt
        <textarea value={system} rows={2} onChange={(e) => appStore.getState().setSystemPrompt(e.target.value)} />
      </label>
      <SamplingControls />
      <ol className="messages" aria-live="polite">
        {messages.map((m, i) => (
          <li key={i} className={m.role}>
            <b>{m.role}</b> {i === lastAssistant ? <LatestReply fallback={m.content} /> : <span>{m.content}</span>}
            {m.role === 'assistant' && <ReplyMeasures index={i} content={m.content} actions={actions} />}
          </li>
        ))}
        {streaming !== null && (
          <li className="assistant streaming" data-testid="streaming">
            <b>assistant</b> <LatestReply fallback={streaming} />
          </li>
        )}
      </ol>
      {notice && (
        <p className="notice" role="status" data-testid="chat-notice">
          {notice}
        </p>
      )}
      {error && (
        <div data-testid="chat-error">
          <p className="error" role="alert">
            {error}
          </p>
          <RecoveryOffers actions={actions} detail={errorDetail} />
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!draft.trim() || busy) return;
          void actions.chat.sendDraft();
        }}
      >
        <textarea
          aria-label="Message"
          value={draft}
          rows={2}
          onChange={(e) => appStore.getState().setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
          placeholder={ready ? 'Say something… (Enter sends, Shift+Enter new line)' : 'Load a model first'}
        />
        <div className="row">
          <button type="submit" disabled={!ready || busy}>
            Send
          </button>
          <button type="button" disabled={streaming === null} onClick={() => void actions.chat.stop()}>
            Stop
          </button>
          <button type="button" disabled={!ready || busy || !messages.some((m) => m.role === 'user')} onClick={() => void actions.chat.regenerate()}>
            Regenerate
          </button>
          <button type="button" disabled={busy} onClick={() => void actions.chat.clear()}>
            Clear
          </button>
        </div>
      </form>
      {result && (
        <p className="hint" data-testid="result">
          {result.finishReason} · prompt {result.promptTokens} tokens ({result.prefillTokens} run, rest from cache) · {result.generatedTokens} generated
          {replySeed !== null ? ` · seed ${replySeed}` : ''}
        </p>
      )}
    </section>
  );
}
