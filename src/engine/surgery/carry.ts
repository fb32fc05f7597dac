/**
 * Carry the shared preamble from part 0 to the later parts instead of duplicating it.
 *
 * Without this, the backward traversal of each part (prune.ts) pulls in the whole mask /
 * position / rotary subgraph, so every part recomputes it (on WebGPU: ORT runs the int64 nodes
 * on the CPU and uploads their results through fresh staging buffers, per part, per run).
 *
 * The cut is found by structure, not by names: a node of part k's cone is *shared* when part 0's
 * cone has it too and it depends on some graph input (constant-only subgraphs stay duplicated, so
 * ORT can still fold them). The frontier are the shared tensors that a non-shared node of part k
 * reads: they become extra outputs of part 0 and extra inputs of part k, and part k's cone is
 * rebuilt stopping at them. Float tensors travel as GPU buffers, the rest (int64 shapes, bool,
 * int32 seqlens) as CPU tensors, which is where ORT's WebGPU EP computes and consumes them.
 */
import { DataType, type Graph, type ValueInfo } from '../onnx/proto';
import { valueInfo } from '../onnx/build';
import { inferElemType, nodeReads, type GraphIndex } from './graph-index';
import { collectCone, forwardNodes, type Cone } from './prune';

export interface CarryPlan {
  /** per part k: the tensors it takes from part 0 (empty for part 0) */
  carryIn: string[][];
  /** what part 0 outputs for the later parts, with its declared type (union over k) */
  carryOut: ValueInfo[];
  /** carried names that are not float (kept on the CPU) */
  onCpu: string[];
  /** per part k: its cone with the carried tensors as stops */
  cones: Cone[];
}

const GPU_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16]);

/**
 * Plan the carry for parts whose cones (without carry) are `cones` and whose traversal roots and
 * stops are `roots`/`stops`. Returns null when a frontier tensor's element type is unknown (the
 * caller then keeps the duplicated preamble).
 */
export function planCarry(g: Graph, idx: GraphIndex, cones: Cone[], roots: string[][], stops: Set<string>[]): CarryPlan | null {
  // Nodes that (transitively) read a runtime graph input, not only initializers.
  const dynamic = forwardNodes(
    g,
    idx,
    g.input.map((v) => v.name).filter((n) => !idx.initializers.has(n)),
  );
  const first = cones[0];
  const carryIn: string[][] = [[]];
  const outCone: Cone[] = [first];
  const all = new Map<string, ValueInfo>();
  const onCpu = new Set<string>();
  const memo = new Map<string, number | undefined>();
  for (let k = 1; k < cones.length; k++) {
    const cone = cones[k];
    const shared = new Set([...cone.nodes].filter((i) => first.nodes.has(i) && dynamic.has(i)));
    const frontier = new Set<string>();
    for (const ni of cone.nodes) {
      if (shared.has(ni)) continue;
      for (const r of nodeReads(g.node[ni])) {
        const p = idx.producer.get(r);
        if (p !== undefined && shared.has(p)) frontier.add(r);
      }
    }
    for (const r of roots[k]) {
      const p = idx.producer.get(r);
      if (p !== undefined && shared.has(p)) frontier.add(r);
    }
    const names = [...frontier].sort();
    for (const name of names) {
      if (all.has(name)) continue;
      const type = inferElemType(g, idx, name, memo);
      if (!type) return null;
      const declared = idx.valueInfo.get(name);
      all.set(name, declared?.type?.tensorType?.elemType === type ? declared : valueInfo(name, type));
      if (!GPU_TYPES.has(type)) onCpu.add(name);
    }
    carryIn.push(names);
    outCone.push(names.length > 0 ? collectCone(g, idx, roots[k], new Set([...stops[k], ...names])) : cone);
  }
  return { carryIn, carryOut: [...all.values()], onCpu: [...onCpu], cones: outCone };
}
