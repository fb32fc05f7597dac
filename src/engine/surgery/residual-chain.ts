/**
 * The residual stream, located by graph structure alone (no node or tensor names).
 *
 * A pre-norm decoder is a chain of residual writes: the stream r₀ leaves the embedding lookup
 * (Gather or GatherBlockQuantized on input_ids, possibly scaled by a constant, e.g. Gemma's
 * √hidden), and every block adds branches computed from the stream back into it:
 *
 *   r_{k+1} = r_k + f_k(r_k)    an Add(r_k, b) whose other input b depends on r_k, or a fused
 *                               skip-norm (SkipSimplifiedLayerNormalization / SkipLayerNormalization)
 *                               with r_k and b as its input and skip, whose output 3 is the sum
 *
 * Walking that chain from the embedding to the final norm gives 2 writes per block (attention,
 * MLP) — or 1 for parallel-attention blocks — whatever the exporter called the nodes. The
 * residual after block N is the last write of block N: for Gemma-3's build script that is
 * `/model/layers.N/Add_2` (its `Add_1` is mid-block), for Optimum `/model/layers.N/Add_1`, for the
 * model builder the skip-norm that opens block N+1 (or the final norm).
 *
 * Casts and Identities between the stream and its readers are looked through (float16
 * conversions insert them), and a write's output is followed through a single same-type reader
 * (Identity, or Clip — the clamps some float16 exports add after residual adds), so the cut
 * tensor is the one the next block actually reads.
 *
 * Where initializer names follow the module tree (`model.layers.{N+1}.input_layernorm.weight`:
 * Optimum, torch dynamo, the model builder, most custom scripts), `checkBlockInputNorms`
 * confirms that block N+1's input norm reads exactly the residual found for block N.
 */
import { DataType, toNum, type Graph, type Node } from '../onnx/proto';
import { nodeReads, type GraphIndex } from './graph-index';

export const SKIP_NORM_OPS = new Set(['SkipSimplifiedLayerNormalization', 'SkipLayerNormalization']);
export const EMBEDDING_OPS = new Set(['Gather', 'GatherBlockQuantized']);
/** Readers that do not change the stream's values (beyond dtype rounding). */
const LOOK_THROUGH = new Set(['Cast', 'Identity']);

export interface ResidualWrite {
  node: Node;
  kind: 'add' | 'skip-norm';
  /** the stream after this write; undefined for a skip-norm that does not output its sum (a final norm) */
  tensor?: string;
}

export interface ResidualChain {
  embedding: Node;
  /** the embedding output passes through a constant Mul/Div before block 0 */
  embeddingScaled: boolean;
  /** the stream entering block 0 */
  start: string;
  writes: ResidualWrite[];
  writesPerBlock: 1 | 2;
}

export class StructureError extends Error {
  override name = 'StructureError';
}

function attrInt(n: Node, name: string): number | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a?.i === undefined ? undefined : toNum(a.i);
}

function isConstant(idx: GraphIndex, g: Graph, name: string): boolean {
  if (!name || idx.initializers.has(name)) return true;
  const p = idx.producer.get(name);
  return p !== undefined && g.node[p].opType === 'Constant';
}

function isFloatCast(n: Node): boolean {
  if (n.opType !== 'Cast') return true;
  const to = attrInt(n, 'to');
  return to === DataType.FLOAT || to === DataType.FLOAT16;
}

/** The embedding lookup: Gather/GatherBlockQuantized whose indices are input_ids (or a cast of it). */
export function findEmbedding(g: Graph, idx: GraphIndex): Node {
  const ids = new Set<string>();
  const stack = ['input_ids'];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (ids.has(t)) continue;
    ids.add(t);
    for (const ni of idx.consumers.get(t) ?? []) {
      const n = g.node[ni];
      if (LOOK_THROUGH.has(n.opType) && n.output[0]) stack.push(n.output[0]);
    }
  }
  const emb = g.node.find((n) => EMBEDDING_OPS.has(n.opType) && ids.has(n.input[1]) && !ids.has(n.input[0]));
  if (!emb) {
    throw new StructureError(
      'found no embedding lookup (a Gather or GatherBlockQuantized node whose indices are the input_ids graph input)' +
        (idx.inputs.has('input_ids') ? '' : '; the graph has no input named input_ids'),
    );
  }
  return emb;
}

