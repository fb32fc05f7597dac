/**
 * Steering strength <-> kernel parameter conversions (pure).
 *
 * Strength is measured in units of a layer's typical residual norm (mean per-token L2 norm of
 * the residual at that layer, measured once per model with the norm kernel), so
 * strength 1.0 moves the residual by about its own typical size.
 */

/** alpha for add mode so that |alpha * v| = strength * typicalNorm. A zero vector gives 0. */
export function strengthToAlpha(strength: number, typicalNorm: number, vectorNorm: number): number {
  if (vectorNorm === 0) return 0;
  return (strength * typicalNorm) / vectorNorm;
}

/** Target projection for clamp mode: strength * typicalNorm. */
export function strengthToTarget(strength: number, typicalNorm: number): number {
  return strength * typicalNorm;
}

/** Mean of per-token norms (e.g. the norm kernel's output over a few prompts); 0 for none. */
export function typicalNorm(norms: ArrayLike<number>): number {
  if (norms.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < norms.length; i++) s += norms[i];
  return s / norms.length;
}
