/**
 * Where the residual stream lives in each export style.
 *
 * - Optimum/TorchScript: the residual after layer L is the output of node `/model/layers.L/Add_1`
 *   (`/model/layers.L/Add_1_output_0`); adds scoped inside norms (`.../input_layernorm/Add`) are
 *   different nodes and never match.
 * - onnxruntime-genai model-builder: the residual add is fused into the skip-norm that opens the
 *   next layer (`/model/layers.{L+1}/input_layernorm/SkipLayerNorm`, or the final norm
 *   `/model/layers.N/final_norm_layernorm/SkipLayerNorm` after the last layer); see unfuse.ts.
 */
import { DataType, type Graph, type Model, type Node } from '../onnx/proto';
import { declaredElemType, type GraphIndex } from './graph-index';

export type ExportStyle = 'optimum' | 'model-builder';

const SKIP_NORM_OPS = new Set(['SkipSimplifiedLayerNormalization', 'SkipLayerNormalization']);
const LAYER_RE = /^\/model\/layers\.(\d+)\//;

export function isSkipNorm(n: Node): boolean {
  return SKIP_NORM_OPS.has(n.opType);
}

/** Which exporter produced the model, from its node names and fused ops. */
export function detectStyle(model: Model): ExportStyle {
  let optimum = false;
  for (const n of model.graph.node) {
    if (isSkipNorm(n) || n.opType === 'GroupQueryAttention' || n.name.includes('/final_norm_layernorm/')) {
      return 'model-builder';
    }
    if (n.opType === 'Add' && /^\/model\/layers\.\d+\/Add_1$/.test(n.name)) optimum = true;
  }
  if (optimum) return 'optimum';
  throw new Error(
    'detectStyle: unrecognised decoder export (expected Optimum node names like /model/layers.0/Add_1 ' +
      'or model-builder SkipSimplifiedLayerNormalization/GroupQueryAttention nodes)',
  );
}

