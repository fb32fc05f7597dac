/**
 * A turn the engine refuses is not kept, and the text returns to the input box; Regenerate
 * draws a new seed (unless "fixed seed" is on) and says which seed it used.
 */
import { describe, expect, it } from 'vitest';
import { createActions } from '../../../../src/ui/actions';
import { FakeEngine, freshStore, INFO } from '../../../support/fake-engine';

const TOO_LONG = 'x'.repeat(20_000);
const CONTEXT_FULL = new Error(
  "The conversation is 20011 tokens but this model's context holds 64. Clear the chat (or shorten the system prompt) to continue.",
);

async function setupWith(seeds: number[] = [77, 78, 79]) {
  const store = freshStore();
  const engine = new FakeEngine();
  const queue = [...seeds];
  const actions = createActions(store, engine, { schedule: (fn) => fn(), randomSeed: () => queue.shift()! });
  store.getState().setModelInput(INFO.model);
  await actions.session.load();
  engine.calls.length = 0;
  return { store, engine, actions, state: () => store.getState() };
}

describe('a rejected message', () => {
  it('a 20,000-character message the engine refuses is not kept in the chat; it goes back into the input box', async () => {
    const { actions, engine, state } = await setupWith();
    await actions.chat.send('Hello');
    engine.replies = [{ tokens: [], error: CONTEXT_FULL }];
    state().setDraft(TOO_LONG);
    const outcome = await actions.chat.sendDraft();

    expect(outcome).toBe('rejected');
    expect(engine.of('generate')).toHaveLength(2);
    expect(state().messages).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi there' },
    ]);
    expect(state().streaming).toBeNull();
    expect(state().chatError).toBe(`${CONTEXT_FULL.message} Your message was not sent; it is back in the input box.`);
    expect(state().draft).toBe(TOO_LONG);

    // The next history does not carry it either.
    state().setDraft('Short');
    await actions.chat.sendDraft();
    expect(engine.of('generate')[2].request.messages.map((m) => m.content)).toEqual(['You are a helpful assistant.', 'Hello', 'Hi there', 'Short']);
    expect(state().draft).toBe('');
    expect(state().chatError).toBeNull();
  });

  it('the input box empties while the turn is on its way; text typed meanwhile is not overwritten', async () => {
    const { actions, engine, state } = await setupWith();
    engine.replies = [{ tokens: [], error: CONTEXT_FULL }];
    state().setDraft(TOO_LONG);
    const sent = actions.chat.sendDraft();
    expect(state().draft).toBe('');
    state().setDraft('new text');
    await sent;
    expect(state().draft).toBe('new text');
  });

  it('bad sampling keeps the text in the box too; a reply that fails after some tokens keeps the turn', async () => {
    const { actions, engine, state } = await setupWith();
    state().setSampling({ topP: 2 });
    state().setDraft('Hi');
    expect(await actions.chat.sendDraft()).toBe('rejected');
    expect(state().draft).toBe('Hi');
    expect(engine.of('generate')).toEqual([]);

    state().setSampling({ topP: 1 });
    engine.replies = [{ tokens: ['par'], error: new Error('GPU device lost') }];
    expect(await actions.chat.sendDraft()).toBe('sent');
    expect(state().draft).toBe('');
    expect(state().messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'par' },
    ]);
  });
});

describe('regenerate and the seed', () => {
  it('a regenerate the engine refuses does not lose the turn: it goes back into the input box', async () => {
    const { actions, engine, state } = await setupWith([77]);
    await actions.chat.send('Hello');
    engine.replies = [{ tokens: [], error: new Error('cannot generate while extract is running') }];
    await actions.chat.regenerate();
    expect(state().messages).toEqual([]);
    expect(state().draft).toBe('Hello');
    expect(state().chatError).toMatch(/^cannot generate while extract is running Your message was not sent/);
  });

  it('draws a new seed each time, uses it, and says which', async () => {
    const { actions, engine, state } = await setupWith([77, 78]);
    state().setSampling({ temperature: 0.8, seed: 5 });
    await actions.chat.send('Hello');
    expect(state().replySeed).toBe(5);

    await actions.chat.regenerate();
    expect(engine.of('generate')[1].request.sampling.seed).toBe(77);
    expect(state().sampling.seed).toBe(77);
    expect(state().replySeed).toBe(77);
    expect(state().chatNotice).toBe('Regenerated with a new seed: 77.');

    await actions.chat.regenerate();
    expect(engine.of('generate')[2].request.sampling.seed).toBe(78);
    expect(state().chatNotice).toBe('Regenerated with a new seed: 78.');
    expect(state().messages).toHaveLength(2);
  });

  it('with "fixed seed" on it keeps the seed and says the reply repeats', async () => {
    const { actions, engine, state } = await setupWith([77]);
    state().setSampling({ temperature: 0.8, seed: 5 });
    state().setFixedSeed(true);
    await actions.chat.send('Hello');
    await actions.chat.regenerate();
    expect(engine.of('generate')[1].request.sampling.seed).toBe(5);
    expect(state().chatNotice).toBe('Regenerated with the same seed, 5 (fixed seed is on): the same settings give the same reply.');
  });

  it('at temperature 0 a new seed changes nothing, and the notice says so', async () => {
    const { actions, state } = await setupWith([77]);
    state().setSampling({ temperature: 0 });
    await actions.chat.send('Hello');
    await actions.chat.regenerate();
    expect(state().chatNotice).toMatch(/^Regenerated with a new seed, 77, but temperature 0 always picks the likeliest token/);
  });

  it('the default seed source gives uint32 seeds', async () => {
    const store = freshStore();
    const engine = new FakeEngine();
    const actions = createActions(store, engine, { schedule: (fn) => fn() });
    store.getState().setModelInput(INFO.model);
    await actions.session.load();
    store.getState().setSampling({ temperature: 1, seed: 5 });
    await actions.chat.send('Hello');
    await actions.chat.regenerate();
    const seed = store.getState().sampling.seed;
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
    expect(store.getState().chatNotice).toBe(`Regenerated with a new seed: ${seed}.`);
  });
});
