/**
 * Calibration of a trait readout: maps a raw projection p (activation · direction) to a score
 * where the mean of the low-trait class is −1 and the mean of the high-trait class is +1.
 *
 *   center = (meanHigh + meanLow) / 2,  scale = (meanHigh − meanLow) / 2,  score(p) = (p − center) / scale
 *
 * A negative scale (high projects below low) is kept as is, so the ±1 endpoints still hold.
 */
export interface Calibration {
  center: number;
  scale: number;
}

export function calibrate(highProj: readonly number[], lowProj: readonly number[]): Calibration {
  if (highProj.length === 0 || lowProj.length === 0) throw new Error('calibrate: both classes need at least one projection');
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const mh = mean(highProj);
  const ml = mean(lowProj);
  if (!Number.isFinite(mh) || !Number.isFinite(ml)) throw new Error('calibrate: projections must be finite');
  const scale = (mh - ml) / 2;
  if (scale === 0) throw new Error('calibrate: the two classes have the same mean projection (the direction does not separate them)');
  return { center: (mh + ml) / 2, scale };
}

export function score(p: number, c: Calibration): number {
  return (p - c.center) / c.scale;
}

/** Inverse of score: the projection that reads as score s. */
export function projectionForScore(s: number, c: Calibration): number {
  return c.center + s * c.scale;
}
