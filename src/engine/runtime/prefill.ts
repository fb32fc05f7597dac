/**
 * Prefill, in one place, for the cut chain's ModelForward (generation) and the tapped
 * extraction session: the graph inputs of a pass over new tokens after `past` cached ones, how
 * many new tokens one pass may take, and the loop that runs a prompt as such passes through
 * the KV cache.
 *
 * Why chunks: ORT WebGPU's GroupQueryAttention (model-builder exports, the gemma-3 build script)
 * returned wrong prefill results for 32 or more new tokens in one pass (onnxruntime-web
 * 1.31.0-dev, uncut models too, measured against onnxruntime-node), so on WebGPU, graphs with
 * GroupQueryAttention run prompts in chunks of GQA_PREFILL_CHUNK; everything else in one pass.
 */
import type { ModelStructure } from '../../protocol/structure';
import { ort, type OrtTensor } from './ort';
import type { ExecutionProvider } from './session-options';

export const GQA_PREFILL_CHUNK = 16;

/** Longest prefill one pass may run for this graph (its attention op) on this execution provider. */
export function prefillChunk(structure: Pick<ModelStructure, 'attention'>, ep: ExecutionProvider): number {
  return structure.attention === 'GroupQueryAttention' && ep === 'webgpu' ? GQA_PREFILL_CHUNK : Infinity;
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

/**
 * Run `tokens` as consecutive passes of at most `maxChunk` tokens; `pass(chunk, start, last)`
 * runs one (and updates its KV cache). Returns the passes' results in order.
 */
export async function chunkedPrefill<T>(
  tokens: readonly number[],
  maxChunk: number,
  pass: (chunk: number[], start: number, last: boolean) => Promise<T>,
): Promise<T[]> {
  if (tokens.length === 0) throw new Error('internal: prefill of zero tokens');
  const size = Number.isFinite(maxChunk) && maxChunk >= 1 ? Math.floor(maxChunk) : tokens.length;
  const out: T[] = [];
  for (let i = 0; i < tokens.length; i += size) out.push(await pass(tokens.slice(i, i + size), i, i + size >= tokens.length));
  return out;
}