/** Number of decoder layers: from past_key_values.{i}.key inputs, else from layer-scoped node names. */
export function countLayers(g: Graph): number {
  let fromPast = 0;
  for (const i of g.input) {
    const m = /^past_key_values\.(\d+)\.key$/.exec(i.name);
    if (m) fromPast = Math.max(fromPast, Number(m[1]) + 1);
  }
  if (fromPast > 0) return fromPast;
  let max = -1;
  for (const n of g.node) {
    if (n.name.includes('final_norm_layernorm')) continue;
    const m = LAYER_RE.exec(n.name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  if (max < 0) throw new Error('surgery: cannot find any /model/layers.{i}/ nodes to count layers');
  return max + 1;
}

/** Optimum: name of the residual tensor after layer `layer`. */
export function optimumResidual(g: Graph, idx: GraphIndex, layer: number): string {
  const nodeName = `/model/layers.${layer}/Add_1`;
  const n = g.node.find((x) => x.name === nodeName && x.opType === 'Add');
  if (n) return n.output[0];
  const tensor = `${nodeName}_output_0`;
  if (idx.producer.has(tensor)) return tensor;
  throw new Error(`surgery: Optimum export has no residual add ${nodeName} for layer ${layer}`);
}

/**
 * Model-builder: the skip-norm node whose residual sum is the residual after layer `layer`,
 * found by name; undefined when the graph does not use model-builder names.
 */
export function namedSkipNorm(g: Graph, layer: number, numLayers: number): Node | undefined {
  const last = layer === numLayers - 1;
  const exact = last ? `/model/layers.${numLayers}/final_norm_layernorm/SkipLayerNorm` : `/model/layers.${layer + 1}/input_layernorm/SkipLayerNorm`;
  let found: Node | undefined;
  for (const n of g.node) {
    if (!isSkipNorm(n)) continue;
    if (n.name === exact) return n;
    if (!found && (last ? n.name.includes('final_norm') : n.name.startsWith(`/model/layers.${layer + 1}/input_layernorm/`))) found = n;
  }
  return found;
}

/**
 * Where the residual after `layer` is, in a graph with fused skip-norms: by model-builder
 * names; else (e.g. an Optimum export fused by the ORT transformers optimizer) the unfused
 * Optimum add `/model/layers.L/Add_1` if it survived; else by position, when the graph has
 * exactly 2 skip-norms per layer (post-attention of every layer, input norm of layers 1..N-1,
 * final norm) so that the residual after layer L is the sum of skip-norm number 2L+1.
 */
export function locateFusedResidual(g: Graph, idx: GraphIndex, layer: number, numLayers: number): { skipNorm: Node } | { tensor: string } {
  const named = namedSkipNorm(g, layer, numLayers);
  if (named) return { skipNorm: named };
  const add = g.node.find((x) => x.name === `/model/layers.${layer}/Add_1` && x.opType === 'Add');
  if (add && idx.producer.has(add.output[0])) return { tensor: add.output[0] };
  const skips = g.node.filter(isSkipNorm);
  if (skips.length === 2 * numLayers) return { skipNorm: skips[2 * layer + 1] };
  throw new Error(
    `surgery: cannot find the residual after layer ${layer}: no skip-norm named ` +
      `/model/layers.${layer + 1}/input_layernorm/SkipLayerNorm (or the final norm), no /model/layers.${layer}/Add_1, ` +
      `and ${skips.length} skip-norms for ${numLayers} layers (expected ${2 * numLayers})`,
  );
}

/**
 * Element type of the residual stream: declared type of the tensor if any, else the element
 * type of the past key/value inputs, else of the first float graph input/output, else float32.
 */
export function residualElemType(g: Graph, idx: GraphIndex, residual: string): number {
  const declared = declaredElemType(idx, residual);
  if (declared) return declared;
  const isFloat = (t: number | undefined) => t === DataType.FLOAT || t === DataType.FLOAT16;
  const past = g.input.find((i) => /^past_key_values\.\d+\.key$/.test(i.name));
  const pastType = past?.type?.tensorType?.elemType;
  if (isFloat(pastType)) return pastType!;
  for (const v of [...g.input, ...g.output]) {
    const t = v.type?.tensorType?.elemType;
    if (isFloat(t)) return t!;
  }
  return DataType.FLOAT;
}

const NORM_OPS = new Set(['Mul', 'SimplifiedLayerNormalization', 'LayerNormalization', ...SKIP_NORM_OPS]);

/**
 * Hidden size: the residual's declared last dim, else the length of the first 1-D float
 * initializer a norm-like consumer applies near the residual (RMSNorm gamma), else the
 * embedding table's second dim.
 */
export function residualHidden(g: Graph, idx: GraphIndex, residual: string): number {
  const dims = (idx.valueInfo.get(residual) ?? idx.outputs.get(residual))?.type?.tensorType?.shape?.dim;
  const lastDim = dims?.[dims.length - 1]?.dimValue;
  if (lastDim) return Number(lastDim);
  // breadth-first over consumers, a few hops
  let frontier = [residual];
  const seen = new Set<number>();
  for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const ni of idx.consumers.get(t) ?? []) {
        if (seen.has(ni)) continue;
        seen.add(ni);
        const n = g.node[ni];
        if (NORM_OPS.has(n.opType)) {
          for (const inp of n.input) {
            const init = idx.initializers.get(inp);
            if (init && init.dims.length === 1 && (init.dataType === DataType.FLOAT || init.dataType === DataType.FLOAT16)) {
              return Number(init.dims[0]);
            }
          }
        }
        next.push(...n.output.filter((o) => o !== ''));
      }
    }
    frontier = next;
  }
  for (const n of g.node) {
    if (n.opType === 'Gather' && n.input[1] === 'input_ids') {
      const emb = idx.initializers.get(n.input[0]);
      if (emb && emb.dims.length === 2) return Number(emb.dims[1]);
    }
  }
  throw new Error(`surgery: cannot determine the hidden size of residual tensor ${residual}`);
}
