/**
 * Shared pieces of the sampling kernels (argmax.wgsl, topk.wgsl): their workgroup size, the
 * logits layouts they read and the values their sources are built with.
 */
import { checkU32 } from './gpu-buffers';
import type { WgslValues } from './shader-source';

/** Invocations of the one workgroup both sampling kernels dispatch (a power of two). */
export const SAMPLE_WG = 256;

/** What both kernels write instead of a result when the row holds a NaN or ±Infinity (the shaders' NONE). */
export const SAMPLE_NONE = 0xffffffff;

/** How a row of logits sits in its buffer: `vocab` values of f32, or of f16 packed two per word. */
export interface LogitsLayout {
  vocab: number;
  f16: boolean;
}

/** buildWgsl values of a sampling kernel for logits of this element type. */
export function sampleValues(f16: boolean): WgslValues {
  return { WG: SAMPLE_WG, F16: f16 ? 'true' : 'false' };
}

/** Bytes of `rows` rows of logits, rounded up to whole u32 words (what the kernels bind). */
export function logitsBytes(layout: LogitsLayout, rows = 1): number {
  const bytes = rows * layout.vocab * (layout.f16 ? 2 : 4);
  return Math.ceil(bytes / 4) * 4;
}

export function checkLayout(layout: LogitsLayout): void {
  checkU32(layout.vocab, 'vocab');
  if (layout.vocab < 1) throw new RangeError('vocab must be at least 1');
}
