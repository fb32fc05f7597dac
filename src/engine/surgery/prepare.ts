/**
 * Decode a model, trace its residual stream (residual-chain.ts), make the residual after each
 * requested layer an explicit tensor (fused skip-norms are unfused), fuse the exported RMSNorm
 * chains and rotate_halfs into single kernels (fuse-norms.ts, rotate-half.ts: fewer launches per
 * token on WebGPU), and gather what the cut needs to know about it.
 */
import { decodeModel, type Model, type Node, type Tensor } from '../onnx/proto';
import type { ModelStructure } from '../../protocol/structure';
import { indexGraph, type GraphIndex } from './graph-index';
import { checkBlockInputNorms, StructureError, traceResidualChain, writeAfterBlock, type ResidualChain } from './residual-chain';
import { countLayers, describeStructure, detectStyle, residualElemType, residualHidden, type ExportStyle } from './residual-names';
import { locateInitializers, type ByteRange } from './raw-initializers';
import { applyReplacements, unfuseSkipNorm } from './unfuse';
import { fuseRmsNorms } from './fuse-norms';
import { fuseRotateHalf } from './rotate-half';
import { dropUnread } from './prune';

export interface Prepared {
  model: Model;
  style: ExportStyle;
  numLayers: number;
  hidden: number;
  /** DataType of the model's residual stream (FLOAT or FLOAT16) */
  elemType: number;
  /** DataType of the residual tensors in `residuals` (FLOAT for unfused float16 skip-norms) */
  tensorType: number;
  /** layer → name of the residual tensor after that layer, in the (edited) graph */
  residuals: Map<number, string>;
  /** what was found, with the original tensor cut per requested layer */
  structure: ModelStructure;
  /** RMSNorm chains fused into SimplifiedLayerNormalization (fuse-norms.ts), rotate_halfs made one MatMul (rotate-half.ts) */
  fused: { norms: number; rotateHalf: number };
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

function trace(fn: string, model: Model, idx: GraphIndex, numLayers: number, style: ExportStyle): ResidualChain {
  try {
    const chain = traceResidualChain(model.graph, idx, numLayers);
    checkBlockInputNorms(model.graph, idx, chain, numLayers);
    return chain;
  } catch (err) {
    if (!(err instanceof StructureError)) throw err;
    throw new StructureError(
      `${fn}: cannot locate the residual stream of this ${numLayers}-layer decoder (looks like: ${style}): ${err.message}. ` +
        'Looked for the embedding lookup on input_ids and, per block, Adds or skip-norms that write a branch of the stream back into it.',
    );
  }
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
  const chain = trace(fn, model, idx, numLayers, style);
  const found = layers.map((l) => writeAfterBlock(chain, l));
  const probe = found[0] ? (found[0].tensor ?? found[0].node.input[1]) : (chain.writes[0]?.tensor ?? chain.start);
  const elemType = residualElemType(g, idx, probe);
  const structure = describeStructure(g, idx, style, chain, elemType);
  let tensorType = elemType;
  const residuals = new Map<number, string>();
  const replacements = new Map<Node, Node[]>();
  const types = new Set<number>();
  layers.forEach((l, i) => {
    const w = found[i];
    if (w.kind === 'add') {
      residuals.set(l, w.tensor!);
      structure.cutTensors[l] = w.tensor!;
      types.add(elemType);
      return;
    }
    const un = unfuseSkipNorm(w.node, idx, elemType);
    replacements.set(w.node, un.nodes);
    residuals.set(l, un.residual);
    structure.cutTensors[l] = `${w.node.name || w.node.output[0]}.sum`;
    types.add(un.residualType);
    tensorType = un.residualType;
  });
  for (const [l, t] of residuals) {
    const w = found[layers.indexOf(l)];
    if (w.kind === 'add' && residualElemType(g, idx, t) !== elemType) {
      throw new Error(`${fn}: the residual after layer ${l} (${t}) has another element type than the one after layer ${layers[0]}`);
    }
  }
  if (types.size > 1) throw new Error(`${fn}: the residuals at layers [${layers.join(', ')}] are found in incompatible ways (fused and unfused float16)`);
  applyReplacements(g, replacements);
  // After tracing (which reads the graph as exported): the residual tensors are Add outputs, never inside a norm chain.
  const fused = { norms: fuseRmsNorms(g), rotateHalf: fuseRotateHalf(g) };
  if (fused.norms + fused.rotateHalf > 0) dropUnread(g); // the constants only the fused nodes read
  if (replacements.size > 0 || fused.norms + fused.rotateHalf > 0) idx = indexGraph(g);
  const first = residuals.values().next().value;
  const hidden = first ? residualHidden(g, idx, first) : 0;
  return { model, style, numLayers, hidden, elemType, tensorType, residuals, structure, fused, idx, source, raw };
}
