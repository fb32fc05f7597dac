/**
 * The shared preamble (mask, positions, rotary, GQA seqlens) runs once, in part 0: later parts
 * take its results as graph inputs (surgery/carry.ts) instead of recomputing them. Checked on
 * every generated exporter fixture; that the carried chain still equals the uncut model is
 * split.test.ts (cut ≡ uncut, steered ≡ reference on onnxruntime-node).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, type Graph } from '../../../../src/engine/onnx/proto';
import { cutModel } from '../../../../src/engine/surgery';

const MODELS = '.models/traitlab';
const FIXTURES: [string, string, number][] = [
  // name, file, minimum node count saved in part 1 of a cut at [1]
  ['optimum fp32', 'tiny-llama/onnx/model.onnx', 10],
  ['optimum q4', 'tiny-llama/onnx/model_q4.onnx', 10],
  ['optimum q4f16 (slimmed names)', 'tiny-llama-q4f16/onnx/model_q4f16.onnx', 10],
  ['optimum GatherBlockQuantized', 'tiny-llama-gbq/onnx/model_q4.onnx', 10],
  ['model-builder q4 (GQA)', 'tiny-llama-mb/onnx/model_q4.onnx', 3],
  ['torch-dynamo q4', 'tiny-llama-dynamo/onnx/model_q4.onnx', 10],
  ['gemma-3 script q4 (GQA)', 'tiny-gemma3/onnx/model_q4.onnx', 3],
];

/** Names of the nodes of `g` that (transitively) read one of its non-initializer graph inputs. */
function dynamicNodes(g: Graph): Set<string> {
  const live = new Set(g.input.map((i) => i.name));
  for (const t of g.initializer) live.delete(t.name);
  const names = new Set<string>();
  for (const n of g.node) {
    if (!n.input.some((i) => live.has(i))) continue;
    names.add(n.name);
    for (const o of n.output) if (o) live.add(o);
  }
  return names;
}

for (const [name, rel, saved] of FIXTURES) {
  const path = join(MODELS, rel);
  describe.skipIf(!existsSync(path))(`preamble carry: ${name}`, () => {
    const src = new Uint8Array(readFileSync(path));
    for (const layers of [[1], [0, 2]]) {
      it(`cut at [${layers}]: later parts take the preamble from part 0 and do not recompute it`, () => {
        const cut = cutModel(src, layers, { lastTokenLogits: true });
        const dup = cutModel(src, layers, { lastTokenLogits: true, duplicatePreamble: true });
        const first = cut.parts[0];
        expect(first.carryOut?.length ?? 0).toBeGreaterThan(0);
        expect(first.outputNames).toEqual(expect.arrayContaining(first.carryOut!));
        const g0 = decodeModel(first.bytes).graph;
        const types = new Map(g0.output.map((o) => [o.name, o.type?.tensorType?.elemType]));
        // float tensors stay on the GPU; int64 / int32 / bool ones are left on the CPU
        for (const t of first.carryOut!) {
          const float = types.get(t) === DataType.FLOAT || types.get(t) === DataType.FLOAT16;
          expect(first.carryOnCpu!.includes(t), `${t} on the CPU`).toBe(!float);
        }
        const part0Nodes = new Set(g0.node.map((n) => n.name));
        cut.parts.slice(1).forEach((part, j) => {
          const k = j + 1;
          expect(part.carryIn?.length ?? 0, `part ${k} carries`).toBeGreaterThan(0);
          for (const t of part.carryIn!) expect(first.carryOut).toContain(t);
          expect(part.inputNames).toEqual(expect.arrayContaining(part.carryIn!));
          // the token ids feed only the embedding, the attention mask only the preamble, both in part 0
          // (position_ids may stay: the gemma-3 script's GroupQueryAttention reads them itself)
          for (const t of ['input_ids', 'attention_mask']) expect(part.inputNames, t).not.toContain(t);
          const g = decodeModel(part.bytes).graph;
          const producers = new Set(g.node.flatMap((n) => n.output));
          for (const t of part.carryIn!) expect(producers.has(t), `part ${k} recomputes ${t}`).toBe(false);
          // no node that part 0 also runs depends on a runtime input here (only constant folding may repeat)
          const dynamic = dynamicNodes(g);
          const repeated = g.node.filter((n) => part0Nodes.has(n.name) && dynamic.has(n.name)).map((n) => n.name);
          expect(repeated, `part ${k} repeats preamble nodes`).toEqual([]);
          const before = decodeModel(dup.parts[k].bytes).graph.node.length;
          expect(before - g.node.length, `nodes saved in part ${k}`).toBeGreaterThanOrEqual(saved);
          expect(dup.parts[k].carryIn).toBeUndefined();
        });
      });
    }
  });
}
