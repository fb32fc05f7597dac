/**
 * RMSNorm fusion. Optimum's TorchScript export writes each LlamaRMSNorm as a chain of small ops
 *
 *   Pow(x, 2) → ReduceMean(axes [-1], keepdims) → Add(·, eps) → Sqrt → Div(1, ·) → Mul(x, ·) → Mul(γ, ·)
 *
 * (q4f16 files keep Pow/ReduceMean in float32 behind Casts; `Reciprocal` or `Div(x, ·)` stand in
 * for Div(1, ·) + Mul in other exports). ORT's optimizer turns that chain into one
 * SimplifiedLayerNormalization for its CPU/CUDA/ROCm providers only (SimplifiedLayerNormFusion's
 * provider list), so on WebGPU every norm costs seven kernel launches: on a 30-layer model, 61 norms
 * × 6 extra dispatches per decoded token, which is what bounds a small model's decode on a real GPU.
 * This pass does the same fusion on the graph before the sessions are made:
 *
 *   y = SimplifiedLayerNormalization(x, γ; axis -1, epsilon eps)   // x [.., hidden], γ [hidden]
 *
 * whose WebGPU kernel (nn/layer_norm.cc) accumulates the mean of squares in float32 for float32 and
 * float16 inputs alike. The CPU provider already runs the fused form of the same graph, so the
 * WASM path and onnxruntime-node references compute what they computed before.
 *
 * Only exact matches are fused: every intermediate tensor has the chain as its sole reader and is
 * no graph output, the exponent is 2 and the numerator 1, eps is a scalar constant, γ is an
 * initializer of x's element type. Anything else is left as it was.
 */
import { node } from '../onnx/build';
import { DataType, toNum, type Graph, type Node } from '../onnx/proto';
import { constInt64s, constScalar } from './constants';
import { indexGraph, inferElemType, type GraphIndex } from './graph-index';
import { applyReplacements } from './unfuse';

function ints(n: Node, name: string): number[] | undefined {
  return n.attribute.find((a) => a.name === name)?.ints?.map(toNum);
}

function int(n: Node, name: string, fallback: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i === undefined ? fallback : toNum(a.i);
}

interface Match {
  nodes: Node[]; // the chain, removed after fusion
  x: string; // [.., hidden]
  gamma: string; // [hidden]
  eps: number;
  out: string;
  at: Node; // the final Mul: the fused node takes its place
}

/** The RMSNorm chain that starts at Pow node `pow`, or null. */
function match(g: Graph, idx: GraphIndex, pow: Node): Match | null {
  /** the node that is the only reader of `t` (and `t` is no graph output) */
  const sole = (t: string): Node | null => {
    const readers = idx.consumers.get(t) ?? [];
    return readers.length === 1 && !idx.outputs.has(t) ? g.node[readers[0]] : null;
  };
  const other = (n: Node, t: string): string | null => (n.input.length === 2 && n.input.includes(t) ? n.input[n.input[0] === t ? 1 : 0] : null);
  if (constScalar(g, idx, pow.input[1]) !== 2) return null;
  const x0 = pow.input[0];
  const p0 = idx.producer.get(x0);
  const castIn = p0 !== undefined && g.node[p0].opType === 'Cast' ? g.node[p0] : null;
  const sources = new Set([x0, ...(castIn ? [castIn.input[0]] : [])]);
  const nodes: Node[] = [pow];
  let t = pow.output[0];
  const next = (op: string | string[], optionalCast = false): Node | null => {
    let n = sole(t);
    if (n && optionalCast && n.opType === 'Cast') {
      nodes.push(n);
      t = n.output[0];
      n = sole(t);
    }
    if (!n || !(Array.isArray(op) ? op : [op]).includes(n.opType)) return null;
    nodes.push(n);
    return n;
  };
  const mean = next('ReduceMean', true);
  if (!mean || int(mean, 'keepdims', 1) !== 1) return null;
  const axisList = mean.input[1] ? constInt64s(g, idx, mean.input[1]) : ints(mean, 'axes'); // opset 18: an input
  if (!axisList || axisList.length !== 1 || axisList[0] !== -1) return null;
  t = mean.output[0];
  const add = next('Add', true);
  const epsName = add && other(add, t);
  const eps = epsName ? constScalar(g, idx, epsName) : undefined;
  if (!add || eps === undefined || !(eps >= 0)) return null;
  t = add.output[0];
  if (!next('Sqrt')) return null;
  t = nodes[nodes.length - 1].output[0];
  const inv = next(['Div', 'Reciprocal']);
  if (!inv) return null;
  let x: string | null;
  if (inv.opType === 'Div' && inv.input[1] === t && sources.has(inv.input[0])) {
    x = inv.input[0]; // Div(x, sqrt)
  } else {
    if (inv.opType === 'Div' && !(inv.input[1] === t && constScalar(g, idx, inv.input[0]) === 1)) return null;
    t = inv.output[0];
    const mul = next('Mul');
    x = mul && other(mul, t);
    if (!x || !sources.has(x)) return null;
  }
  t = nodes[nodes.length - 1].output[0];
  const scale = next('Mul');
  const gamma = scale && other(scale, t);
  if (!scale || !gamma || !idx.initializers.has(gamma)) return null;
  const type = inferElemType(g, idx, x);
  if (type !== DataType.FLOAT && type !== DataType.FLOAT16) return null;
  if (idx.initializers.get(gamma)!.dataType !== type || inferElemType(g, idx, scale.output[0]) !== type) return null;
  // The float32 cast of x goes too when the chain was its only reader.
  if (castIn && x !== x0 && (idx.consumers.get(x0) ?? []).length === 1 && !idx.outputs.has(x0)) nodes.unshift(castIn);
  return { nodes, x, gamma, eps, out: scale.output[0], at: scale };
}

/** Fuse every exact RMSNorm chain of `g` in place; returns how many were fused. */
export function fuseRmsNorms(g: Graph): number {
  const idx = indexGraph(g);
  const matches = g.node.filter((n) => n.opType === 'Pow' && (n.domain ?? '') === '').flatMap((n) => match(g, idx, n) ?? []);
  if (matches.length === 0) return 0;
  const edits = new Map<Node, Node[]>();
  for (const m of matches) {
    for (const n of m.nodes) edits.set(n, []);
    const base = m.nodes.find((n) => n.opType === 'Pow')!.name.replace(/\/?Pow$/, '') || m.out;
    const attrs = { axis: -1, epsilon: { float: m.eps }, stash_type: 1 };
    edits.set(m.at, [node('SimplifiedLayerNormalization', `${base}/SimplifiedLayerNormalization`, [m.x, m.gamma], [m.out], attrs)]);
  }
  applyReplacements(g, edits); // the constants only the chains read go with prepare()'s dropUnread
  return matches.length;
}
