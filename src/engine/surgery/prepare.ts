/**
 * Decode a model and make the residual after each requested layer an explicit tensor
 * (model-builder skip-norms are unfused), and gather what the cut needs to know about it.
 */
import { decodeModel, type Model, type Node, type Tensor } from '../onnx/proto';
import { indexGraph, type GraphIndex } from './graph-index';
import { countLayers, detectStyle, locateFusedResidual, optimumResidual, residualElemType, residualHidden, type ExportStyle } from './residual-names';
import { locateInitializers, type ByteRange } from './raw-initializers';
import { applyReplacements, unfuseSkipNorm } from './unfuse';

export interface Prepared {
  model: Model;
  style: ExportStyle;
  numLayers: number;
  hidden: number;
  /** DataType of the model's residual stream (FLOAT or FLOAT16) */
  elemType: number;
  /** DataType of the residual tensors in `residuals` (FLOAT for unfused float16 model-builder norms) */
  tensorType: number;
  /** layer → name of the residual tensor after that layer, in the (edited) graph */
  residuals: Map<number, string>;
  /** index of the edited graph (rebuild after further edits) */
  idx: GraphIndex;
  /** the original bytes and where each original initializer is encoded in them (see raw-initializers.ts) */
  source?: Uint8Array;
  raw?: Map<Tensor, ByteRange>;
}

export function validateLayers(fn: string, layers: number[], numLayers: number, sorted: boolean): void {
  layers.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= numLayers) {
      throw new Error(`${fn}: layer ${l} is out of range (the model has ${numLayers} layers: valid layers are 0..${numLayers - 1})`);
    }
    if (sorted && i > 0 && l <= layers[i - 1]) {
      throw new Error(`${fn}: cut layers must be sorted ascending and unique, got [${layers.join(', ')}]`);
    }
  });
}

export function prepare(fn: string, bytes: Uint8Array | Model, layers: number[], sorted: boolean): Prepared {
  const model = bytes instanceof Uint8Array ? decodeModel(bytes) : bytes;
  const g = model.graph;
  const source = bytes instanceof Uint8Array ? bytes : undefined;
  const raw = source ? locateInitializers(source, g.initializer) : undefined;
  const style = detectStyle(model);
  const numLayers = countLayers(g);
  validateLayers(fn, layers, numLayers, sorted);
  let idx = indexGraph(g);
  const residuals = new Map<number, string>();
  let elemType: number;
  let tensorType: number;
  if (style === 'optimum') {
    for (const l of layers) residuals.set(l, optimumResidual(g, idx, l));
    const first = residuals.values().next().value;
    elemType = residualElemType(g, idx, first ?? '');
    tensorType = elemType;
  } else {
    const replacements = new Map<Node, Node[]>();
    const found = layers.map((l) => locateFusedResidual(g, idx, l, numLayers));
    const probe = found[0] ? ('tensor' in found[0] ? found[0].tensor : found[0].skipNorm.output[3] || found[0].skipNorm.input[1]) : '';
    elemType = residualElemType(g, idx, probe);
    tensorType = elemType;
    const types = new Set<number>();
    layers.forEach((l, i) => {
      const f = found[i];
      if ('tensor' in f) {
        residuals.set(l, f.tensor);
        types.add(elemType);
        return;
      }
      const un = unfuseSkipNorm(f.skipNorm, idx, elemType);
      replacements.set(f.skipNorm, un.nodes);
      residuals.set(l, un.residual);
      types.add(un.residualType);
      tensorType = un.residualType;
    });
    if (types.size > 1) throw new Error(`${fn}: the residuals at layers [${layers.join(', ')}] are found in incompatible ways (fused and unfused float16)`);
    applyReplacements(g, replacements);
    if (replacements.size > 0) idx = indexGraph(g);
  }
  const first = residuals.values().next().value;
  const hidden = first ? residualHidden(g, idx, first) : 0;
  return { model, style, numLayers, hidden, elemType, tensorType, residuals, idx, source, raw };
}
