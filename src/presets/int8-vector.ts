/**
 * int8 directions with one float scale per layer (x ≈ q · scale, scale = max|x| / 127): what a
 * share link uses for custom traits that are not in use (their slider only; they do not steer).
 */

export interface Int8Layer {
  scale: number;
  q: Int8Array; // [hidden]
}

export function packInt8(x: Float32Array): Int8Layer {
  let max = 0;
  for (const v of x) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? Number((max / 127).toPrecision(9)) : 1;
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(x[i] / scale)));
  return { scale, q };
}

export function unpackInt8(q: Int8Array, scale: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale;
  return out;
}
