import { useState } from 'react';
import { appStore, useApp } from '../store';
import type { Controller } from '../controller';

function SamplingControls() {
  const sampling = useApp((s) => s.sampling);
  const maxNew = useApp((s) => s.maxNewTokens);
  const { setSampling, setMaxNewTokens } = appStore.getState();
  const num = (label: string, value: number, step: number, onChange: (v: number) => void) => (
    <label>
      {label}
      <input type="number" value={value} step={step} onChange={(e) => onChange(Number(e.target.value))} />
    </label>
  );
  return (
    <details className="sampling">
      <summary>Sampling</summary>
      <div className="row">
        {num('Temperature', sampling.temperature, 0.1, (v) => setSampling({ temperature: v }))}
        {num('Top-k', sampling.topK, 1, (v) => setSampling({ topK: v }))}
        {num('Top-p', sampling.topP, 0.05, (v) => setSampling({ topP: v }))}
        {num('Repetition penalty', sampling.repetitionPenalty, 0.05, (v) => setSampling({ repetitionPenalty: v }))}
        {num('Seed', sampling.seed, 1, (v) => setSampling({ seed: v }))}
        {num('Max new tokens', maxNew, 8, (v) => setMaxNewTokens(Math.max(1, Math.floor(v) || 1)))}
      </div>
    </details>
  );
}

export function ChatPanel({ controller }: { controller: Controller }) {
  const [draft, setDraft] = useState('');
  const messages = useApp((s) => s.messages);
  const streaming = useApp((s) => s.streaming);
  const system = useApp((s) => s.systemPrompt);
  const error = useApp((s) => s.chatError);
  const ready = useApp((s) => s.modelStatus === 'ready');
  const result = useApp((s) => s.lastResult);
  const busy = streaming !== null;
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
            <b>{m.role}</b> <span>{m.content}</span>
          </li>
        ))}
        {streaming !== null && (
          <li className="assistant streaming" data-testid="streaming">
            <b>assistant</b> <span>{streaming}</span>
          </li>
        )}
      </ol>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!draft.trim()) return;
          void controller.send(draft);
          setDraft('');
        }}
      >
        <textarea aria-label="Message" value={draft} rows={2} onChange={(e) => setDraft(e.target.value)} placeholder={ready ? 'Say something…' : 'Load a model first'} />
        <div className="row">
          <button type="submit" disabled={!ready || busy}>
            Send
          </button>
          <button type="button" disabled={!busy} onClick={() => void controller.stop()}>
            Stop
          </button>
          <button type="button" disabled={busy} onClick={() => void controller.clearChat()}>
            Clear
          </button>
        </div>
      </form>
      {result && (
        <p className="hint" data-testid="result">
          {result.finishReason} · prompt {result.promptTokens} tokens ({result.prefillTokens} run, rest from cache) · {result.generatedTokens} generated
        </p>
      )}
    </section>
  );
}
