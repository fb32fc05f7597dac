/**
 * rotate_half as one MatMul (surgery/rotate-half.ts): every exported Slice/Slice/Neg/Concat
 * becomes MatMul(x, R), and the model's logits stay bit for bit those of the file
 * (onnxruntime-node with its optimizer off, so nothing else changes under the comparison).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, type Graph } from '../../../../src/engine/onnx/proto';
import { fuseRotateHalf } from '../../../../src/engine/surgery/rotate-half';
import { cleanup, prefillLogits } from '../../../support/ort-node-prefill';

const MODELS = '.models/traitlab';
// name, file, rotate_halfs (q and k per block; 0 where the exporter uses RotaryEmbedding or GQA's own rotary)
const FIXTURES: [string, string, number][] = [
  ['optimum fp32', 'tiny-llama/onnx/model.onnx', 8],
  ['optimum q4', 'tiny-llama/onnx/model_q4.onnx', 8],
  ['optimum q4f16', 'tiny-llama-q4f16/onnx/model_q4f16.onnx', 8],
  ['optimum GatherBlockQuantized', 'tiny-llama-gbq/onnx/model_q4.onnx', 8],
  ['torch-dynamo fp32', 'tiny-llama-dynamo/onnx/model.onnx', 8],
  ['model-builder q4 (GroupQueryAttention rotary)', 'tiny-llama-mb/onnx/model_q4.onnx', 0],
  ['gemma-3 script q4 (RotaryEmbedding)', 'tiny-gemma3/onnx/model_q4.onnx', 0],
];

afterAll(cleanup);
const count = (g: Graph, op: string) => g.node.filter((n) => n.opType === op).length;

for (const [name, rel, expected] of FIXTURES) {
  const path = join(MODELS, rel);
  describe.skipIf(!existsSync(path))(`rotate_half as MatMul: ${name}`, () => {
    const bytes = new Uint8Array(readFileSync(path));

    it(expected ? `rewrites all ${expected} rotate_halfs, bit-exact` : 'leaves the graph as it is', async () => {
      const m = decodeModel(bytes);
      const before = m.graph.node.length;
      expect(fuseRotateHalf(m.graph)).toBe(expected);
      expect(m.graph.node.length).toBe(before - 3 * expected);
      if (!expected) return;
      expect(count(m.graph, 'Neg')).toBe(0);
      // one R per head size and element type
      const rs = m.graph.initializer.filter((t) => t.name.startsWith('/traitlab/rotate_half/'));
      expect(rs).toHaveLength(1);
      expect(rs[0].dataType).toBe(rel.includes('f16') ? DataType.FLOAT16 : DataType.FLOAT);
      const ids = [1, 5, 9, 2, 7, 3];
      const ref = await prefillLogits(bytes, ids);
      const got = await prefillLogits(encodeModel(m), ids);
      expect(got.length).toBe(ref.length);
      let differ = 0;
      for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) differ++;
      expect(differ, 'logits that differ from the file').toBe(0);
    });
  });
}

describe.skipIf(!existsSync(join(MODELS, 'tiny-llama/onnx/model.onnx')))('rotate_half near misses stay', () => {
  const load = () => decodeModel(new Uint8Array(readFileSync(join(MODELS, 'tiny-llama/onnx/model.onnx'))));
  it('a Neg output someone else reads', () => {
    const m = load();
    const neg = m.graph.node.find((n) => n.opType === 'Neg')!;
    m.graph.output.push({ name: neg.output[0] });
    expect(fuseRotateHalf(m.graph)).toBe(7);
  });
  it('halves swapped (concat(x1, −x2) is not rotate_half)', () => {
    const m = load();
    const cat = m.graph.node.find((n) => n.opType === 'Concat' && m.graph.node.some((x) => x.opType === 'Neg' && x.output[0] === n.input[0]))!;
    cat.input.reverse();
    expect(fuseRotateHalf(m.graph)).toBe(7);
  });
});
