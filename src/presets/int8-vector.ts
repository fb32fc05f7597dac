/**
 * Compact trait vectors for share links: each layer's direction as int8 with one float scale
 * per layer (x ≈ q · scale, scale = max|x| / 127), bytes in base64url. A 576-wide layer is 768
 * characters instead of ~7 KB of float text.
 */
import { base64urlToBytes, bytesToBase64url } from './base64url';

export interface PackedLayer {
  /** Multiplier of the int8 values. */
  s: number;
  /** base64url of `hidden` int8 values. */
  q: string;
}

export function packLayer(x: Float32Array): PackedLayer {
  let max = 0;
  for (const v of x) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(x[i] / scale)));
  return { s: Number(scale.toPrecision(9)), q: bytesToBase64url(new Uint8Array(q.buffer)) };
}

/** The floats, or a reason why the packed layer is unusable. */
export function unpackLayer(p: PackedLayer, hidden: number): Float32Array | string {
  if (typeof p.s !== 'number' || !Number.isFinite(p.s) || p.s <= 0) return 'scale must be a positive finite number';
  if (typeof p.q !== 'string') return 'values must be a base64url string';
  const bytes = base64urlToBytes(p.q);
  if (!bytes) return 'values are not valid base64url';
  if (bytes.length !== hidden) return `has ${bytes.length} values, expected ${hidden}`;
  const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Float32Array(hidden);
  for (let i = 0; i < hidden; i++) out[i] = q[i] * p.s;
  return out;
}
