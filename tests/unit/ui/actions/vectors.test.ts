/** Vector file actions: import (built-in or custom, JSON or GGUF), bad files as messages, export. */
import { describe, expect, it } from 'vitest';
import { readVectorFile } from '../../../../src/ui/actions/vector-files';
import { writeControlVector } from '../../../../src/traits/gguf';
import { INFO, loaded, setup, vectorFileBytes, vectorOn } from '../../../support/fake-engine';

describe('vector file actions', () => {
  it('a JSON file for a built-in trait becomes its direction, with calibration, and is sent to the engine', async () => {
    const { actions, engine, state } = await loaded();
    const file = { vector: vectorOn([1, 2], 0.25), calibration: { 1: { center: 0.5, scale: 2 } }, bestLayer: 1, trait: { id: 'openness', label: 'Openness', high: 'h', low: 'l' } };
    await actions.vectors.importFile(vectorFileBytes(file), 'whatever.json');
    expect(state().steeringError).toBeNull();
    expect(state().vectorKind.openness).toBe('extracted');
    expect(state().traitData.openness).toMatchObject({ calibration: { 1: { center: 0.5, scale: 2 } }, bestLayer: 1 });
    expect(state().customTraits).toEqual({});
    const sent = engine.of('setVectors')[0].vectors.find((v) => v.traitId === 'openness')!;
    expect(Array.from(sent.layers[2])).toEqual(Array(INFO.hidden).fill(0.25));
    expect(engine.calls.map((c) => c.method)).toEqual(['setVectors', 'setSteering']);
  });

  it('a GGUF control vector with no trait inside becomes a custom trait named after the file', async () => {
    const { actions, engine, state } = await loaded();
    const bytes = writeControlVector(vectorOn([1, 2], 0.5), INFO.model);
    await actions.vectors.importFile(bytes, 'Very Calm.gguf');
    expect(state().customTraits['very-calm']).toMatchObject({ id: 'very-calm', label: 'very-calm' });
    expect(state().vectorKind['very-calm']).toBe('custom');
    expect(engine.of('setVectors')[0].vectors.map((v) => v.traitId)).toContain('very-calm');
  });

  it('bad files are a message naming the file; nothing reaches the engine', async () => {
    const { actions, engine, state } = await loaded();
    await actions.vectors.importFile(new TextEncoder().encode('not json'), 'broken.json');
    expect(state().steeringError).toMatch(/^Could not import broken\.json: /);
    await actions.vectors.importFile(vectorFileBytes({ vector: vectorOn([1], 1, 16) }), 'wide.json');
    expect(state().steeringError).toMatch(/^Could not import wide\.json: .*16/);
    expect(engine.calls).toEqual([]);
    expect(state().customTraits).toEqual({});
  });

  it('export: a trait as JSON or GGUF reads back as the vector the engine has', async () => {
    const { actions, engine } = setup();
    await actions.session.load();
    const sent = engine.of('setVectors')[0].vectors.find((v) => v.traitId === 'openness')!;
    const json = actions.vectors.exportFile({ traitId: 'openness', format: 'json' })!;
    expect(json.name).toBe('openness.json');
    expect(json.mime).toBe('application/json');
    const fromJson = readVectorFile(json.bytes, INFO.hidden).vector;
    const gguf = actions.vectors.exportFile({ traitId: 'openness', format: 'gguf' })!;
    expect(gguf.name).toBe('openness.gguf');
    const fromGguf = readVectorFile(gguf.bytes, INFO.hidden).vector;
    for (const l of INFO.cutLayers) {
      expect(Array.from(fromJson.layers[l])).toEqual(Array.from(sent.layers[l]));
      expect(Array.from(fromGguf.layers[l])).toEqual(Array.from(sent.layers[l]));
    }
  });

  it('export of the current steering needs a steered trait; failures are messages', async () => {
    const { actions, state } = await loaded();
    expect(actions.vectors.exportFile('steering')).toBeNull();
    expect(state().steeringError).toBe('Export failed: Nothing to export: no trait is steered in add mode.');
    state().setStrength('openness', 0.5);
    const d = actions.vectors.exportFile('steering')!;
    expect(d.name).toBe('traitlab-steering.gguf');
    expect(String.fromCharCode(...d.bytes.slice(0, 4))).toBe('GGUF');
    expect(actions.vectors.exportFile({ traitId: 'nope', format: 'json' })).toBeNull();
    expect(state().steeringError).toBe('Export failed: No vector for "nope" on this model.');

    const none = setup();
    expect(none.actions.vectors.exportFile('steering')).toBeNull();
    expect(none.state().steeringError).toBe('Export failed: Load a model first.');
  });
});
