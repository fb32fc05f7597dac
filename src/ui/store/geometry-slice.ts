import type { StateCreator } from 'zustand';
import type { LinkSteer, TraitGeometry } from '../actions/geometry';
import type { AppState } from './index';

/** Trait geometry (cosines of the trait vectors in use) and orthogonalised steering. */
export interface GeometrySlice {
  /** Steer every trait with a real vector orthogonalised against the other traits' vectors at its layer. */
  orthogonal: boolean;
  /** The cosine matrix of the loaded model's trait vectors (recomputed whenever vectors or layers change). */
  geometry: TraitGeometry | null;
  /** Exact orthogonalised directions a share link brought, per trait id. */
  linkSteer: Record<string, LinkSteer>;
  setOrthogonal(on: boolean): void;
  setGeometry(g: TraitGeometry | null): void;
}

export const createGeometrySlice: StateCreator<AppState, [], [], GeometrySlice> = (set) => ({
  orthogonal: false,
  geometry: null,
  linkSteer: {},
  setOrthogonal: (orthogonal) => set({ orthogonal }),
  setGeometry: (geometry) => set({ geometry }),
});
