/**
 * Converts an extraction result (src/traits/extracted.ts) into what the UI keeps: the
 * trait's direction, and per layer its separation and calibration (held-out high/low means of
 * the projection on that layer's unit vector: center = midpoint, scale = half the gap).
 */
import type { TraitVector } from '../../steering/vector';
import type { Calibration } from '../../traits/calibration';
import type { ExtractedTrait } from '../../traits/extracted';
import type { SeparationSummary } from '../../traits/vector-json';
import type { TraitData } from '../store/steering-slice';

export function fromExtraction(t: ExtractedTrait): { vector: TraitVector; data: TraitData } {
  const separation: Record<number, SeparationSummary> = {};
  const calibration: Record<number, Calibration> = {};
  for (const s of t.separation) {
    separation[s.layer] = { effectSize: s.effectSize, accuracy: s.accuracy };
    const scale = (s.meanHigh - s.meanLow) / 2;
    if (Number.isFinite(scale) && scale !== 0) calibration[s.layer] = { center: (s.meanHigh + s.meanLow) / 2, scale };
  }
  calibration[t.calibration.layer] = { center: t.calibration.center, scale: t.calibration.scale };
  return { vector: { model: t.model, hidden: t.hidden, layers: t.layers }, data: { separation, calibration, bestLayer: t.bestLayer } };
}
