/** Extraction results in the store: per-layer calibration and separation, extraction status. */
import { describe, expect, it } from 'vitest';
import type { ExtractedTrait } from '../../../src/traits/extracted';
import { fromExtraction } from '../../../src/ui/actions/extracted-data';
import { calibrationsFor } from '../../../src/ui/scores';
import { createAppStore } from '../../../src/ui/store';
import { vectorsFor } from '../../../src/ui/actions/trait-vectors';
import type { ModelInfo } from '../../../src/protocol/messages';

const trait: ExtractedTrait = {
  traitId: 'extraversion',
  method: 'mean-diff',
  positions: 'last',
  model: 'm',
  revision: 'main',
  dtype: 'q4',
  hidden: 4,
  layers: { 0: Float32Array.from([1, 0, 0, 0]), 1: Float32Array.from([0, 1, 0, 0]), 2: Float32Array.from([0, 0, 1, 0]) },
  bestLayer: 1,
  separation: [
    { layer: 0, effectSize: 0.5, accuracy: 0.6, meanHigh: 1, meanLow: 0 },
    { layer: 1, effectSize: 3, accuracy: 1, meanHigh: 5, meanLow: 1 },
    { layer: 2, effectSize: 0, accuracy: 0.5, meanHigh: 2, meanLow: 2 },
  ],
  calibration: { layer: 1, center: 3.1, scale: 1.9 },
  datasetVersion: 'v',
  prompts: { extraction: 4, evaluation: 4 },
  elapsedMs: 10,
  fromCache: false,
};

const info = { model: 'm', hidden: 4, cutLayers: [1], typicalNorm: { 1: 10 } } as unknown as ModelInfo;

describe('extraction results', () => {
  it('keep the direction, the separation per layer and a calibration per separable layer', () => {
    const { vector, data } = fromExtraction(trait);
    expect(vector).toEqual({ model: 'm', hidden: 4, layers: trait.layers });
    expect(data.bestLayer).toBe(1);
    expect(data.separation).toEqual({ 0: { effectSize: 0.5, accuracy: 0.6 }, 1: { effectSize: 3, accuracy: 1 }, 2: { effectSize: 0, accuracy: 0.5 } });
    expect(data.calibration?.[0]).toEqual({ center: 0.5, scale: 0.5 });
    expect(data.calibration?.[1]).toEqual({ center: 3.1, scale: 1.9 }); // the engine's own calibration wins at the best layer
    expect(data.calibration?.[2]).toBeUndefined(); // no gap, no calibration
  });

  it('are used for steering and scoring, and dropped when another model loads', () => {
    const store = createAppStore();
    store.getState().setBuiltinTraits([{ id: 'extraversion', label: 'Extraversion', file: 'e.json' }]);
    const { vector, data } = fromExtraction(trait);
    store.getState().setTraitData('extraversion', data);
    const { kinds, vectors } = vectorsFor(info, store.getState().traits, {}, { extraversion: vector });
    expect(kinds.extraversion).toBe('extracted');
    expect(vectors[0].layers[1]).toEqual(trait.layers[1]);
    expect(calibrationsFor(store.getState().traits, info, store.getState().traitData).extraversion).toEqual({ center: 3.1, scale: 1.9 });
    store.getState().clearExtractedData();
    expect(calibrationsFor(store.getState().traits, info, store.getState().traitData).extraversion).toEqual({ center: 0, scale: 10 });
  });

  it('tracks the extraction status', () => {
    const st = createAppStore().getState;
    expect(st().extractQuick).toBe(true);
    st().extractStarted();
    st().extractProgress('extraversion: 3/12', 3, 12);
    expect([st().extractStatus, st().extractDone, st().extractTotal]).toEqual(['running', 3, 12]);
    st().extractFailed('Extraction stopped.');
    expect(st().extractStatus).toBe('error');
  });
});
