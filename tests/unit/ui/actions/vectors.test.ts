/**
 * Vector file actions: import (built-in or custom, JSON or GGUF), the replace dialog, bad files
 * as messages, export (JSON names its trait and model).
 */
import { describe, expect, it } from 'vitest';
import { readVectorFile } from '../../../../src/ui/actions/vector-files';
import { writeControlVector } from '../../../../src/traits/gguf';
import { INFO, loaded, setup, vectorFileBytes, vectorOn } from '../../../support/fake-engine';

describe('vector file actions', () => {
  it('a JSON file for a built-in trait becomes its direction, with calibration, and is sent to the engine', async () => {
    const { actions, engine, state } = await loaded();
    const file = {
      vector: vectorOn([1, 2], 0.25),
      calibration: { 1: { center: 0.5, scale: 2 } },
      bestLayer: 1,
      trait: { id: 'openness', label: 'Openness', high: 'h', low: 'l' },
    };
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

  it('a JSON export names its trait and model; importing it in a fresh session restores the same built-in trait', async () => {
    const from = await loaded();
    const file = { vector: vectorOn([1, 2], 0.25), calibration: { 1: { center: 0.5, scale: 2 } }, trait: { id: 'openness', label: 'Openness' } };
    await from.actions.vectors.importFile(vectorFileBytes(file), 'x.json');
    const json = from.actions.vectors.exportFile({ traitId: 'openness', format: 'json' })!;
    const parsed = readVectorFile(json.bytes, INFO.hidden);
    expect(parsed.trait).toEqual({ id: 'openness', label: 'Openness' });
    expect(parsed.vector.model).toBe(INFO.model);

    const to = await loaded();
    await to.actions.vectors.importFile(json.bytes, 'renamed-by-user.json');
    expect(to.state().pendingImport).toBeNull(); // nothing to replace: applied at once
    expect(to.state().customTraits).toEqual({});
    expect(to.state().vectorKind.openness).toBe('extracted');
    expect(to.state().traitData.openness.calibration).toEqual({ 1: { center: 0.5, scale: 2 } });
  });

  it('asks before a file replaces an existing vector (built-in, JSON or GGUF, or custom); Keep changes nothing, Replace applies', async () => {
    const { actions, engine, state } = await loaded();
    await actions.vectors.importFile(vectorFileBytes({ vector: vectorOn([1, 2], 0.25), trait: { id: 'openness', label: 'Openness' } }), 'first.json');
    engine.calls.length = 0;
    const other = { ...vectorOn([1, 2], 0.75), model: 'org/elsewhere' };
    await actions.vectors.importFile(vectorFileBytes({ vector: other, trait: { id: 'openness', label: 'Openness' } }), 'second.json');
    expect(state().pendingImport?.question).toBe(
      'second.json would replace its extracted vector of "Openness". The file was made for org/elsewhere; the loaded model is org/fake.',
    );
    expect(engine.calls).toEqual([]);
    await actions.vectors.resolveImport(false);
    expect(state().pendingImport).toBeNull();
    expect(engine.calls).toEqual([]);
    expect(actions.vectors.exportFile({ traitId: 'openness', format: 'json' })).not.toBeNull();
    const kept = readVectorFile(actions.vectors.exportFile({ traitId: 'openness', format: 'json' })!.bytes).vector;
    expect(kept.layers[1][0]).toBe(0.25);

    // GGUF named after the built-in trait: the same question.
    await actions.vectors.importFile(writeControlVector(vectorOn([1, 2], 0.5), INFO.model), 'openness.gguf');
    expect(state().pendingImport).toMatchObject({ traitId: 'openness', builtin: true, fileName: 'openness.gguf' });
    await actions.vectors.resolveImport(true);
    expect(engine.of('setVectors')[0].vectors.find((v) => v.traitId === 'openness')!.layers[1][0]).toBe(0.5);

    // A custom trait: a second GGUF of the same name asks too.
    await actions.vectors.importFile(writeControlVector(vectorOn([1, 2], 0.5), INFO.model), 'Calm.gguf');
    expect(state().pendingImport).toBeNull();
    await actions.vectors.importFile(writeControlVector(vectorOn([1, 2], 0.9), INFO.model), 'calm.gguf');
    expect(state().pendingImport?.question).toBe('calm.gguf would replace its vector of "calm".');
    await actions.vectors.resolveImport(true);
    expect(state().customTraits.calm.vector.layers[1][0]).toBeCloseTo(0.9, 6);
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
