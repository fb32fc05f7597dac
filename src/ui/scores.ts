/**
 * Calibrated per-token trait scores: score = (projection − center) / scale. With extraction
 * data the calibration maps the low/high persona means to −1/+1; without it (demo directions)
 * the projection is shown in units of the layer's typical residual norm (center 0).
 */
import { score, type Calibration } from '../traits/calibration';
import type { ModelInfo } from '../protocol/messages';
import type { TokenPoint } from './store/metrics-slice';
import type { TraitData, TraitEntry } from './store/steering-slice';
import { effectiveLayer } from './actions/trait-vectors';

export type Calibrations = Record<string, Calibration>;

export function calibrationsFor(traits: readonly TraitEntry[], info: ModelInfo | null, data: Readonly<Record<string, TraitData>>): Calibrations {
  const out: Calibrations = {};
  if (!info) return out;
  for (const t of traits) {
    const layer = effectiveLayer(t, info);
    out[t.traitId] = data[t.traitId]?.calibration?.[layer] ?? { center: 0, scale: info.typicalNorm[layer] || 1 };
  }
  return out;
}

export interface ScoreRow {
  index: number;
  token: string;
  /** traitId → score (after steering); missing when the token has no readout for the trait. */
  [traitId: string]: number | string;
}

/** One chart row per token: the calibrated score after steering for every trait with a readout. */
export function scoreRows(points: readonly TokenPoint[], cal: Calibrations, which: 'pre' | 'post' = 'post'): ScoreRow[] {
  return points.map((p) => {
    const row: ScoreRow = { index: p.index, token: p.text };
    for (const [id, proj] of Object.entries(p.projections)) if (cal[id]) row[id] = score(proj[which], cal[id]);
    return row;
  });
}

/** Mean score per trait over the points (pre = before steering, post = after). */
export function meanProfile(points: readonly TokenPoint[], cal: Calibrations, which: 'pre' | 'post'): Record<string, number> {
  const sum: Record<string, number> = {};
  const n: Record<string, number> = {};
  for (const p of points) {
    for (const [id, proj] of Object.entries(p.projections)) {
      if (!cal[id]) continue;
      sum[id] = (sum[id] ?? 0) + score(proj[which], cal[id]);
      n[id] = (n[id] ?? 0) + 1;
    }
  }
  return Object.fromEntries(Object.keys(sum).map((id) => [id, sum[id] / n[id]]));
}

/** Background colour for a score: blue for negative, orange for positive, alpha by size. */
export function scoreColor(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return 'transparent';
  const a = Math.min(1, Math.abs(s)) * 0.55;
  return s >= 0 ? `rgba(230, 120, 20, ${a.toFixed(3)})` : `rgba(40, 100, 220, ${a.toFixed(3)})`;
}
