/**
 * Test-only reference: the uncut model with `residual_after_layer += delta` done inside the
 * graph (an Add of a constant [hidden] vector, rewired into every consumer of the residual).
 * For float16 residual streams the add is done in float32 between casts, exactly like the cut
 * model's float32 boundary.
 */
import { floatTensor, node } from '../../src/engine/onnx/build';
import { DataType, type Node } from '../../src/engine/onnx/proto';
import { encodeWithRawInitializers } from '../../src/engine/surgery/raw-initializers';
import { prepare } from '../../src/engine/surgery/prepare';

export function insertResidualAdd(bytes: Uint8Array, layer: number, delta: Float32Array): Uint8Array {
  const p = prepare('insertResidualAdd', bytes, [layer], true);
  if (delta.length !== p.hidden) {
    throw new Error(`insertResidualAdd: delta has length ${delta.length}, expected the hidden size ${p.hidden}`);
  }
  const g = p.model.graph;
  const r = p.residuals.get(layer)!;
  const base = `/traitlab/steer.${layer}`;
  const deltaName = `${base}/delta`;
  const steered = `${r}/steered`;
  g.initializer.push(floatTensor(deltaName, [p.hidden], delta));
  const added: Node[] = [];
  if (p.tensorType === DataType.FLOAT16) {
    added.push(node('Cast', `${base}/cast_up`, [r], [`${base}/up`], { to: DataType.FLOAT }));
    added.push(node('Add', `${base}/Add`, [`${base}/up`, deltaName], [`${base}/sum`]));
    added.push(node('Cast', `${base}/cast_down`, [`${base}/sum`], [steered], { to: DataType.FLOAT16 }));
  } else if (p.tensorType === DataType.FLOAT) {
    added.push(node('Add', `${base}/Add`, [r, deltaName], [steered]));
  } else {
    throw new Error(`insertResidualAdd: unsupported residual element type ${p.tensorType}`);
  }
  for (const n of g.node) for (let i = 0; i < n.input.length; i++) if (n.input[i] === r) n.input[i] = steered;
  const at = g.node.findIndex((n) => n.output.includes(r));
  g.node.splice(at + 1, 0, ...added);
  return encodeWithRawInitializers(p.model, p.source, p.raw);
}
