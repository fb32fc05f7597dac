/** CPU reference extraction math and calibration, on synthetic data with planted directions. */
import { describe, expect, it } from 'vitest';
import { calibrate, projectionForScore, score } from '../../../src/traits/calibration';
import {
  chooseLayer,
  firstPrincipalComponent,
  meanDifference,
  middleLayers,
  pairedDifferences,
  pcaDirection,
  project,
  separation,
} from '../../../src/traits/extract-math';
import { cosine, unitVector } from '../../../src/steering/vector';
import { mulberry32 } from '../../../src/shared/rng';

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
function randomUnit(h: number, rand: () => number): Float32Array {
  return unitVector(Array.from({ length: h }, () => gaussian(rand)));
}

/** n pairs: shared per-pair context c (big noise) ± strength·d/2 + small independent noise. */
function plantedPairs(h: number, n: number, d: Float32Array, seed: number, strength = 2, noise = 0.3, context = 3) {
  const rand = mulberry32(seed);
  const high: Float32Array[] = [];
  const low: Float32Array[] = [];
  for (let k = 0; k < n; k++) {
    const c = Array.from({ length: h }, () => context * gaussian(rand));
    const s = strength * (0.7 + 0.6 * rand()); // pairs express the trait by different amounts
    high.push(Float32Array.from(c, (v, i) => v + (s / 2) * d[i] + noise * gaussian(rand)));
    low.push(Float32Array.from(c, (v, i) => v - (s / 2) * d[i] + noise * gaussian(rand)));
  }
  return { high, low };
}