/** `t` and every tensor derived from it by Casts/Identities (the same values, maybe another dtype). */
function streamClass(g: Graph, idx: GraphIndex, t: string): Set<string> {
  const cls = new Set<string>();
  const stack = [t];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (cls.has(x)) continue;
    cls.add(x);
    for (const ni of idx.consumers.get(x) ?? []) {
      const n = g.node[ni];
      if (LOOK_THROUGH.has(n.opType) && isFloatCast(n) && n.output[0]) stack.push(n.output[0]);
    }
  }
  return cls;
}

/** Whether tensor `from` is computed (transitively) from any tensor in `targets`. */
function dependsOn(g: Graph, idx: GraphIndex, from: string, targets: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (targets.has(t)) return true;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = idx.producer.get(t);
    if (p === undefined) continue;
    for (const r of nodeReads(g.node[p])) if (!seen.has(r)) stack.push(r);
  }
  return false;
}

/** The residual writes reading stream `t`: Adds / skip-norms with `t` on one side and a branch of `t` on the other. */
function writesFrom(g: Graph, idx: GraphIndex, t: string): Node[] {
  const cls = streamClass(g, idx, t);
  // A fused skip-norm hands the next branch its normed output, not the sum: any of its outputs counts.
  const branchRoots = new Set(cls);
  const p = idx.producer.get(t);
  if (p !== undefined && SKIP_NORM_OPS.has(g.node[p].opType)) for (const o of g.node[p].output) if (o) branchRoots.add(o);
  const found: Node[] = [];
  const seen = new Set<number>();
  for (const x of cls) {
    for (const ni of idx.consumers.get(x) ?? []) {
      if (seen.has(ni)) continue;
      seen.add(ni);
      const n = g.node[ni];
      const add = n.opType === 'Add' && (n.domain ?? '') === '';
      if (!add && !SKIP_NORM_OPS.has(n.opType)) continue;
      const aIn = cls.has(n.input[0]);
      const bIn = cls.has(n.input[1]);
      if (aIn === bIn) continue;
      const other = aIn ? n.input[1] : n.input[0];
      if (!idx.producer.has(other) || isConstant(idx, g, other)) continue;
      if (dependsOn(g, idx, other, branchRoots)) found.push(n);
    }
  }
  return found;
}

/** Follow `t` through a single same-type pass-through reader (Identity, Clip with constant bounds). */
function canonical(g: Graph, idx: GraphIndex, t: string): string {
  for (let hops = 0; hops < 8 && !idx.outputs.has(t); hops++) {
    const cs = idx.consumers.get(t) ?? [];
    if (cs.length !== 1) break;
    const n = g.node[cs[0]];
    const pass = n.opType === 'Identity' || (n.opType === 'Clip' && n.input.slice(1).every((x) => isConstant(idx, g, x)));
    if (!pass || n.input[0] !== t || !n.output[0]) break;
    t = n.output[0];
  }
  return t;
}

/** Before block 0: the single value-preserving or constant-scaling reader of the embedding output, if any. */
function startStep(g: Graph, idx: GraphIndex, t: string): { next: string; scales: boolean } | undefined {
  const readers = (idx.consumers.get(t) ?? []).map((i) => g.node[i]).filter((n) => n.opType !== 'Shape');
  if (readers.length !== 1) return undefined;
  const n = readers[0];
  if (!n.output[0] || n.input[0] === undefined) return undefined;
  if ((LOOK_THROUGH.has(n.opType) && isFloatCast(n)) || n.opType === 'Clip') return { next: n.output[0], scales: false };
  if ((n.opType === 'Mul' || n.opType === 'Div') && n.input.length === 2) {
    const other = n.input[0] === t ? n.input[1] : n.input[0];
    if (n.input[1] === t && n.opType === 'Div') return undefined;
    if (isConstant(idx, g, other)) return { next: n.output[0], scales: true };
  }
  return undefined;
}

function describe(n: Node): string {
  return `${n.opType} "${n.name || n.output[0]}"`;
}

