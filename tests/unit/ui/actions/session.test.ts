/** Session actions: probe the device, load a model (then its vectors and steering reach the engine). */
import { describe, expect, it } from 'vitest';
import { parseLayers } from '../../../../src/ui/actions/session';
import { DEVICE, INFO, SHOWN, loaded, setup, vectorFileBytes, vectorOn } from '../../../support/fake-engine';

describe('session actions', () => {
  it('probeDevice puts the engine device in the store; a failure becomes the model message', async () => {
    const ok = setup();
    await ok.actions.session.probeDevice();
    expect(ok.state().device).toEqual(DEVICE);

    const bad = setup();
    bad.engine.deviceResult = new Error('no adapter');
    await bad.actions.session.probeDevice();
    expect(bad.state().device).toBeNull();
    expect(bad.state().modelError).toBe('no adapter');
  });

  it('load sends the model panel inputs, shows progress, then registers the vectors and settings', async () => {
    const { actions, engine, state } = setup();
    state().setModelInput('org/fake');
    state().setDtypeChoice('q4f16');
    state().setCutLayersInput('1, 2');
    state().setStrength('openness', 0.5);
    await actions.session.load();

    expect(engine.calls.map((c) => c.method)).toEqual(['load', 'setVectors', 'setSteering']);
    expect(engine.of('load')[0].source).toEqual({ model: 'org/fake', dtype: 'q4f16', cutLayers: [1, 2] });
    expect(state().files['onnx/model_q4.onnx']).toEqual({ loaded: 5, total: 10 });
    expect(state().modelStatus).toBe('ready');
    expect(state().info?.model).toBe('org/fake');

    const vectors = engine.of('setVectors')[0].vectors;
    expect(vectors.map((v) => v.traitId)).toEqual(SHOWN);
    expect(vectors.every((v) => v.hidden === INFO.hidden && v.layers[1]?.length === INFO.hidden && v.layers[2]?.length === INFO.hidden)).toBe(true);
    expect(SHOWN.map((id) => state().vectorKind[id])).toEqual(['demo', 'demo', 'demo']);

    const settings = engine.of('setSteering')[0].settings;
    expect(settings.find((s) => s.traitId === 'openness')).toEqual({ traitId: 'openness', strength: 0.5, mode: 'add', layer: 1, enabled: true });
  });

  it('"auto" dtype and empty layers leave both to the engine', async () => {
    const { actions, engine, state } = setup();
    expect(state().dtypeChoice).toBe('fp32'); // first visit: the demo model, which has fp32 only
    state().setDtypeChoice('auto');
    await actions.session.load();
    expect(engine.of('load')[0].source.dtype).toBeUndefined();
    expect(engine.of('load')[0].source.cutLayers).toBeUndefined();
  });

  it('bad layer text is a message and nothing is loaded', async () => {
    const { actions, engine, state } = setup();
    state().setCutLayersInput('1, x');
    await actions.session.load();
    expect(engine.calls).toEqual([]);
    expect(state().modelStatus).toBe('error');
    expect(state().modelError).toBe('"1, x" is not a list of layer numbers');
  });

  it('a failed load keeps the loaded model and says why', async () => {
    const { actions, engine, state } = await loaded();
    engine.loadResult = new Error('404 for config.json');
    state().setModelInput('org/missing');
    await actions.session.load();
    expect(state().modelStatus).toBe('ready');
    expect(state().info?.model).toBe(INFO.model);
    expect(state().modelError).toBe('404 for config.json');
    expect(engine.of('setVectors')).toEqual([]);
  });

  it('a new model starts without the vectors extracted (or imported) on the previous one', async () => {
    const { actions, state } = await loaded();
    await actions.vectors.importFile(vectorFileBytes({ vector: vectorOn([1, 2]) }), 'openness.json');
    expect(state().vectorKind.openness).toBe('extracted');
    await actions.session.load();
    expect(state().vectorKind.openness).toBe('demo');
  });

  it('setVectors failing is a steering message, and no settings are sent', async () => {
    const { actions, engine, state } = setup();
    engine.failSetVectors = new Error('hidden size 8 expected');
    await actions.session.load();
    expect(state().steeringError).toBe('hidden size 8 expected');
    expect(engine.of('setSteering')).toEqual([]);
  });

  it('parseLayers reads comma or space separated layer numbers', () => {
    expect(parseLayers('')).toBeUndefined();
    expect(parseLayers(' 1, 3 5')).toEqual([1, 3, 5]);
    expect(parseLayers('-1')).toBe('"-1" is not a list of layer numbers');
    expect(parseLayers('1.5')).toBe('"1.5" is not a list of layer numbers');
  });
});
