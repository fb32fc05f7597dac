/**
 * Axis ranges shared by several charts: the compare view's two traces use one y-scale (so a
 * steered run's scores are not stretched to the same height as the unsteered run's), and the
 * radar's radius starts below the smallest score so negative profiles (and a baseline near 0)
 * stay visible instead of collapsing into the centre.
 */
import type { ScoreRow } from './scores';

export interface Scale {
  domain: [number, number];
  ticks: number[];
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Rounded range over `values` (and 0, unless told not to), with about `count` intervals between its ticks. */
export function niceScale(values: readonly number[], count = 4, includeZero = true): Scale {
  const finite = values.filter(Number.isFinite);
  const zero = includeZero || finite.length === 0 ? [0] : [];
  let lo = Math.min(...zero, ...finite);
  let hi = Math.max(...zero, ...finite);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const step = niceStep((hi - lo) / count);
  // The 1e-9 keeps a value that is a tick up to rounding from adding one more step.
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const n = Math.round((hi - lo) / step);
  const ticks = Array.from({ length: n + 1 }, (_, i) => Number((lo + i * step).toPrecision(12)));
  return { domain: [ticks[0], ticks.at(-1)!], ticks };
}

/** One y-scale for every chart of these rows (each a run's scoreRows), over the traits shown. */
export function sharedScoreScale(runs: readonly (readonly ScoreRow[])[], traitIds: readonly string[]): Scale {
  const values: number[] = [];
  for (const rows of runs) {
    for (const row of rows) {
      for (const id of traitIds) {
        const v = row[id];
        if (typeof v === 'number') values.push(v);
      }
    }
  }
  return niceScale(values);
}

/**
 * The radar's radius: from half the data's spread below its smallest value (so the smallest
 * point is off the centre) to its largest, rounded.
 */
export function radarScale(values: readonly number[]): Scale {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return niceScale([]);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = 0.5 * Math.max(hi - lo, Math.abs(lo), Math.abs(hi), 1e-3);
  return niceScale([lo - pad, hi], 4, false);
}
