/**
 * Prefill, in one place: the graph inputs of a pass over new tokens after `past` cached ones
 * (used by the cut chain's ModelForward and the tapped extraction session), and how many new
 * tokens one pass may take.
 */
import type { ExportStyle } from '../surgery';
import { ort, type OrtTensor } from './ort';
import type { ExecutionProvider } from './session-options';

/**
 * ORT WebGPU's GroupQueryAttention (model-builder exports) returned wrong prefill results for
 * 32 or more new tokens in one pass (onnxruntime-web 1.31.0-dev, uncut models too, measured
 * against onnxruntime-node): such prompts are run in chunks through the KV cache instead.
 */
export const GQA_PREFILL_CHUNK = 16;

/** Longest prefill one pass may run for this export style on this execution provider. */
export function prefillChunk(style: ExportStyle, ep: ExecutionProvider): number {
  return style === 'model-builder' && ep === 'webgpu' ? GQA_PREFILL_CHUNK : Infinity;
}

export function int64(values: number[], dims: number[]): OrtTensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

/** input_ids, attention_mask and position_ids for `tokens` following `past` cached tokens (no KV feeds). */
export function tokenFeeds(tokens: number[], past: number): Record<string, OrtTensor> {
  const n = tokens.length;
  return {
    input_ids: int64(tokens, [1, n]), // [batch, seq]
    attention_mask: new ort.Tensor('int64', new BigInt64Array(past + n).fill(1n), [1, past + n]), // [batch, total]
    position_ids: int64(
      Array.from({ length: n }, (_, i) => past + i),
      [1, n],
    ), // [batch, seq]
  };
}
