/** Shared chart scales: one rounded y-range for both compare traces, and a radar radius that keeps every point off the centre. */
import { describe, expect, it } from 'vitest';
import { niceScale, niceStep, radarScale, sharedScoreScale } from '../../../src/ui/chart-scale';
import type { ScoreRow } from '../../../src/ui/scores';

const rows = (values: Record<string, number>[]): ScoreRow[] => values.map((v, index) => ({ index, token: `t${index}`, ...v }));

describe('chart scales', () => {
  it('steps are 1, 2 or 5 times a power of ten', () => {
    expect([0.03, 0.12, 0.3, 0.7, 3, 11, 40].map(niceStep)).toEqual([0.05, 0.2, 0.5, 1, 5, 20, 50]);
    expect(niceStep(0)).toBe(1);
  });

  it('a rounded range with 0 in it and ticks on round numbers', () => {
    expect(niceScale([0.1, 0.45])).toEqual({ domain: [0, 0.6], ticks: [0, 0.2, 0.4, 0.6] });
    expect(niceScale([-11, 33])).toEqual({ domain: [-20, 40], ticks: [-20, 0, 20, 40] });
    expect(niceScale([-0.3, 0.3])).toEqual({ domain: [-0.4, 0.4], ticks: [-0.4, -0.2, 0, 0.2, 0.4] });
    expect(niceScale([2, 3], 4, false).domain).toEqual([2, 3]);
    expect(niceScale([])).toEqual({ domain: [-1, 1], ticks: [-1, -0.5, 0, 0.5, 1] });
  });

  it('the compare traces (−0.5..0.5 unsteered, −11..33 steered) get one scale covering both', () => {
    const unsteered = rows([{ a: -0.5, b: 0.2 }, { a: 0.5 }]);
    const steered = rows([
      { a: -11, b: 4 },
      { a: 33, c: 1000 },
    ]);
    const s = sharedScoreScale([unsteered, steered], ['a', 'b']);
    expect(s.domain).toEqual([-20, 40]); // trait c is not shown, so it does not count
    expect(sharedScoreScale([steered, unsteered], ['a', 'b'])).toEqual(s);
    for (const v of [-0.5, 0.5, -11, 33, 4]) expect(v >= s.domain[0] && v <= s.domain[1]).toBe(true);
  });

  it('the radar radius starts below the smallest value, so a baseline at 0 is not a dot in the centre', () => {
    const s = radarScale([0, 0, 0, 0.8, 0.6]);
    expect(s.domain[0]).toBeLessThan(0);
    expect(s.domain[1]).toBeGreaterThanOrEqual(0.8);
    const neg = radarScale([-2, -1.5, -1.8]);
    expect(neg.domain[0]).toBeLessThan(-2);
    expect(neg.domain[1]).toBeGreaterThanOrEqual(-1.5);
    // The smallest value sits at least a fifth of the way out.
    for (const [values, sc] of [
      [[0, 0.8], s],
      [[-2, -1.5], neg],
    ] as const) {
      expect((Math.min(...values) - sc.domain[0]) / (sc.domain[1] - sc.domain[0])).toBeGreaterThan(0.2);
    }
    expect(radarScale([0, 0, 0]).domain[0]).toBeLessThan(0);
  });
});
