/**
 * The LLaMA graph as the torch dynamo exporter (`torch.onnx.export(..., dynamo=True)`, opt-in in
 * current Optimum) names it, derived from the Optimum build (both trace the same HF modeling
 * code; the ops per block are the same):
 *
 * - nodes named `node_{OpType}_{n}`; the module path survives only in node metadata
 *   `pkg.torch.onnx.name_scopes` (repr of a Python list of cumulative module paths, root first,
 *   the FX node name last) and `pkg.torch.onnx.class_hierarchy`;
 * - intermediate tensors named after FX nodes (`add`, `add_1`, `mul_3`, `embedding`, …); graph inputs,
 *   outputs and initializers (parameter FQNs, `model.layers.0.input_layernorm.weight`) unchanged;
 * - opset 18 (ReduceMean takes its axes as an input);
 * - tied weights deduplicated: in fp32 the lm_head is MatMul(x, Transpose(model.embed_tokens.weight)).
 */
import { int64Tensor, node } from '../engine/onnx/build';
import type { Model, Node } from '../engine/onnx/proto';

export const DYNAMO_OPSET = 18;

/** FX-style op names (what aten op the node came from, roughly). */
const FX_NAME: Record<string, string> = { Gather: 'embedding', MatMul: 'matmul', MatMulNBits: 'linear', Concat: 'cat', Softmax: 'softmax', ReduceMean: 'mean' };

function scopesOf(optimumName: string, fx: string): string {
  const parts = optimumName.split('/').filter(Boolean).slice(0, -1); // drop the op part
  const scopes = [''];
  let path = '';
  for (const p of parts) {
    path = path ? `${path}.${p}` : p;
    scopes.push(path);
  }
  scopes.push(fx);
  return `[${scopes.map((s) => `'${s}'`).join(', ')}]`;
}

/** Rename an Optimum-built model in place to the dynamo exporter's naming (see the file header). */
export function toDynamoNaming(model: Model): Model {
  const g = model.graph;
  const keep = new Set([...g.input.map((v) => v.name), ...g.output.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const rename = new Map<string, string>();
  const fxCount = new Map<string, number>();
  const fxName = (op: string): string => {
    const base = FX_NAME[op] ?? op.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const k = fxCount.get(base) ?? 0;
    fxCount.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  };
  const nodes: Node[] = [];
  g.node.forEach((n, i) => {
    const fx = fxName(n.opType);
    n.output.forEach((o, k) => {
      if (o && !keep.has(o)) rename.set(o, k === 0 ? fx : `${fx}_out${k}`);
    });
    const old = n.name;
    n.name = `node_${n.opType}_${i}`;
    n.metadataProps = [
      { key: 'pkg.torch.onnx.name_scopes', value: scopesOf(old, fx) },
      {
        key: 'pkg.torch.onnx.class_hierarchy',
        value: `['transformers.models.llama.modeling_llama.LlamaForCausalLM', 'aten.${fx.replace(/_\d+$/, '')}.default']`,
      },
    ];
    if (n.opType === 'ReduceMean') {
      const axes = n.attribute.find((a) => a.name === 'axes');
      n.attribute = n.attribute.filter((a) => a.name !== 'axes');
      const name = `val_axes_${i}`;
      g.initializer.push(int64Tensor(name, [axes?.ints?.length ?? 1], (axes?.ints ?? [-1]).map(Number)));
      n.input = [n.input[0], name];
    }
    nodes.push(n);
  });
  for (const n of nodes) {
    n.input = n.input.map((x) => rename.get(x) ?? x);
    n.output = n.output.map((x) => rename.get(x) ?? x);
  }
  // Tied lm_head (fp32): read the embedding table through a Transpose instead of a second copy.
  const head = nodes.find((n) => n.output[0] === 'logits' && n.opType === 'MatMul');
  if (head && head.input[1] === 'lm_head.weight') {
    g.initializer = g.initializer.filter((t) => t.name !== 'lm_head.weight');
    const t = node('Transpose', `node_Transpose_${nodes.length}`, ['model.embed_tokens.weight'], ['permute'], { perm: [1, 0] });
    t.metadataProps = [{ key: 'pkg.torch.onnx.name_scopes', value: "['', 'lm_head', 'permute']" }];
    nodes.splice(nodes.indexOf(head), 0, t);
    head.input[1] = 'permute';
  }
  g.node = nodes;
  model.opsetImport = model.opsetImport.map((o) => ((o.domain ?? '') === '' ? { ...o, version: DYNAMO_OPSET } : o));
  model.producerName = 'pytorch';
  return model;
}
