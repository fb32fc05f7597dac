/**
 * The host preamble: the integer arithmetic an export does on its token inputs (the causal mask
 * from attention_mask, positions, GQA's seqlens_k) moved out of the WebGPU graph into a small
 * graph of its own, which the engine runs on the CPU (WASM EP) before each pass.
 *
 * Why: ORT's WebGPU EP runs those int64/bool nodes on the CPU anyway, and uploads every result a
 * GPU node reads through a staging buffer it creates and destroys per run (4 per decode step on
 * the Optimum exports: input_ids for the embedding, the float positions, the bool mask rows).
 * With the preamble outside, those values become graph inputs of the main graph, and the engine
 * writes the decode step's ones into GPU buffers it made once (runtime/host-uploads.ts).
 *
 * The preamble P is found by structure, not by names: nodes of the default domain that read a
 * token input (a non-float graph input: input_ids, attention_mask, position_ids) or another P
 * node, whose other reads are small constants, and whose outputs are not float, plus Casts (the
 * int → float step of the positions). Float work (rotary MatMul/Cos/Sin, the mask's Where) stays
 * on the GPU. The frontier are the token inputs and P outputs that other nodes read. A frontier
 * tensor a GPU node reads as data (the embedding Gather's ids, Where's condition, a Mul's
 * operand, GQA's seqlens_k) becomes the input `/traitlab/host/<name>`, fed as a GPU buffer; one
 * read only by CPU nodes (shape operands, int arithmetic, GQA's total_sequence_length) stays a
 * CPU input under its own name.
 */
import { DataType, toNum, type Int64, type Model, type ValueInfo } from '../onnx/proto';
import { valueInfo } from '../onnx/build';
import { indexGraph, inferElemType, nodeReads } from './graph-index';
import { buildPartModel, collectCone, dropUnread, readNames } from './prune';

/** A main-graph input fed from the host: a token input or a preamble output. */
export interface HostFeed {
  /** input name in the main graph */
  name: string;
  /** the host value it takes: a token input or a preamble output */
  source: string;
  /** ONNX element type */
  elemType: number;
  /** read by GPU nodes as data: fed as a GPU buffer in decode */
  gpu: boolean;
}

export interface HostPlan {
  /** the preamble graph (token inputs → its outputs), null when no node moved */
  preamble: Model | null;
  /** main-graph inputs fed from host values */
  feeds: HostFeed[];
}

const FLOATS = new Set<number>([DataType.FLOAT, DataType.FLOAT16, 11 /* DOUBLE */, 16 /* BFLOAT16 */]);
/** Largest initializer a preamble node may read (inv_freq-sized constants, not weights). */
const SMALL_INIT = 4096;
/** Slots ORT reads on the CPU whatever the node's provider: shapes, axes, counts. */
const CPU_SLOTS: Record<string, number[]> = {
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  Slice: [1, 2, 3, 4],
  Unsqueeze: [1],
  Squeeze: [1],
  Split: [1],
  Pad: [1, 2, 3],
  Resize: [1, 2, 3],
  ConstantOfShape: [0],
  Range: [0, 1, 2],
  TopK: [1],
  CumSum: [1],
  Trilu: [1],
  ReduceSum: [1],
  ReduceMean: [1],
  ReduceMax: [1],
  ReduceMin: [1],
  ReduceProd: [1],
  GroupQueryAttention: [6],
};
export const HOST_PREFIX = '/traitlab/host/';

function elementCount(dims: readonly Int64[] | undefined): number {
  return (dims ?? []).reduce<number>((a, d) => a * toNum(d), 1);
}

/**
 * Split the host preamble off `model` (edited in place: the preamble nodes are removed, the
 * frontier becomes graph inputs). Returns the preamble graph and the feeds, or null when the
 * graph has nothing to move and no token input a GPU node reads.
 */