describe('extraction math', () => {
  const H = 64;
  const d = randomUnit(H, mulberry32(11));

  it('mean difference recovers a planted direction (cosine > 0.99)', () => {
    const { high, low } = plantedPairs(H, 200, d, 1);
    expect(cosine(meanDifference(high, low), d)).toBeGreaterThan(0.99);
  });

  it('mean difference is exact on simple data and checks sizes', () => {
    const md = meanDifference([Float32Array.of(1, 2), Float32Array.of(3, 4)], [Float32Array.of(0, 0)]);
    expect(Array.from(md)).toEqual([2, 3]);
    expect(() => meanDifference([], [Float32Array.of(1)])).toThrow(/no activations/);
    expect(() => meanDifference([Float32Array.of(1, 2)], [Float32Array.of(1)])).toThrow(/hidden size/);
    expect(() => pairedDifferences([Float32Array.of(1)], [])).toThrow(/paired/);
  });

  it('PCA of paired differences recovers the direction, uncentered and centered', () => {
    // Centered PCA sees only how much the pairs' differences vary, so the pairs must express
    // the trait by clearly different amounts (strength 10: between 7 and 13).
    const { high, low } = plantedPairs(H, 600, d, 2, 10);
    const u = pcaDirection(high, low);
    const c = pcaDirection(high, low, { center: true });
    expect(cosine(u, d)).toBeGreaterThan(0.99);
    expect(cosine(c, d)).toBeGreaterThan(0.99);
    expect(Math.hypot(...u)).toBeCloseTo(1, 6);
  });

  it('PCA sign is fixed so that high − low projects positively', () => {
    for (const seed of [3, 4, 5, 6]) {
      const { high, low } = plantedPairs(H, 50, d, seed);
      const u = pcaDirection(high, low);
      const c = pcaDirection(high, low, { center: true });
      const diffs = pairedDifferences(high, low);
      const meanProj = (v: Float32Array) => project(diffs, v).reduce((a, b) => a + b, 0) / diffs.length;
      expect(meanProj(u)).toBeGreaterThan(0);
      expect(meanProj(c)).toBeGreaterThan(0);
      // Swapping the classes flips the direction.
      expect(cosine(pcaDirection(low, high), u)).toBeLessThan(-0.999);
    }
  });

  it('power iteration finds the top eigenvector of a known matrix', () => {
    // Rows ±3·e0 and ±1·e1: top direction e0 (uncentered and centered alike).
    const rows = [Float32Array.of(3, 1, 0), Float32Array.of(-3, 1, 0), Float32Array.of(3, -1, 0), Float32Array.of(-3, -1, 0)];
    const v = firstPrincipalComponent(rows);
    expect(Math.abs(v[0])).toBeCloseTo(1, 6);
    expect(v[0]).toBeGreaterThan(0); // mean is 0: tie broken by the largest component
    const z = firstPrincipalComponent([new Float32Array(3), new Float32Array(3)]);
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it('separation: Cohen d and midpoint accuracy', () => {
    const s = separation([2, 4], [-2, -4]);
    expect(s.meanHigh).toBe(3);
    expect(s.meanLow).toBe(-3);
    // pooled variance = (1+1+1+1)/2 = 2
    expect(s.effectSize).toBeCloseTo(6 / Math.sqrt(2), 12);
    expect(s.accuracy).toBe(1);
    expect(separation([1, -5], [0, 0]).accuracy).toBe(0.75); // means −2 vs 0, midpoint −1
    // Reversed classes: accuracy still counts the right side of the midpoint.
    const r = separation([-1, -2], [1, 2]);
    expect(r.effectSize).toBeLessThan(0);
    expect(r.accuracy).toBe(1);
    expect(separation([1, 1], [0, 0]).effectSize).toBe(Infinity);
    expect(separation([1, 1], [1, 1]).effectSize).toBe(0);
  });

  it('middle layers exclude ~15% at each end; chooseLayer picks the best middle layer', () => {
    expect(middleLayers(6)).toEqual([1, 2, 3, 4]);
    expect(middleLayers(30)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
    expect(middleLayers(2)).toEqual([0, 1]);
    expect(middleLayers(3)).toEqual([1]);
    expect(middleLayers(1)).toEqual([0]);
    const effect = new Map([
      [0, 9],
      [1, 2],
      [2, 5],
      [3, 5],
      [4, 1],
      [5, 8],
    ]);
    expect(chooseLayer(effect, 6)).toBe(2); // edges excluded, tie → earlier
    expect(chooseLayer({ 0: 3, 5: 1 }, 6)).toBe(0); // no middle layer scored → best overall
    expect(
      chooseLayer(
        new Map([
          [2, NaN],
          [3, 0.5],
        ]),
        6,
      ),
    ).toBe(3);
    expect(() => chooseLayer(new Map(), 6)).toThrow(/no layer/);
  });

  it('held-out separation on synthetic layers picks the layer with the planted signal', () => {
    // Layers 0..5: the signal is strongest at layer 3, weaker elsewhere.
    const strengths = [0.5, 1, 2, 4, 2, 6]; // layer 5 is strong but excluded as an edge layer
    const effect = new Map<number, number>();
    strengths.forEach((s, L) => {
      const train = plantedPairs(H, 40, d, 100 + L, s, 0.3, 1);
      const test = plantedPairs(H, 40, d, 200 + L, s, 0.3, 1);
      const dir = unitVector(meanDifference(train.high, train.low));
      effect.set(L, separation(project(test.high, dir), project(test.low, dir)).effectSize);
    });
    expect(chooseLayer(effect, 6)).toBe(3);
  });
});

describe('calibration', () => {
  it('maps the class means exactly to ±1', () => {
    const high = [3.5, 4.25, 5];
    const low = [-1, 0.5];
    const c = calibrate(high, low);
    const mh = (3.5 + 4.25 + 5) / 3;
    const ml = -0.25;
    expect(c.center).toBe((mh + ml) / 2);
    expect(c.scale).toBe((mh - ml) / 2);
    expect(score(mh, c)).toBe(1);
    expect(score(ml, c)).toBe(-1);
    expect(score(c.center, c)).toBe(0);
    expect(projectionForScore(0.5, c)).toBeCloseTo(c.center + 0.5 * c.scale, 12);
  });

  it('keeps ±1 when high projects below low, and rejects degenerate input', () => {
    const c = calibrate([-2], [2]);
    expect(c.scale).toBe(-2);
    expect(score(-2, c)).toBe(1);
    expect(score(2, c)).toBe(-1);
    expect(() => calibrate([], [1])).toThrow(/at least one/);
    expect(() => calibrate([1], [1])).toThrow(/same mean/);
    expect(() => calibrate([NaN], [1])).toThrow(/finite/);
  });
});
