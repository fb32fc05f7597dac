/**
 * Trait geometry and orthogonalised steering (issue 9, scope 4), as plain data:
 * - traitGeometry: the cosine matrix of the trait vectors in use. Each row is compared at the
 *   row trait's steering layer, using every trait's vector at that layer (null = n/a where a
 *   trait has none there). With every trait at one layer (the usual case) it is symmetric.
 * - orthogonalSteering: what the engine gets when traits are steered orthogonalised. For every
 *   trait with a real vector (extracted, imported, from a link or custom; demo directions are
 *   left as they are) the steering direction at its layer is its vector minus the components
 *   along the other real vectors there (Gram–Schmidt, src/steering/geometry.ts), at the
 *   original norm. It is registered as an extra direction (`<id>~orthogonal`) that carries the
 *   trait's strength and mode, while the trait's own slot stays read-only: the readout of every
 *   trait keeps its raw direction and calibration, so raw and orthogonalised runs are measured
 *   with the same instruments. The engine and kernels are unchanged.
 */
import { cosineMatrix, orthogonalize, randomCosineScale } from '../../steering/geometry';
import { K_MAX } from '../../steering/mode';
import { isActive, type TraitSetting } from '../../steering/plan';
import type { ModelInfo, WireVector } from '../../protocol/messages';
import type { SteeringSlice, TraitEntry } from '../store/steering-slice';
import { effectiveLayer } from './trait-vectors';

type Kind = SteeringSlice['vectorKind'][string];

/** Suffix of the extra direction an orthogonalised trait steers with (not a valid trait id: ids are slugs). */
export const ORTHO_SUFFIX = '~orthogonal';
export const orthoId = (traitId: string) => traitId + ORTHO_SUFFIX;

/** An exact orthogonalised direction a share link brought, valid while the trait's vector at `layer` is still `raw`. */
export interface LinkSteer {
  layer: number;
  raw: Float32Array; // [hidden]
  vector: Float32Array; // [hidden]
}

export interface GeometryRow {
  traitId: string;
  label: string;
  /** The row trait's steering layer, where the row is compared. */
  layer: number;
  /** Cosine with each trait of `ids` at this row's layer; null = that trait has no vector there. */
  cos: (number | null)[];
  /** |v⊥| / |v|: the share of this vector not along the others at its layer (null: no others there). */
  kept: number | null;
  /** The vector lies in the span of the others: orthogonalised steering has nothing left. */
  degenerate: boolean;
}

export interface TraitGeometry {
  hidden: number;
  ids: string[];
  labels: string[];
  rows: GeometryRow[];
  /** Every row at one layer (so the matrix is symmetric). */
  oneLayer: boolean;
  /** Traits without a real vector (demo directions), left out of the matrix. */
  leftOut: string[];
  mostEntangled: { a: string; b: string; cos: number; layer: number } | null;
  /** 1/√hidden: the typical |cosine| of two random directions in this hidden size. */
  randomScale: number;
  reading: string;
}

const isReal = (k: Kind | undefined) => k === 'extracted' || k === 'shared' || k === 'custom';

/** The real (non-demo) vectors among the registered ones, in trait order. */
function realVectors(vectors: readonly WireVector[], kinds: Readonly<Record<string, Kind>>): WireVector[] {
  return vectors.filter((w) => isReal(kinds[w.traitId]));
}

export function traitGeometry(
  info: ModelInfo,
  traits: readonly TraitEntry[],
  vectors: readonly WireVector[],
  kinds: Readonly<Record<string, Kind>>,
): TraitGeometry {
  const real = realVectors(vectors, kinds);
  const byId = new Map(traits.map((t) => [t.traitId, t]));
  const label = (id: string) => byId.get(id)?.label ?? id;
  const ids = real.map((w) => w.traitId);
  const layerOf = (id: string) => {
    const t = byId.get(id);
    return t ? effectiveLayer(t, info) : info.cutLayers[0];
  };
  const matrices = new Map<number, (number | null)[][]>();
  const at = (layer: number) => {
    let m = matrices.get(layer);
    if (!m) matrices.set(layer, (m = cosineMatrix(real.map((w) => w.layers[layer]))));
    return m;
  };
  const rows: GeometryRow[] = real.map((w, i) => {
    const layer = layerOf(w.traitId);
    const x = w.layers[layer];
    const others = real.filter((o, j) => j !== i && o.layers[layer]).map((o) => o.layers[layer]);
    const o = x && others.length ? orthogonalize(x, others) : null;
    return { traitId: w.traitId, label: label(w.traitId), layer, cos: at(layer)[i], kept: o ? o.kept : null, degenerate: o?.degenerate ?? false };
  });
  let most: TraitGeometry['mostEntangled'] = null;
  rows.forEach((r, i) =>
    r.cos.forEach((c, j) => {
      if (j === i || c === null || (most && Math.abs(c) <= Math.abs(most.cos))) return;
      most = { a: r.traitId, b: ids[j], cos: c, layer: r.layer };
    }),
  );
  const randomScale = randomCosineScale(info.hidden);
  const leftOut = traits.filter((t) => kinds[t.traitId] === 'demo').map((t) => t.traitId);
  return {
    hidden: info.hidden,
    ids,
    labels: ids.map(label),
    rows,
    oneLayer: new Set(rows.map((r) => r.layer)).size <= 1,
    leftOut,
    mostEntangled: most,
    randomScale,
    reading: readingOf(most, label, randomScale, info.hidden, ids.length),
  };
}