export function splitHostPreamble(model: Model): HostPlan | null {
  const g = model.graph;
  const idx = indexGraph(g);
  const memo = new Map<string, number | undefined>();
  const type = (t: string) => inferElemType(g, idx, t, memo);
  const tokens = new Set(g.input.filter((v) => !idx.initializers.has(v.name) && !FLOATS.has(type(v.name) ?? DataType.FLOAT)).map((v) => v.name));
  if (tokens.size === 0) return null;

  const staticOk = new Map<string, boolean>();
  /** A value computed from small constants only (no runtime input, no weight). */
  const isStatic = (t: string): boolean => {
    const known = staticOk.get(t);
    if (known !== undefined) return known;
    staticOk.set(t, false); // cycle guard
    const init = idx.initializers.get(t);
    let ok: boolean;
    if (init) ok = elementCount(init.dims) <= SMALL_INIT;
    else {
      const p = idx.producer.get(t);
      ok = p !== undefined && g.node[p].opType !== 'If' && g.node[p].opType !== 'Loop' && nodeReads(g.node[p]).every(isStatic);
    }
    staticOk.set(t, ok);
    return ok;
  };

  const inP = new Set<number>();
  const pOut = new Set<string>();
  const graphOutputs = new Set(g.output.map((o) => o.name));
  g.node.forEach((n, i) => {
    if (n.domain && n.domain !== 'ai.onnx') return;
    if ((n.attribute ?? []).some((a) => a.g || a.graphs?.length)) return;
    const reads = nodeReads(n);
    if (!reads.some((r) => tokens.has(r) || pOut.has(r))) return;
    if (!reads.every((r) => tokens.has(r) || pOut.has(r) || isStatic(r))) return;
    const outs = n.output.filter((o) => o !== '');
    if (outs.some((o) => graphOutputs.has(o))) return;
    if (n.opType !== 'Cast' && outs.some((o) => FLOATS.has(type(o) ?? DataType.FLOAT))) return;
    inP.add(i);
    for (const o of outs) pOut.add(o);
  }); // graph.node is in topological order (ONNX requires it)

  // The frontier, with who reads it where.
  const readers = new Map<string, { node: number; slot: number; gpu: boolean }[]>();
  let nested = false; // a host value read from inside a subgraph cannot become a graph input of it
  g.node.forEach((n, i) => {
    if (inP.has(i)) return;
    if (nodeReads(n).some((r) => !n.input.includes(r) && pOut.has(r))) nested = true;
    const floatOut = n.output.some((o) => o !== '' && FLOATS.has(type(o) ?? DataType.INT64));
    n.input.forEach((t, slot) => {
      if (!tokens.has(t) && !pOut.has(t)) return;
      const gpu = floatOut && !(CPU_SLOTS[n.opType] ?? []).includes(slot);
      const list = readers.get(t) ?? [];
      list.push({ node: i, slot, gpu });
      readers.set(t, list);
    });
  });
  if (nested) return null;
  const gpuReads = [...readers.values()].some((list) => list.some((r) => r.gpu));
  if (inP.size === 0 && !gpuReads) return null;

  // Nothing is edited until the plan is whole: a graph it cannot plan is left as it is (ORT's own path).
  const feeds: HostFeed[] = [];
  const newInputs: ValueInfo[] = [];
  const renames: { node: number; slot: number; name: string }[] = [];
  const declared = (t: string) => idx.valueInfo.get(t) ?? idx.inputs.get(t);
  for (const [t, list] of [...readers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const elemType = type(t);
    if (elemType === undefined) return null;
    const shape = declared(t)?.type?.tensorType?.shape;
    const info = (name: string): ValueInfo => ({ name, type: { tensorType: { elemType, shape } } });
    if (list.some((r) => r.gpu)) {
      const name = HOST_PREFIX + t;
      for (const r of list) if (r.gpu) renames.push({ node: r.node, slot: r.slot, name });
      feeds.push({ name, source: t, elemType, gpu: true });
      newInputs.push(info(name));
    }
    if (list.some((r) => !r.gpu)) {
      feeds.push({ name: t, source: t, elemType, gpu: false });
      if (!tokens.has(t)) newInputs.push(info(t));
    }
  }

  // The preamble graph: what its outputs need (P nodes, the constants they read), token inputs in.
  const outputs = [...new Set(feeds.map((f) => f.source))].filter((t) => pOut.has(t)).sort();
  let preamble: Model | null = null;
  if (outputs.length > 0) {
    const cone = collectCone(g, idx, outputs, new Set());
    for (const ni of cone.nodes) if (!inP.has(ni) && !g.node[ni].output.every((o) => o === '' || isStatic(o))) return null;
    const outInfo = outputs.map((t) => valueInfo(t, type(t)!));
    const part = buildPartModel(model, { cone, prepend: [], append: [], extraInputs: [], outputs: [], extraOutputs: outInfo });
    // Its own node objects: later surgery edits the main graph's nodes in place.
    const node = part.graph.node.map((n) => ({ ...n, input: [...n.input], output: [...n.output] }));
    preamble = { ...part, graph: { ...part.graph, node, name: 'traitlab_host_preamble' } };
  }

  // The main graph: GPU readers take the host inputs, frontier tensors become inputs, the P nodes go.
  for (const r of renames) g.node[r.node].input[r.slot] = r.name;
  const becameInputs = new Set(newInputs.map((v) => v.name));
  g.valueInfo = g.valueInfo.filter((v) => !becameInputs.has(v.name));
  g.input.push(...newInputs);
  g.node = g.node.filter((_, i) => !inP.has(i));
  dropUnread(g);
  const read = readNames(g);
  g.input = g.input.filter((v) => !tokens.has(v.name) || read.has(v.name));
  return { preamble, feeds };
}
