/**
 * Stale state after a change: a new model clears (and says so) the previous model's chat and
 * compare runs; a failure alert goes on the next success of anything; the same model reloaded
 * keeps the chat.
 */
import { describe, expect, it } from 'vitest';
import { ExtractionCancelled } from '../../../../src/protocol/extraction';
import { extractedTrait, loaded } from '../../../support/fake-engine';

describe('switching models', () => {
  it('a different model clears the chat, the charts and the compare runs, with a notice naming both models', async () => {
    const { actions, state } = await loaded();
    await actions.chat.send('Hello');
    await actions.compare.run('Hi');
    expect(state().messages).toHaveLength(2);
    expect(state().compareStatus).toBe('done');

    state().setModelInput('org/other');
    await actions.session.load();
    expect(state().info?.model).toBe('org/other');
    expect(state().messages).toEqual([]);
    expect(state().lastResult).toBeNull();
    expect(state().points).toEqual([]);
    expect(state().compareStatus).toBe('idle');
    expect(state().compareRuns.steered.points).toEqual([]);
    expect(state().chatNotice).toBe('New model loaded (org/other, q4): the chat with org/fake (q4) was cleared.');

    // The notice goes with the next turn.
    await actions.chat.send('Hi again');
    expect(state().chatNotice).toBeNull();
  });

  it('other weights of the same model count as a switch; reloading the same model and dtype keeps the chat', async () => {
    const { actions, state, engine } = await loaded();
    await actions.chat.send('Hello');
    await actions.session.load(); // same model, same dtype (e.g. new steering layers)
    expect(state().messages).toHaveLength(2);
    expect(state().chatNotice).toBeNull();

    engine.loadResult = { ...engine.loadResult, dtype: 'fp16' } as typeof engine.loadResult;
    await actions.session.load();
    expect(state().messages).toEqual([]);
    expect(state().chatNotice).toMatch(/org\/fake, fp16.*org\/fake \(q4\) was cleared/);
  });

  it('no notice when there was no chat to clear', async () => {
    const { actions, state } = await loaded();
    state().setModelInput('org/other');
    await actions.session.load();
    expect(state().chatNotice).toBeNull();
  });
});

describe('alerts clear on the next success', () => {
  it('a failed-load alert (the previous model still in use) goes when a reply succeeds', async () => {
    const { actions, engine, state } = await loaded();
    engine.loadResult = new Error('config.json at http://x/config.json is not valid JSON');
    state().setModelInput('org/broken');
    await actions.session.load();
    expect(state().modelError).toMatch(/not valid JSON/);
    expect(state().info?.model).toBe('org/fake');

    await actions.chat.send('Hello');
    expect(state().messages.at(-1)?.role).toBe('assistant');
    expect(state().modelError).toBeNull();
  });

  it('a failed-load alert goes when a compare or an extraction succeeds', async () => {
    const { actions, engine, state } = await loaded();
    const fail = async () => {
      engine.loadResult = new Error('no such model');
      await actions.session.load();
      expect(state().modelError).toBe('no such model');
    };
    await fail();
    await actions.compare.run('Hi');
    expect(state().modelError).toBeNull();

    await fail();
    engine.extractResult = { traits: [extractedTrait('openness')], elapsedMs: 1 };
    await actions.traits.extract();
    expect(state().modelError).toBeNull();
  });

  it('a chat, compare or extraction error goes when the next load succeeds; a stop notice is not an alert and stays', async () => {
    const { actions, engine, state } = await loaded();
    engine.replies = [{ tokens: ['x'], error: new Error('GPU device lost') }];
    await actions.chat.send('Hi');
    engine.extractResult = new Error('questions.json: 404');
    await actions.traits.extract();
    expect(state().chatError).toBe('GPU device lost');
    expect(state().extractStatus).toBe('error');

    await actions.session.load();
    expect(state().chatError).toBeNull();
    expect(state().extractStatus).toBe('idle');
    expect(state().extractMessage).toBeNull();

    engine.extractResult = new ExtractionCancelled();
    await actions.traits.extract();
    await actions.chat.send('Hi');
    expect(state().extractStatus).toBe('stopped');
  });

  it('a load under way keeps its own alert state', async () => {
    const { state } = await loaded();
    state().loadStarted();
    state().loadFailed('half-way failure');
    state().loadStarted();
    state().dismissStaleAlerts();
    expect(state().modelStatus).toBe('loading');
  });
});
