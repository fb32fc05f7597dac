/**
 * Producer/consumer maps and small name-level helpers over a decoded ONNX graph. Everything
 * here is linear in the graph size; surgery builds one index and looks names up in it.
 */
import { toNum, type Graph, type Node, type Tensor, type ValueInfo } from '../onnx/proto';

export interface GraphIndex {
  /** tensor name → index (in graph.node) of the node that produces it */
  producer: Map<string, number>;
  /** tensor name → indices of the nodes that read it (inputs or outer-scope subgraph refs) */
  consumers: Map<string, number[]>;
  initializers: Map<string, Tensor>;
  inputs: Map<string, ValueInfo>;
  outputs: Map<string, ValueInfo>;
  valueInfo: Map<string, ValueInfo>;
}

/** Names a node reads: its non-empty inputs plus outer-scope names its attribute subgraphs use. */
export function nodeReads(n: Node): string[] {
  const reads = n.input.filter((s) => s !== '');
  for (const a of n.attribute ?? []) {
    const subs = [...(a.g ? [a.g] : []), ...(a.graphs ?? [])];
    for (const sg of subs) for (const name of outerRefs(sg)) reads.push(name);
  }
  return reads;
}

/** Names a (sub)graph uses that it neither produces nor declares (resolved in an outer scope). */
export function outerRefs(g: Graph): Set<string> {
  const local = new Set<string>();
  for (const i of g.input ?? []) local.add(i.name);
  for (const t of g.initializer ?? []) local.add(t.name);
  for (const n of g.node ?? []) for (const o of n.output) local.add(o);
  const refs = new Set<string>();
  for (const n of g.node ?? []) for (const r of nodeReads(n)) if (!local.has(r)) refs.add(r);
  for (const o of g.output ?? []) if (!local.has(o.name)) refs.add(o.name);
  return refs;
}

export function indexGraph(g: Graph): GraphIndex {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  g.node.forEach((n, i) => {
    for (const o of n.output) if (o !== '') producer.set(o, i);
    for (const r of new Set(nodeReads(n))) {
      const list = consumers.get(r);
      if (list) list.push(i);
      else consumers.set(r, [i]);
    }
  });
  return {
    producer,
    consumers,
    initializers: new Map(g.initializer.map((t) => [t.name, t])),
    inputs: new Map(g.input.map((v) => [v.name, v])),
    outputs: new Map(g.output.map((v) => [v.name, v])),
    valueInfo: new Map(g.valueInfo.map((v) => [v.name, v])),
  };
}

/** Element type of a tensor if the graph declares it (value_info, inputs, outputs, initializers). */
export function declaredElemType(idx: GraphIndex, name: string): number | undefined {
  const vi = idx.valueInfo.get(name) ?? idx.outputs.get(name) ?? idx.inputs.get(name);
  const t = vi?.type?.tensorType?.elemType;
  if (t) return t;
  return idx.initializers.get(name)?.dataType || undefined;
}

function renameInGraph(g: Graph, from: string, to: string, top: boolean): void {
  for (const n of g.node) {
    if (top) for (let i = 0; i < n.output.length; i++) if (n.output[i] === from) n.output[i] = to;
    for (let i = 0; i < n.input.length; i++) if (n.input[i] === from) n.input[i] = to;
    for (const a of n.attribute ?? []) {
      for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) renameInGraph(sg, from, to, false);
    }
  }
  for (const v of g.output) if (v.name === from) v.name = to;
  if (top) for (const v of g.valueInfo) if (v.name === from) v.name = to;
}

/** Rename a node-produced tensor everywhere it appears (one linear pass; nested subgraphs too). */
export function renameTensor(g: Graph, from: string, to: string): void {
  renameInGraph(g, from, to, true);
}

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Not', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

/**
 * Element type of any tensor: declared, else inferred from its producer (Cast → `to`, shape and
 * comparison ops, quantized ops → their scales' type, most others → their first typed input).
 */
export function inferElemType(g: Graph, idx: GraphIndex, name: string, memo = new Map<string, number | undefined>()): number | undefined {
  const declared = declaredElemType(idx, name);
  if (declared) return declared;
  if (memo.has(name)) return memo.get(name);
  memo.set(name, undefined); // cycle guard
  const p = idx.producer.get(name);
  if (p === undefined) return undefined;
  const n = g.node[p];
  const of = (i: number) => (n.input[i] ? inferElemType(g, idx, n.input[i], memo) : undefined);
  let t: number | undefined;
  if (n.opType === 'Cast') {
    const a = n.attribute?.find((x) => x.name === 'to');
    t = a?.i === undefined ? undefined : toNum(a.i);
  } else if (BOOL_OPS.has(n.opType)) t = 9;
  else if (INT64_OPS.has(n.opType)) t = 7;
  else if (n.opType === 'Where') t = of(1) ?? of(2);
  else if (n.opType === 'GatherBlockQuantized' || n.opType === 'DequantizeLinear') t = of(n.opType === 'DequantizeLinear' ? 1 : 2);
  else if (n.opType === 'Constant') t = n.attribute?.find((x) => x.name === 'value')?.t?.dataType;
  else for (let i = 0; i < n.input.length && t === undefined; i++) t = of(i);
  memo.set(name, t);
  return t;
}
