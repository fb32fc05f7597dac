/**
 * Logits for the last position only: a Gather on the sequence axis right before the LM head,
 * so a prefill of n tokens runs the [hidden x vocab] projection once instead of n times and
 * reads back one row. Decoding only ever samples from the last row.
 */
import { int64Tensor, node } from '../onnx/build';
import type { Model } from '../onnx/proto';

const HEAD_OPS = new Set(['MatMul', 'MatMulNBits', 'Gemm']);
const PASS_THROUGH = new Set(['Cast', 'Identity']);

/** Mutates `model` (a part whose graph outputs `logits`); returns false when no LM head is found. */
export function keepLastTokenLogits(model: Model): boolean {
  const g = model.graph;
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => producer.set(o, i)));
  let i = producer.get('logits');
  while (i !== undefined && PASS_THROUGH.has(g.node[i].opType)) i = producer.get(g.node[i].input[0]);
  if (i === undefined || !HEAD_OPS.has(g.node[i].opType)) return false;

  const head = g.node[i];
  const hidden = head.input[0];
  const last = '/traitlab/last_token/output_0';
  g.initializer.push(int64Tensor('/traitlab/last_token/index', [1], [-1]));
  const gather = node('Gather', '/traitlab/last_token/Gather', [hidden, '/traitlab/last_token/index'], [last], { axis: 1 });
  g.node.splice(i, 1, gather, { ...head, input: [last, ...head.input.slice(1)] });
  // The sequence dimension of the logits is now 1.
  const out = g.output.find((o) => o.name === 'logits');
  const dims = out?.type?.tensorType?.shape?.dim;
  if (dims && dims.length === 3) dims[1] = { dimValue: 1 };
  return true;
}
