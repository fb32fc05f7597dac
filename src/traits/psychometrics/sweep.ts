/**
 * Dose-response sweeps: the strength grid, what is recorded per step, the cross-trait matrix
 * (slope of every trait's score per unit strength of the swept trait) and the "illusion" view
 * (do self-report, behaviour and inside readout move together? Spearman rank correlations
 * across the steps, and a one-sentence reading).
 */

export interface SweepConfig {
  /** Traits swept one at a time (each from min to max, the others at 0). */
  traits: string[];
  min: number;
  max: number;
  steps: number;
}

export const DEFAULT_SWEEP: Omit<SweepConfig, 'traits'> = { min: -1, max: 1, steps: 9 };

export function strengthGrid(min: number, max: number, steps: number): number[] | string {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return 'Sweep bounds must be numbers.';
  if (!Number.isInteger(steps) || steps < 2 || steps > 41) return 'Sweep steps must be a whole number from 2 to 41.';
  if (max <= min) return 'The sweep maximum must be larger than its minimum.';
  return Array.from({ length: steps }, (_, i) => Number((min + ((max - min) * i) / (steps - 1)).toFixed(6)));
}

/** What one step measured, per trait: mean (and range) of each measure. */
export interface Measure {
  mean: number;
  min: number;
  max: number;
}

export interface SweepStep {
  /** The swept trait and its strength at this step. */
  trait: string;
  strength: number;
  /** Self-report (inventory, 1–5) per trait: mean and spread across templates × orders. */
  inventory: Record<string, Measure>;
  /** Judge rating of the probe replies (1–5) per trait. */
  judge: Record<string, Measure>;
  /** Unsteered re-read of the probe replies (calibrated, −1 low persona … +1 high persona). */
  reread: Record<string, number>;
  /** Inside readout while generating (calibrated post-steering projection, mean over reply tokens). */
  inside: Record<string, number>;
  replies: string[];
}

/** Persona reference point: the same measures at strength 0 under a high or low persona prompt. */
export interface PersonaPoint {
  trait: string;
  pole: 'high' | 'low';
  inventory: Record<string, Measure>;
  judge: Record<string, Measure>;
  reread: Record<string, number>;
  inside: Record<string, number>;
}

export interface SweepResult {
  model: string;
  dtype: string;
  startedAt: string;
  config: SweepConfig;
  steps: SweepStep[];
  personas: PersonaPoint[];
  /** True when stopped before the end. */
  partial: boolean;
  /** Which vectors steered: the traits' own ('raw', also when absent) or orthogonalised against each other. */
  vectors?: SweepVectors;
  /** startedAt of the sweep run together with this one on the other vectors (a raw/orthogonalised pair). */
  pair?: string;
}

export type SweepVectors = 'raw' | 'orthogonal';

/** Least-squares slope of y on x (NaN with fewer than two distinct x or any missing y). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs.map((x, i) => [x, ys[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) return NaN;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

export type MeasureName = 'inventory' | 'judge' | 'reread' | 'inside';

export function measureOf(step: SweepStep | PersonaPoint, m: MeasureName, trait: string): number {
  const v = step[m][trait];
  if (v === undefined) return NaN;
  return typeof v === 'number' ? v : v.mean;
}

/** matrix[i][j] = slope of trait j's `measure` per unit strength of swept trait i. */
export function crossTraitMatrix(
  result: SweepResult,
  measure: MeasureName,
  traits: readonly string[],
): { swept: string[]; traits: string[]; slopes: number[][] } {
  const swept = result.config.traits.filter((t) => result.steps.some((s) => s.trait === t));
  const slopes = swept.map((i) => {
    const steps = result.steps.filter((s) => s.trait === i);
    return traits.map((j) =>
      slope(
        steps.map((s) => s.strength),
        steps.map((s) => measureOf(s, measure, j)),
      ),
    );
  });
  return { swept, traits: [...traits], slopes };
}

/** Average ranks (ties share the mean rank), 1-based. */
export function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k][1]] = r;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation (Pearson on average ranks); NaN when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const pts = a.map((x, i) => [x, b[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 3) return NaN;
  const ra = ranks(pts.map(([x]) => x));
  const rb = ranks(pts.map(([, y]) => y));
  const ma = ra.reduce((s, x) => s + x, 0) / ra.length;
  const mb = rb.reduce((s, x) => s + x, 0) / rb.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

export interface IllusionRow {
  trait: string;
  /** Spearman ρ of each measure with the strength across the trait's own sweep. */
  withStrength: Record<MeasureName, number>;
  /** Pairwise ρ between the measures. */
  selfVsBehaviour: number;
  selfVsInside: number;
  behaviourVsInside: number;
  reading: string;
}

/** |ρ| at or above this counts as "follows". */
export const FOLLOWS = 0.6;

function follows(r: number): 'up' | 'down' | 'no' | 'unknown' {
  if (!Number.isFinite(r)) return 'unknown';
  if (r >= FOLLOWS) return 'up';
  if (r <= -FOLLOWS) return 'down';
  return 'no';
}

/** One sentence: which measures follow the steering of this trait, and which do not. */
export function illusionReading(trait: string, self: number, behaviour: number, inside: number): string {
  const parts: [string, number][] = [
    ['self-report', self],
    ['behaviour', behaviour],
    ['the inside readout', inside],
  ];
  const yes = parts.filter(([, r]) => follows(r) === 'up').map(([n]) => n);
  const inv = parts.filter(([, r]) => follows(r) === 'down').map(([n]) => n);
  const no = parts.filter(([, r]) => follows(r) === 'no').map(([n]) => n);
  const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
  const bits: string[] = [];
  if (yes.length) bits.push(`${list(yes)} ${yes.length > 1 ? 'follow' : 'follows'} steering`);
  if (inv.length) bits.push(`${list(inv)} ${inv.length > 1 ? 'move' : 'moves'} against it`);
  if (no.length) bits.push(`${list(no)} ${no.length > 1 ? 'do' : 'does'} not`);
  if (!bits.length) return `${trait}: not enough steps to tell.`;
  return `${trait}: ${bits.join('; ')}.`;
}

/** Behaviour = the judge rating when present, else the unsteered re-read. */
export function illusionRows(result: SweepResult): IllusionRow[] {
  return result.config.traits
    .filter((t) => result.steps.some((s) => s.trait === t))
    .map((trait) => {
      const steps = result.steps.filter((s) => s.trait === trait);
      const x = steps.map((s) => s.strength);
      const col = (m: MeasureName) => steps.map((s) => measureOf(s, m, trait));
      const inv = col('inventory');
      const judge = col('judge');
      const reread = col('reread');
      const inside = col('inside');
      const behaviour = judge.some(Number.isFinite) ? judge : reread;
      const withStrength = {
        inventory: spearman(x, inv),
        judge: spearman(x, judge),
        reread: spearman(x, reread),
        inside: spearman(x, inside),
      };
      const rb = spearman(x, behaviour);
      return {
        trait,
        withStrength,
        selfVsBehaviour: spearman(inv, behaviour),
        selfVsInside: spearman(inv, inside),
        behaviourVsInside: spearman(behaviour, inside),
        reading: illusionReading(trait, withStrength.inventory, rb, withStrength.inside),
      };
    });
}
