/**
 * Keep only what a set of output tensors needs: a backward traversal from the roots over the
 * producer map, stopping at graph inputs, initializers and the given stop tensors (the part's
 * residual input). The part's graph inputs, initializers and value_info are then exactly what
 * its nodes read, whatever layer they belong to.
 */
import type { Graph, Model, Node, Tensor, ValueInfo } from '../onnx/proto';
import { nodeReads, type GraphIndex } from './graph-index';

export interface Cone {
  /** indices (into graph.node) of the nodes needed */
  nodes: Set<number>;
  /** every tensor name visited (roots, node reads, leaves) */
  names: Set<string>;
}

export function collectCone(g: Graph, idx: GraphIndex, roots: string[], stops: ReadonlySet<string>): Cone {
  const nodes = new Set<number>();
  const names = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (names.has(t)) continue;
    names.add(t);
    if (stops.has(t)) continue;
    const p = idx.producer.get(t);
    if (p === undefined || nodes.has(p)) continue;
    nodes.add(p);
    for (const r of nodeReads(g.node[p])) if (!names.has(r)) stack.push(r);
  }
  return { nodes, names };
}

/** Node indices reachable forward from a tensor or tensors (their descendants). */
export function forwardNodes(g: Graph, idx: GraphIndex, from: string | readonly string[]): Set<number> {
  const seen = new Set<number>();
  const stack = typeof from === 'string' ? [from] : [...from];
  const visited = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (visited.has(t)) continue;
    visited.add(t);
    for (const ni of idx.consumers.get(t) ?? []) {
      if (seen.has(ni)) continue;
      seen.add(ni);
      for (const o of g.node[ni].output) if (o !== '') stack.push(o);
    }
  }
  return seen;
}

export interface PartPlan {
  cone: Cone;
  /** nodes to put before / after the kept original nodes (casts at the part boundary) */
  prepend: Node[];
  append: Node[];
  /** inputs not in the original graph (the residual), placed first */
  extraInputs: ValueInfo[];
  /** original outputs this part computes (in original order) */
  outputs: ValueInfo[];
  extraOutputs: ValueInfo[];
}

/** Assemble the pruned model of one part. Shares node/tensor objects with `model` (read-only). */
export function buildPartModel(model: Model, plan: PartPlan): Model {
  const g = model.graph;
  const { cone } = plan;
  const keptNodes = g.node.filter((_, i) => cone.nodes.has(i));
  const nodes = [...plan.prepend, ...keptNodes, ...plan.append];
  const reads = new Set<string>(cone.names);
  const produced = new Set<string>();
  for (const n of nodes) {
    for (const r of nodeReads(n)) reads.add(r);
    for (const o of n.output) if (o !== '') produced.add(o);
  }
  const extraIn = new Set(plan.extraInputs.map((v) => v.name));
  const inputs = [...plan.extraInputs, ...g.input.filter((v) => reads.has(v.name) && !extraIn.has(v.name) && !produced.has(v.name))];
  const inputNames = new Set(inputs.map((v) => v.name));
  const outputs = [...plan.outputs, ...plan.extraOutputs];
  const outputNames = new Set(outputs.map((v) => v.name));
  const initializer: Tensor[] = g.initializer.filter((t) => reads.has(t.name) && !produced.has(t.name));
  const valueInfo = g.valueInfo.filter((v) => produced.has(v.name) && !inputNames.has(v.name) && !outputNames.has(v.name));
  const graph: Graph = { ...g, node: nodes, initializer, input: inputs, output: outputs, valueInfo };
  const sparse = g.sparseInitializer as { values?: { name?: string } }[] | undefined;
  if (Array.isArray(sparse)) graph.sparseInitializer = sparse.filter((s) => reads.has(s.values?.name ?? ''));
  const qa = g.quantizationAnnotation as { tensorName?: string }[] | undefined;
  if (Array.isArray(qa)) graph.quantizationAnnotation = qa.filter((a) => produced.has(a.tensorName ?? '') || reads.has(a.tensorName ?? ''));
  return { ...model, graph };
}

/** Every name the graph reads: its outputs, node inputs, subgraphs' outer references. */
export function readNames(g: Graph): Set<string> {
  const read = new Set<string>(g.output.map((o) => o.name));
  for (const n of g.node) for (const r of nodeReads(n)) read.add(r);
  return read;
}

/**
 * Drop what an edit left unread: nodes none of whose outputs anything reads (a graph output, a
 * node input, a subgraph's outer reference), repeatedly, then initializers nothing reads (and
 * their entries in graph.input, for files that list initializers as inputs). Graph inputs stay.
 */
export function dropUnread(g: Graph): void {
  for (;;) {
    const read = readNames(g);
    const kept = g.node.filter((n) => n.output.some((o) => o !== '' && read.has(o)));
    if (kept.length === g.node.length) {
      const unread = new Set(g.initializer.filter((t) => !read.has(t.name)).map((t) => t.name));
      if (unread.size === 0) return;
      g.initializer = g.initializer.filter((t) => !unread.has(t.name));
      g.input = g.input.filter((i) => !unread.has(i.name));
      return;
    }
    g.node = kept;
  }
}