/** Trace the residual chain of a decoder with `numLayers` blocks (see the file header). */
export function traceResidualChain(g: Graph, idx: GraphIndex, numLayers: number): ResidualChain {
  const embedding = findEmbedding(g, idx);
  let t = embedding.output[0];
  let embeddingScaled = false;
  for (let hops = 0; hops < 8 && writesFrom(g, idx, t).length === 0; hops++) {
    const s = startStep(g, idx, t);
    if (!s) break;
    embeddingScaled ||= s.scales;
    t = s.next;
  }
  const start = t;
  const writes: ResidualWrite[] = [];
  for (;;) {
    const next = writesFrom(g, idx, t);
    if (next.length === 0) break;
    if (next.length > 1) {
      throw new StructureError(
        `the residual stream after ${writes.length} residual writes (tensor "${t}") is read by ${next.length} residual adds ` +
          `(${next.map(describe).join(', ')}); expected one`,
      );
    }
    const n = next[0];
    if (n.opType === 'Add') {
      t = canonical(g, idx, n.output[0]);
      writes.push({ node: n, kind: 'add', tensor: t });
    } else if (n.output[3]) {
      t = n.output[3];
      writes.push({ node: n, kind: 'skip-norm', tensor: t });
    } else {
      writes.push({ node: n, kind: 'skip-norm' });
      break;
    }
    if (writes.length > 4 * numLayers + 8) break;
  }
  const k = writes.length;
  const writesPerBlock = k === 2 * numLayers ? 2 : k === numLayers ? 1 : 0;
  if (writesPerBlock === 0) {
    const seen = writes.length
      ? `: ${writes
          .slice(0, 3)
          .map((w) => describe(w.node))
          .join(', ')}${k > 3 ? ', …' : ''}`
      : '';
    throw new StructureError(
      `traced ${k} residual writes from the embedding (${describe(embedding)}) to the end of the stream${seen}; ` +
        `expected ${2 * numLayers} (an attention and an MLP add per block, ${numLayers} blocks) or ${numLayers} (parallel blocks)`,
    );
  }
  return { embedding, embeddingScaled, start, writes, writesPerBlock };
}

/** The write whose result is the residual after block `layer`. */
export function writeAfterBlock(chain: ResidualChain, layer: number): ResidualWrite {
  return chain.writes[(layer + 1) * chain.writesPerBlock - 1];
}

/** Chain tensors reached backwards from node `n`'s inputs, stopping at them. */
function streamInputs(g: Graph, idx: GraphIndex, n: Node, stream: ReadonlySet<string>, skip: string): Set<string> {
  const reached = new Set<string>();
  const seen = new Set<string>();
  const stack = nodeReads(n).filter((r) => r !== skip);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (stream.has(t)) {
      reached.add(t);
      continue;
    }
    const p = idx.producer.get(t);
    if (p !== undefined) for (const r of nodeReads(g.node[p])) stack.push(r);
  }
  return reached;
}

/**
 * Cross-check against module-tree initializer names where the graph has them: block N+1's input
 * norm (its weight `…layers.{N+1}.input_layernorm…`) must read the residual found after block N.
 */
export function checkBlockInputNorms(g: Graph, idx: GraphIndex, chain: ResidualChain, numLayers: number): void {
  const stream = new Set<string>([chain.start]);
  for (const w of chain.writes) if (w.tensor) stream.add(w.tensor);
  const names = g.initializer.map((t) => t.name);
  for (let layer = 0; layer + 1 < numLayers; layer++) {
    const re = new RegExp(`(^|[./_])layers[._]${layer + 1}[./_](.*[./_])?input_layernorm([./_]|$)`);
    const weight = names.find((n) => re.test(n));
    if (!weight) continue;
    const w = writeAfterBlock(chain, layer);
    const norm = [...streamClass(g, idx, weight)].flatMap((x) => idx.consumers.get(x) ?? []).map((i) => g.node[i])[0];
    if (!norm || norm === w.node) continue;
    const reached = streamInputs(g, idx, norm, stream, weight);
    if (w.tensor && reached.size === 1 && reached.has(w.tensor)) continue;
    throw new StructureError(
      `block ${layer + 1}'s input norm (${describe(norm)}, weight "${weight}") reads ` +
        `${reached.size ? [...reached].map((r) => `"${r}"`).join(', ') : 'no residual tensor'}, ` +
        `but the residual traced after block ${layer} is ${w.tensor ? `"${w.tensor}"` : `the sum inside ${describe(w.node)}`}`,
    );
  }
}
