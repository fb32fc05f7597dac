/**
 * Blockwise symmetric 4-bit quantization in the layout of com.microsoft MatMulNBits
 * (bits=4, no zero_points input → zero point 8): B uint8 [N, K/block, block/2] with the even
 * k index in the low nibble, scales float32 [N * K/block]; w ≈ (q - 8) * scale.
 */

export interface Q4Weight {
  k: number;
  n: number;
  blockSize: number;
  /** [N, K/blockSize, blockSize/2] */
  packed: Uint8Array;
  /** [N * K/blockSize] */
  scales: Float32Array;
}

/** Quantize a MatMul B matrix given row-major as [K, N]. K must be a multiple of blockSize. */
export function quantizeQ4(w: Float32Array, k: number, n: number, blockSize = 32): Q4Weight {
  if (k % blockSize !== 0) throw new Error(`K=${k} is not a multiple of block size ${blockSize}`);
  const blocks = k / blockSize;
  const packed = new Uint8Array(n * blocks * (blockSize / 2));
  const scales = new Float32Array(n * blocks);
  const col = new Float32Array(blockSize);
  for (let j = 0; j < n; j++) {
    for (let b = 0; b < blocks; b++) {
      // Symmetric: the value of largest magnitude maps to -8 (so the range [-8, 7] is used).
      let amax = 0;
      let signed = 0;
      for (let t = 0; t < blockSize; t++) {
        const v = w[(b * blockSize + t) * n + j];
        col[t] = v;
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          signed = v;
        }
      }
      const scale = amax === 0 ? 0 : signed / -8;
      const fscale = Math.fround(scale);
      scales[j * blocks + b] = fscale;
      const inv = fscale === 0 ? 0 : 1 / fscale;
      const base = (j * blocks + b) * (blockSize / 2);
      for (let t = 0; t < blockSize; t += 2) {
        const q0 = Math.min(15, Math.max(0, Math.round(col[t] * inv) + 8));
        const q1 = Math.min(15, Math.max(0, Math.round(col[t + 1] * inv) + 8));
        packed[base + t / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { k, n, blockSize, packed, scales };
}

/** Inverse of quantizeQ4, back to row-major [K, N]. */
export function dequantizeQ4(q: Q4Weight): Float32Array {
  const { k, n, blockSize, packed, scales } = q;
  const blocks = k / blockSize;
  const out = new Float32Array(k * n);
  for (let j = 0; j < n; j++) {
    for (let b = 0; b < blocks; b++) {
      const s = scales[j * blocks + b];
      const base = (j * blocks + b) * (blockSize / 2);
      for (let t = 0; t < blockSize; t++) {
        const byte = packed[base + (t >> 1)];
        const qv = t & 1 ? byte >> 4 : byte & 15;
        out[(b * blockSize + t) * n + j] = (qv - 8) * s;
      }
    }
  }
  return out;
}
