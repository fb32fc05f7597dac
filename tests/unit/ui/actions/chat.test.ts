/** Chat actions: a turn goes to engine.generate, its tokens reach the store once per frame; stop, regenerate, clear, errors. */
import { describe, expect, it, vi } from 'vitest';
import { loaded } from '../../../support/fake-engine';

describe('chat actions', () => {
  it('send asks the engine for the system prompt, history and new turn, with the sampling and token limit', async () => {
    const { actions, engine, state } = await loaded();
    state().setSystemPrompt('Be brief.');
    state().setSampling({ temperature: 0.7, seed: 9 });
    state().setMaxNewTokens(12);
    await actions.chat.send('Hello');
    await actions.chat.send('Again');

    const requests = engine.of('generate').map((c) => c.request);
    expect(requests[0]).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      sampling: { ...state().sampling, temperature: 0.7, seed: 9 },
      maxNewTokens: 12,
    });
    expect(requests[1].messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi there' },
      { role: 'user', content: 'Again' },
    ]);
  });

  it('tokens reach the store through the frame buffer: one batch per frame, then the reply and its rate', async () => {
    const { actions, engine, frames, state } = await loaded();
    engine.replies = [{ tokens: ['a', 'b', 'c'], holdUntilStop: true }];
    const sent = actions.chat.send('Hi');
    await vi.waitFor(() => expect(frames.count).toBe(1));
    // Three tokens arrived, one frame is scheduled, and the store has not been touched yet.
    expect(state().streaming).toBe('');
    expect(state().points).toEqual([]);
    frames.runFrames();
    expect(state().streaming).toBe('abc');
    expect(state().points.map((p) => p.index)).toEqual([0, 1, 2]);
    expect(state().points[2].projections).toEqual({ openness: { pre: 2, post: 2.5 } });

    await actions.chat.stop();
    await sent;
    expect(engine.of('stop')).toHaveLength(1);
    expect(state().streaming).toBeNull();
    expect(state().messages.at(-1)).toEqual({ role: 'assistant', content: 'abc' });
    expect(state().lastResult?.finishReason).toBe('stopped');
    // The fake clock moves 100 ms per reading: 3 tokens in 0.1 s.
    expect(state().tokensPerSecond).toBeCloseTo(30);
  });

  it('an engine error mid-reply becomes the chat message; the partial reply stays', async () => {
    const { actions, engine, state } = await loaded();
    engine.replies = [{ tokens: ['par', 'tial'], error: new Error('GPU device lost') }];
    await actions.chat.send('Hi');
    expect(state().chatError).toBe('GPU device lost');
    expect(state().streaming).toBeNull();
    expect(state().messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'partial' },
    ]);
  });

  it('bad sampling is a message and nothing is generated; empty text is ignored', async () => {
    const { actions, engine, state } = await loaded();
    await actions.chat.send('   ');
    expect(engine.calls).toEqual([]);
    state().setSampling({ topP: 2 });
    await actions.chat.send('Hi');
    expect(engine.of('generate')).toEqual([]);
    expect(state().chatError).toBe('top-p must be in (0, 1]');
    expect(state().messages).toEqual([]);
  });

  it('a second send while one streams is ignored', async () => {
    const { actions, engine } = await loaded();
    engine.replies = [{ tokens: ['a'], holdUntilStop: true }];
    const first = actions.chat.send('one');
    await vi.waitFor(() => expect(engine.of('generate')).toHaveLength(1));
    await actions.chat.send('two');
    expect(engine.of('generate')).toHaveLength(1);
    await actions.chat.stop();
    await first;
  });

  it('regenerate replaces the last reply with a new run of the same turn', async () => {
    const { actions, engine, state } = await loaded();
    state().setSystemPrompt('');
    engine.replies = [{ tokens: ['first'] }, { tokens: ['second'] }];
    await actions.chat.send('Hi');
    await actions.chat.regenerate();
    const requests = engine.of('generate').map((c) => c.request.messages);
    expect(requests[1]).toEqual(requests[0]);
    expect(state().messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'second' },
    ]);
  });

  it('clear empties chat and charts and resets the engine KV cache (a failing reset is harmless)', async () => {
    const { actions, engine, state } = await loaded();
    await actions.chat.send('Hi');
    engine.failResetCache = new Error('busy');
    await actions.chat.clear();
    expect(state().messages).toEqual([]);
    expect(state().points).toEqual([]);
    expect(state().lastResult).toBeNull();
    expect(engine.of('resetCache')).toHaveLength(1);
  });
});