function readingOf(most: TraitGeometry['mostEntangled'], label: (id: string) => string, random: number, hidden: number, n: number): string {
  if (n < 2 || !most) return 'Extract or import at least two trait vectors to see how entangled they are.';
  const c = most.cos;
  const times = Math.abs(c) / random;
  const verdict =
    times < 2 ? 'no more than random directions would be' : times < 5 ? 'somewhat more than random directions' : 'far more than random directions';
  return (
    `Most entangled: ${label(most.a)} and ${label(most.b)}, cosine ${c.toFixed(3)} at layer ${most.layer} — ` +
    `${verdict} (two random directions in ${hidden} dimensions: about ±${random.toFixed(3)} = 1/√${hidden}).`
  );
}

export interface OrthogonalSteering {
  vectors: WireVector[];
  settings: TraitSetting[];
  /** Per orthogonalised trait: the direction it steers with at its layer, and how much of it was kept. */
  steer: Record<string, { layer: number; vector: Float32Array; kept: number; degenerate: boolean; fromLink: boolean }>;
  /** Layers where the directions exceed the kernels' K_MAX slots (the last ones would be dropped). */
  overfull: number[];
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The vectors and settings that steer every active trait with a real vector orthogonalised against
 * the other real vectors at its steering layer. A trait with no other real vector at its layer
 * (or a demo direction) steers as it is. An exact direction from a share link (linkSteer) is
 * used as it is while the trait's vector is still the link's.
 */
export function orthogonalSteering(
  vectors: readonly WireVector[],
  kinds: Readonly<Record<string, Kind>>,
  settings: readonly TraitSetting[],
  linkSteer: Readonly<Record<string, LinkSteer>> = {},
): OrthogonalSteering {
  const real = realVectors(vectors, kinds);
  const extra: WireVector[] = [];
  const extraSettings: TraitSetting[] = [];
  const steer: OrthogonalSteering['steer'] = {};
  const out = settings.map((s) => {
    const w = real.find((x) => x.traitId === s.traitId);
    const x = w?.layers[s.layer];
    if (!w || !x || !isActive(s)) return s;
    // A link's exact direction wins (the vectors it was made against need not have travelled).
    const link = linkSteer[s.traitId];
    const fromLink = link !== undefined && link.layer === s.layer && sameFloats(link.raw, x);
    const others = real.filter((o) => o !== w && o.layers[s.layer]).map((o) => o.layers[s.layer]);
    if (!fromLink && others.length === 0) return s;
    const o = fromLink ? { vector: link.vector, kept: NaN, degenerate: false } : orthogonalize(x, others);
    steer[s.traitId] = { layer: s.layer, vector: o.vector, kept: o.kept, degenerate: o.degenerate, fromLink };
    extra.push({ traitId: orthoId(s.traitId), model: w.model, hidden: w.hidden, layers: { [s.layer]: o.vector }, units: w.units });
    extraSettings.push({ ...s, traitId: orthoId(s.traitId) });
    // The trait's own slot only reads out (its raw direction, its calibration).
    return { ...s, enabled: false };
  });
  const all = [...vectors, ...extra];
  const layers = [...new Set(extra.flatMap((w) => Object.keys(w.layers).map(Number)))];
  const overfull = layers.filter((l) => all.filter((w) => w.layers[l]).length > K_MAX);
  return { vectors: all, settings: [...out, ...extraSettings], steer, overfull };
}
