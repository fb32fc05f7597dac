/**
 * Unfusing model-builder skip-norms so the residual sum becomes a named tensor:
 *
 *   SkipSimplifiedLayerNormalization(input, skip, gamma[, bias]) → [normed, mean, inv_std, sum]
 * becomes
 *   sum    = Add(input, skip)                       (then Add(sum, bias) when there is a bias)
 *   zeros  = Sub(sum, sum)
 *   normed = SkipSimplifiedLayerNormalization(sum, zeros, gamma)   (same attributes)
 *
 * The norm half is the very same kernel fed the residual and an all-zero skip (x + 0 == x
 * exactly), so a cut model's outputs are bit-identical to the fused original's; a standard
 * SimplifiedLayerNormalization would differ by float rounding (it accumulates differently).
 * The sum equals the fused kernel's own input+skip(+bias), computed in the same order.
 * SkipLayerNormalization(input, skip, gamma, beta, bias) is unfused the same way.
 * The sum keeps the node's output[3] name when it had one (its consumers need no rewiring);
 * otherwise it gets a fresh name.
 *
 * float16 models: the fused kernel adds and normalises in float32 and only rounds the sum it
 * emits as output[3]. To stay exact the unfused graph does the same: the sum is computed in
 * float32 from float32 casts of input/skip(/bias) (that float32 sum is the residual tensor the
 * cut exposes, no boundary cast needed), output[3] = Cast(sum → float16), and the norm runs in
 * float32 on the sum with float32 casts of gamma/beta, its result cast back to float16.
 */
import { node } from '../onnx/build';
import { DataType, type Graph, type Node } from '../onnx/proto';
import type { GraphIndex } from './graph-index';

export interface Unfused {
  /** name of the residual-sum tensor (input + skip [+ bias]); float32 when `elemType` was float16 */
  residual: string;
  /** element type of `residual` */
  residualType: number;
  /** the replacement nodes, in order */
  nodes: Node[];
}

/** Unfuse skip-norm `n`, whose residual stream has element type `elemType` (FLOAT or FLOAT16). */
export function unfuseSkipNorm(n: Node, idx: GraphIndex, elemType: number): Unfused {
  const simplified = n.opType === 'SkipSimplifiedLayerNormalization';
  if (!simplified && n.opType !== 'SkipLayerNormalization') throw new Error(`unfuse: ${n.name} is a ${n.opType}, not a skip-norm`);
  for (const k of [1, 2]) {
    const o = n.output[k];
    if (o && ((idx.consumers.get(o)?.length ?? 0) > 0 || idx.outputs.has(o))) {
      throw new Error(`unfuse: output ${k} (${o}) of ${n.name} is used; cannot unfuse the skip-norm`);
    }
  }
  const f16 = elemType === DataType.FLOAT16;
  const base = n.name || n.output[0];
  const nodes: Node[] = [];
  /** in float16 models, a float32 cast of `name` (named after the input's role) */
  const up = (name: string, role: string): string => {
    if (!f16 || !name) return name;
    const out = `${base}/${role}_f32_output_0`;
    nodes.push(node('Cast', `${base}/${role}_f32`, [name], [out], { to: DataType.FLOAT }));
    return out;
  };
  const input = up(n.input[0], 'input');
  const skip = up(n.input[1], 'skip');
  const gamma = up(n.input[2], 'gamma');
  const beta = up(simplified ? '' : (n.input[3] ?? ''), 'beta');
  const bias = up((simplified ? n.input[3] : n.input[4]) ?? '', 'bias');
  const sumName = f16 ? `${base}/residual_sum_f32_output_0` : n.output[3] || `${base}/residual_sum_output_0`;
  if (bias) {
    const partial = `${base}/skip_add_output_0`;
    nodes.push(node('Add', `${base}/skip_add`, [input, skip], [partial]));
    nodes.push(node('Add', `${base}/bias_add`, [partial, bias], [sumName]));
  } else {
    nodes.push(node('Add', `${base}/skip_add`, [input, skip], [sumName]));
  }
  if (f16 && n.output[3]) nodes.push(node('Cast', `${base}/residual_f16`, [sumName], [n.output[3]], { to: DataType.FLOAT16 }));
  if (n.output[0]) {
    const zeros = `${base}/zero_skip_output_0`;
    nodes.push(node('Sub', `${base}/zero_skip`, [sumName, sumName], [zeros]));
    const normed = f16 ? `${base}/norm_f32_output_0` : n.output[0];
    nodes.push({
      name: `${base}/norm`,
      opType: n.opType,
      domain: n.domain,
      input: beta ? [sumName, zeros, gamma, beta] : [sumName, zeros, gamma],
      output: [normed],
      attribute: n.attribute,
    });
    if (f16) nodes.push(node('Cast', `${base}/norm_f16`, [normed], [n.output[0]], { to: DataType.FLOAT16 }));
  }
  return { residual: sumName, residualType: f16 ? DataType.FLOAT : elemType, nodes };
}

/** Replace each given node of `g` (by identity) with its unfused nodes, in place, in one pass. */
export function applyReplacements(g: Graph, replacements: Map<Node, Node[]>): void {
  if (replacements.size === 0) return;
  g.node = g.node.flatMap((n) => replacements.get(n) ?? [n]);
}
