/**
 * Independent option probabilities with onnxruntime-node (CPU): the uncut model file (optionally
 * with `residual_after_layer += delta` as an Add node), the prompt text tokenized by
 * transformers.js in Node, one full forward without any cache, softmax of the last row over the
 * whole vocabulary. What anyone with the same model can do from an exported CSV row.
 */
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatMessage } from '../../src/shared/chat';
import { insertResidualAdd } from './steer-reference';

export interface RefModel {
  numLayers: number;
  kvHeads: number;
  headDim: number;
}

export async function nodeTokenizer(modelsDir: string, modelId: string): Promise<PreTrainedTokenizer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = resolve(modelsDir) + '/';
  return AutoTokenizer.from_pretrained(modelId);
}

export function encodeText(tok: PreTrainedTokenizer, text: string): number[] {
  return Array.from(tok.encode(text, { add_special_tokens: false }));
}

export function chatText(tok: PreTrainedTokenizer, messages: ChatMessage[]): string {
  return tok.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string;
}

export async function referenceSession(modelBytes: Uint8Array, steer?: { layer: number; delta: Float32Array }): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(steer ? insertResidualAdd(modelBytes, steer.layer, steer.delta) : modelBytes);
}

const i64 = (v: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

/** Last-row logits of one full pass over `ids` (no KV cache) // [vocab]. */
export async function lastLogits(session: ort.InferenceSession, ids: number[], m: RefModel): Promise<Float32Array> {
  const n = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids, [1, n]),
    attention_mask: i64(new Array<number>(n).fill(1), [1, n]),
    position_ids: i64(
      ids.map((_, i) => i),
      [1, n],
    ),
  };
  for (let l = 0; l < m.numLayers; l++) {
    for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, m.kvHeads, 0, m.headDim]);
  }
  const out = await session.run(feeds);
  const t = out.logits;
  const [, S, V] = t.dims;
  return (t.data as Float32Array).slice((S - 1) * V, S * V);
}

/** Softmax over the full row, float64, at the given ids. */
export function refProbs(row: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return ids.map((id) => Math.exp(row[id] - max) / sum);
}

/** The first token `label` adds after `prompt` (independently of the app's resolution). */
export function refLabelId(tok: PreTrainedTokenizer, prompt: string, label: string): number {
  const base = encodeText(tok, prompt);
  const full = encodeText(tok, prompt + label);
  for (let i = 0; i < base.length; i++) if (full[i] !== base[i]) throw new Error(`label ${JSON.stringify(label)} merges into the prompt`);
  return full[base.length];
}
