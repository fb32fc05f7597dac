/** Trait actions: extraction requests, results into store and engine, custom traits, stop and failures. */
import { describe, expect, it } from 'vitest';
import { ExtractionCancelled } from '../../../../src/protocol/extraction';
import { INFO, SHOWN, extractedTrait, loaded, setup } from '../../../support/fake-engine';

describe('trait actions', () => {
  it('extract asks for the built-in traits shown for the model (quick), then steers with the results', async () => {
    const { actions, engine, state, store } = await loaded();
    engine.extractProgress = [{ traitId: 'openness', trait: 0, traits: 3, phase: 'extraction', done: 2, total: 6, message: 'running prompts' }];
    engine.extractResult = { traits: [extractedTrait('openness', 0.5), extractedTrait('extraversion', 2, true)], elapsedMs: 1500 };
    const seen: (string | null)[] = [];
    const unsubscribe = store.subscribe((s) => seen.push(s.extractMessage));
    await actions.traits.extract();
    unsubscribe();

    expect(engine.of('extract')[0].request).toEqual({ traits: SHOWN, maxPairs: 2, maxQuestions: { extraction: 3, evaluation: 3 }, positions: 'last' });
    expect(seen).toContain('openness (1/3): running prompts');
    expect(state().extractStatus).toBe('done');
    expect(state().extractMessage).toBe('Extracted 2 traits in 1.5 s (1 from the cache).');
    expect(state().vectorKind).toMatchObject({ openness: 'extracted', extraversion: 'extracted', neuroticism: 'demo' });
    expect(state().traitData.openness.bestLayer).toBe(3);
    expect(state().traitData.openness.calibration?.[3]).toEqual({ center: 1, scale: 4 });

    const sent = engine.of('setVectors')[0].vectors.find((v) => v.traitId === 'openness')!;
    expect(Array.from(sent.layers[1])).toEqual(Array(INFO.hidden).fill(1.5));
    expect(engine.calls.map((c) => c.method)).toEqual(['extract', 'setVectors', 'setSteering']);
  });

  it('extract of one trait asks only for it; full runs when quick is off', async () => {
    const { actions, engine, state } = await loaded();
    state().setExtractQuick(false);
    await actions.traits.extract(['neuroticism']);
    expect(engine.of('extract')[0].request).toEqual({ traits: ['neuroticism'], positions: 'last' });
  });

  it('response-token extraction: both extractions are kept, the chart gets both curves, the user picks the vector steering uses', async () => {
    const { actions, engine, state } = await loaded();
    engine.extractResult = { traits: [extractedTrait('openness', 0.5)], elapsedMs: 10 };
    await actions.traits.extract(['openness']);
    state().setExtractPositions('response');
    state().setExtractResponseTokens(8);
    const response = { ...extractedTrait('openness', 7), positions: 'response' as const, bestLayer: 2, calibration: { layer: 2, center: 3, scale: 5 } };
    engine.extractResult = { traits: [response], elapsedMs: 10 };
    await actions.traits.extract(['openness']);
    expect(engine.of('extract')[1].request).toMatchObject({ traits: ['openness'], positions: 'response', responseTokens: 8 });
    const data = state().traitData.openness;
    expect(data.positions).toBe('response');
    expect(Object.keys(data.curves!).sort()).toEqual(['last', 'response']);
    expect(data.curves!.response!.bestLayer).toBe(2);
    expect(data.calibration?.[2]).toEqual({ center: 3, scale: 5 });
    const sent = () =>
      engine
        .of('setVectors')
        .at(-1)!
        .vectors.find((v) => v.traitId === 'openness')!;
    expect(sent().layers[1][0]).toBe(8); // response vector (7 + layer 1)

    await actions.traits.chooseVector('openness', 'last');
    expect(state().traitData.openness.positions).toBe('last');
    expect(state().traitData.openness.calibration?.[3]).toEqual({ center: 1, scale: 4 });
    expect(Object.keys(state().traitData.openness.curves!).sort()).toEqual(['last', 'response']);
    expect(sent().layers[1][0]).toBe(1.5); // prompt-token vector (0.5 + layer 1)

    await actions.traits.chooseVector('neuroticism', 'response');
    expect(state().extractMessage).toMatch(/No response tokens extraction of this trait yet/);
  });

  it('a stop is a notice ("stopped"), not an error; other failures name the cause', async () => {
    const { actions, engine, state } = await loaded();
    engine.extractResult = new ExtractionCancelled();
    await actions.traits.extract();
    expect(state().extractStatus).toBe('stopped');
    expect(state().extractMessage).toMatch(/^Extraction stopped; nothing changed/);
    engine.extractResult = new Error('questions.json: 404');
    await actions.traits.extract();
    expect(state().extractStatus).toBe('error');
    expect(state().extractMessage).toBe('Extraction failed: questions.json: 404');
    await actions.traits.stop();
    expect(engine.of('stop')).toHaveLength(1);
  });

  it('Stop while extracting says "stopping" at once, until the engine answers', async () => {
    const { actions, engine, state } = await loaded();
    let stopped!: () => void;
    engine.extract = async (request) => {
      engine.calls.push({ method: 'extract', request });
      await new Promise<void>((resolve) => (stopped = resolve));
      throw new ExtractionCancelled();
    };
    const run = actions.traits.extract();
    expect(state().extractStatus).toBe('running');
    expect(state().extractStopping).toBe(false);
    const stop = actions.traits.stop();
    expect(state().extractStopping).toBe(true);
    await stop;
    expect(engine.of('stop')).toHaveLength(1);
    stopped();
    await run;
    expect(state().extractStatus).toBe('stopped');
    expect(state().extractStopping).toBe(false);
  });

  it('nothing is extracted before a model is loaded', async () => {
    const { actions, engine } = setup();
    await actions.traits.extract();
    await actions.traits.createCustom('Calm', 'calm and steady', 'jumpy and nervous');
    expect(engine.calls).toEqual([]);
  });

  it('a custom trait keeps only the cut layers and its best layer, and is steered', async () => {
    const { actions, engine, state } = await loaded();
    engine.extractResult = { traits: [extractedTrait('custom-calm', 0.25)], elapsedMs: 10 };
    await actions.traits.createCustom('Calm', 'calm and steady', 'jumpy and nervous');

    const request = engine.of('extract')[0].request;
    expect(request.maxPairs).toBe(3);
    const dataset = request.traits[0];
    expect(typeof dataset === 'object' && dataset.id).toBe('custom-calm');
    const custom = state().customTraits['custom-calm'];
    expect(custom.label).toBe('Calm');
    expect(Object.keys(custom.vector.layers).map(Number)).toEqual([1, 2, 3]);
    expect(state().traits.some((t) => t.traitId === 'custom-calm' && t.custom)).toBe(true);
    expect(state().extractMessage).toBe('Created "Calm" (best separated at layer 3).');
    expect(engine.of('setVectors')[0].vectors.map((v) => v.traitId)).toContain('custom-calm');

    await actions.traits.removeCustom('custom-calm');
    expect(state().customTraits['custom-calm']).toBeUndefined();
    expect(engine.of('setVectors')[1].vectors.map((v) => v.traitId)).not.toContain('custom-calm');
  });

  it('a custom trait with no name is a message without the internal prefix', async () => {
    const { actions, engine, state } = await loaded();
    await actions.traits.createCustom('  ', 'calm', 'nervous');
    expect(engine.calls).toEqual([]);
    expect(state().extractStatus).toBe('error');
    expect(state().extractMessage).toBe('the trait needs a name');
  });
});
