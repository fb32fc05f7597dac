/**
 * Logits of one prefill on onnxruntime-node with its graph optimizer off, so a comparison sees the
 * graph as written (tests of the surgery's fusions compare an edited graph with the file this way).
 * Model bytes are written to a temporary folder beside a copy of `externalData` (model.onnx_data)
 * when the model has one; `cleanup()` removes every folder made.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DataType, decodeModel, toNum } from '../../src/engine/onnx/proto';

const dirs: string[] = [];

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The `logits` output for `ids` from position 0 (empty KV cache), raw: Float32Array or float16 bits. */
export async function prefillLogits(bytes: Uint8Array, ids: number[], externalData?: string): Promise<Float32Array | Uint16Array> {
  const dir = mkdtempSync(join(tmpdir(), 'traitlab-prefill-'));
  dirs.push(dir);
  if (externalData && existsSync(externalData)) copyFileSync(externalData, join(dir, 'model.onnx_data'));
  writeFileSync(join(dir, 'm.onnx'), bytes);
  const s = await ort.InferenceSession.create(join(dir, 'm.onnx'), { graphOptimizationLevel: 'disabled' });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (_, i) => BigInt(i)),
      [1, ids.length],
    ),
  };
  for (const inp of decodeModel(bytes).graph.input) {
    if (!inp.name.startsWith('past_key_values')) continue;
    const dims = inp.type!.tensorType!.shape!.dim.map((d) => (d.dimValue ? toNum(d.dimValue) : 0));
    dims[0] = 1; // [batch, kv_heads, 0, head_dim]
    const f16 = inp.type!.tensorType!.elemType === DataType.FLOAT16;
    feeds[inp.name] = f16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  }
  const out = (await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])))).logits;
  await s.release();
  return out.data as Float32Array | Uint16Array;
}
