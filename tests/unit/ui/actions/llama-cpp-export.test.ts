/** Vector exports as llama.cpp sees them: model_hint = config.json's model_type, the command line that reproduces the steering. */
import { describe, expect, it } from 'vitest';
import { parseGguf, readControlVector, writeControlVector } from '../../../../src/traits/gguf';
import { INFO, loaded, vectorOn } from '../../../support/fake-engine';

describe('llama.cpp exports', () => {
  it('current steering: model_hint is the model_type, the command adds it at scale 1 over the steered layers', async () => {
    const { actions, state } = await loaded();
    state().setStrength('openness', 0.5);
    state().setLayer('extraversion', 2);
    state().setStrength('extraversion', -0.25);
    await actions.steering.push();
    const d = actions.vectors.exportFile('steering')!;
    expect(d.name).toBe('traitlab-steering.gguf');
    const f = parseGguf(d.bytes);
    expect(f.metadata.get('controlvector.model_hint')?.value).toBe(INFO.modelType);
    expect(d.command).toBe('llama-cli -m MODEL.gguf --control-vector-scaled traitlab-steering.gguf 1 --control-vector-layer-range 1 2');
  });

  it("one trait: the command's scale is the trait's current alpha at its layer", async () => {
    const { actions, state } = await loaded();
    state().setStrength('openness', 0.5);
    await actions.steering.push();
    const d = actions.vectors.exportFile({ traitId: 'openness', format: 'gguf' })!;
    const alpha = 0.5 * INFO.typicalNorm[1]; // the demo direction is a unit vector
    const scale = Number(/--control-vector-scaled openness\.gguf (\S+) --control-vector-layer-range 1 1$/.exec(d.command ?? '')?.[1]);
    expect(scale).toBeCloseTo(alpha, 5);
  });

  it('an imported GGUF at strength 1 exports as itself: the steering file equals the imported file at scale 1', async () => {
    const { actions, state } = await loaded();
    const file = vectorOn([1, 2], 0.75);
    await actions.vectors.importFile(writeControlVector(file, 'llama'), 'calm.gguf');
    expect(state().fileUnits.calm).toBeCloseTo((0.75 * Math.sqrt(INFO.hidden)) / INFO.typicalNorm[1], 6);
    state().setStrength('calm', 1);
    await actions.steering.push();
    const back = readControlVector(actions.vectors.exportFile('steering')!.bytes);
    expect(Array.from(back.layers[1])).toEqual(Array.from(file.layers[1]));
  });
});
