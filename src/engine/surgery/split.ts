/**
 * The cut: split a decoder model into parts at the residual stream after given layers.
 *
 * Part k (0-based, k = 0..cuts) reads `residual.{cut[k-1]}` (float32 [batch, seq, hidden])
 * unless it is the first, and writes `residual.{cut[k]}` unless it is the last. Each original
 * graph output goes to the last part whose residual input it depends on (presents of layers
 * ≤ L in the part before the cut at L, logits in the last part). Shared subgraphs (mask,
 * positions, rotary) are computed once, in part 0, and carried to the later parts as extra
 * outputs/inputs (carry.ts); where that cannot be planned they are duplicated into every part
 * that needs them by the backward traversal in prune.ts.
 */
import { keepLastTokenLogits } from './last-token';
import { node, valueInfo } from '../onnx/build';
import { DataType, type Dimension, type Graph, type Node, type ValueInfo } from '../onnx/proto';
import { indexGraph, renameTensor } from './graph-index';
import { encodeWithRawInitializers } from './raw-initializers';
import { prepare, type Prepared } from './prepare';
import { buildPartModel, collectCone, forwardNodes, type Cone } from './prune';
import { planCarry } from './carry';
import { splitHostPreamble, type HostFeed, type HostPlan } from './host-preamble';
import type { ModelStructure } from '../../protocol/structure';
import type { ExportStyle } from './residual-names';

export interface GraphPart {
  /** encoded ONNX model of this part */
  bytes: Uint8Array;
  /** all graph inputs of this part, including `residualIn` */
  inputNames: string[];
  /** all graph outputs of this part, including `residualOut` */
  outputNames: string[];
  /** float32 residual input [batch, seq, hidden] (parts after the first) */
  residualIn?: string;
  /** float32 residual output [batch, seq, hidden] (all parts but the last) */
  residualOut?: string;
  /** tensors of the shared preamble this part takes from part 0 (graph inputs of this part) */
  carryIn?: string[];
  /** part 0 only: preamble tensors it outputs for the later parts */
  carryOut?: string[];
  /** the carried outputs ORT should leave on the CPU (int64/bool/int32: read by its CPU nodes) */
  carryOnCpu?: string[];
}

/** The host preamble (host-preamble.ts): a graph the engine runs on the CPU before each pass. */
export interface HostPart {
  /** encoded preamble graph; null when only token inputs are routed (no node moved) */
  bytes: Uint8Array | null;
  /** the parts' inputs fed from the host: token inputs and preamble outputs, GPU or CPU */
  feeds: HostFeed[];
}

export interface CutModel {
  style: ExportStyle;
  numLayers: number;
  hidden: number;
  cutLayers: number[];
  parts: GraphPart[];
  residualType: 'float32' | 'float16';
  /** what surgery found: exporter, attention/embedding/residual ops, the tensor cut per layer */
  structure: ModelStructure;
  /** with `hostPreamble`: the preamble the parts' host feeds come from */
  host?: HostPart;
}

/** Stable name of the exposed (float32) residual after layer `layer`. */
export function residualName(layer: number): string {
  return `residual.${layer}`;
}

/** [batch, seq, hidden] dims for the residual, with batch/seq taken from input_ids when declared. */
function residualDims(g: Graph, hidden: number): (number | string)[] {
  const ids = g.input.find((i) => i.name === 'input_ids') ?? g.input.find((i) => i.name === 'inputs_embeds');
  const dims = ids?.type?.tensorType?.shape?.dim ?? [];
  const sym = (d: Dimension | undefined, fallback: string): number | string =>
    d?.dimParam ? d.dimParam : d?.dimValue !== undefined && Number(d.dimValue) > 0 ? Number(d.dimValue) : fallback;
  return [sym(dims[0], 'batch_size'), sym(dims[1], 'sequence_length'), hidden];
}

function castNode(name: string, from: string, to: string, type: number): Node {
  return node('Cast', name, [from], [to], { to: type });
}

/**
 * Expose the residuals under their stable names. For float32 streams the residual tensor is
 * renamed to `residual.{L}` in place; for float16 streams it keeps its name and the caller adds
 * casts. Returns layer → internal tensor name (what the graph's nodes read).
 */
function exposeResiduals(p: Prepared): Map<number, string> {
  const internal = new Map<number, string>();
  for (const [l, t] of p.residuals) {
    if (p.idx.outputs.has(t)) {
      throw new Error(`surgery: the residual after layer ${l} (${t}) is itself a graph output; cutting there is not supported`);
    }
    if (p.tensorType === DataType.FLOAT) {
      renameTensor(p.model.graph, t, residualName(l));
      internal.set(l, residualName(l));
    } else if (p.tensorType === DataType.FLOAT16) {
      internal.set(l, t);
    } else {
      throw new Error(`surgery: unsupported residual element type ${p.tensorType} (expected float32 or float16)`);
    }
  }
  if (p.tensorType === DataType.FLOAT && p.residuals.size > 0) p.idx = indexGraph(p.model.graph);
  return internal;
}

function graphInputNames(g: Graph): string[] {
  const inits = new Set(g.initializer.map((t) => t.name));
  return g.input.map((i) => i.name).filter((n) => !inits.has(n));
}

export interface CutOptions {
  /** Compute logits for the last position only (see last-token.ts). */
  lastTokenLogits?: boolean;
  /** Duplicate the shared preamble into every part instead of carrying it from part 0. */
  duplicatePreamble?: boolean;
  /** Move the int64 preamble out to a graph of its own, run on the CPU (host-preamble.ts; WebGPU). */
  hostPreamble?: boolean;
}

function hostPart(plan: HostPlan | null, p: Prepared): HostPart | undefined {
  if (!plan) return undefined;
  return { bytes: plan.preamble ? encodeWithRawInitializers(plan.preamble, p.source, p.raw) : null, feeds: plan.feeds };
}

export function cutModel(bytes: Uint8Array, cutLayers: number[], opts: CutOptions = {}): CutModel {
  const p = prepare('cutModel', bytes, cutLayers, true);
  const residualType = p.elemType === DataType.FLOAT16 ? 'float16' : 'float32';
  if (cutLayers.length === 0) {
    // The original bytes unless something was fused (then the edited graph, its weights copied byte for byte).
    const info = prepare('cutModel', p.model, [0], true);
    const host = opts.hostPreamble ? splitHostPreamble(p.model) : null;
    const edited = p.fused.norms + p.fused.rotateHalf > 0 || host !== null;
    const uncut = edited ? encodeWithRawInitializers(p.model, p.source, p.raw) : bytes;
    const g = p.model.graph;
    return {
      style: p.style,
      numLayers: p.numLayers,
      hidden: info.hidden,
      cutLayers: [],
      residualType: info.elemType === DataType.FLOAT16 ? 'float16' : 'float32',
      structure: { ...info.structure, cutTensors: {} },
      parts: [{ bytes: uncut, inputNames: graphInputNames(g), outputNames: g.output.map((o) => o.name) }],
      host: hostPart(host, p),
    };
  }
  const dims = residualDims(p.model.graph, p.hidden); // before the host split may rename input_ids
  const host = opts.hostPreamble ? splitHostPreamble(p.model) : null;
  if (host) p.idx = indexGraph(p.model.graph);
  const internal = exposeResiduals(p);
  const g = p.model.graph;
  const idx = p.idx;
  const f16 = p.tensorType === DataType.FLOAT16;
  const cutTensors = cutLayers.map((l) => internal.get(l)!);

  // Assign each original output to the last part whose residual input is in its ancestor cone.
  const partOf = new Map<string, number>();
  for (const o of g.output) partOf.set(o.name, 0);
  cutTensors.forEach((t, j) => {
    const desc = forwardNodes(g, idx, t);
    for (const o of g.output) {
      const prod = idx.producer.get(o.name);
      if (o.name === t || (prod !== undefined && desc.has(prod))) partOf.set(o.name, j + 1);
    }
  });

  const roots: string[][] = [];
  const stopSets: Set<string>[] = [];
  const outputsOf: (typeof g.output)[] = [];
  const cones: Cone[] = [];
  for (let k = 0; k <= cutLayers.length; k++) {
    const inLayer = k > 0 ? cutLayers[k - 1] : undefined;
    const outLayer = k < cutLayers.length ? cutLayers[k] : undefined;
    const outputs = g.output.filter((o) => partOf.get(o.name) === k && o.name !== residualName(outLayer ?? -1));
    const r = outputs.map((o) => o.name);
    if (outLayer !== undefined) r.push(internal.get(outLayer)!);
    const stops = new Set<string>(inLayer !== undefined ? [internal.get(inLayer)!] : []);
    const cone = collectCone(g, idx, r, stops);
    // A part must not reach back past its own residual input to an earlier cut.
    for (let j = 0; j < k - 1; j++) {
      if (cone.names.has(cutTensors[j])) {
        throw new Error(
          `cutModel: part ${k} (after layer ${inLayer}) depends on the residual after layer ${cutLayers[j]} ` +
            'through a path that bypasses its own cut; the graph is not a plain residual stack',
        );
      }
    }
    roots.push(r);
    stopSets.push(stops);
    outputsOf.push(outputs);
    cones.push(cone);
  }
  const carry = opts.duplicatePreamble ? null : planCarry(g, idx, cones, roots, stopSets);

  const parts: GraphPart[] = [];
  for (let k = 0; k <= cutLayers.length; k++) {
    const inLayer = k > 0 ? cutLayers[k - 1] : undefined;
    const outLayer = k < cutLayers.length ? cutLayers[k] : undefined;
    const carryIn = carry?.carryIn[k] ?? [];
    const carryOut = k === 0 && carry ? carry.carryOut.filter((v) => !outputsOf[0].some((o) => o.name === v.name)) : [];
    const prepend: Node[] = [];
    const append: Node[] = [];
    const extraInputs: ValueInfo[] = [];
    const extraOutputs: ValueInfo[] = [...carryOut];
    if (inLayer !== undefined) {
      extraInputs.push(valueInfo(residualName(inLayer), DataType.FLOAT, dims));
      if (f16) prepend.push(castNode(`/traitlab/residual.${inLayer}/cast_in`, residualName(inLayer), internal.get(inLayer)!, DataType.FLOAT16));
    }
    for (const name of carryIn) extraInputs.push(carry!.carryOut.find((v) => v.name === name)!);
    if (outLayer !== undefined) {
      extraOutputs.push(valueInfo(residualName(outLayer), DataType.FLOAT, dims));
      if (f16) append.push(castNode(`/traitlab/residual.${outLayer}/cast_out`, internal.get(outLayer)!, residualName(outLayer), DataType.FLOAT));
    }
    const cone = carry?.cones[k] ?? cones[k];
    const partModel = buildPartModel(p.model, { cone, prepend, append, extraInputs, outputs: outputsOf[k], extraOutputs });
    if (opts.lastTokenLogits && k === cutLayers.length) keepLastTokenLogits(partModel);
    const part: GraphPart = {
      bytes: encodeWithRawInitializers(partModel, p.source, p.raw),
      inputNames: graphInputNames(partModel.graph),
      outputNames: partModel.graph.output.map((o) => o.name),
      residualIn: inLayer !== undefined ? residualName(inLayer) : undefined,
      residualOut: outLayer !== undefined ? residualName(outLayer) : undefined,
    };
    if (carryIn.length > 0) part.carryIn = carryIn;
    if (k === 0 && carry && carry.carryOut.length > 0) {
      part.carryOut = carry.carryOut.map((v) => v.name);
      part.carryOnCpu = part.carryOut.filter((n) => carry!.onCpu.includes(n));
    }
    parts.push(part);
  }
  return {
    style: p.style,
    numLayers: p.numLayers,
    hidden: p.hidden,
    cutLayers: [...cutLayers],
    parts,
    residualType,
    structure: p.structure,
    host: hostPart(host, p),
  };
}

/**
 * One model (all original nodes) with extra float32 outputs `residual.{L}` for each requested
 * layer: the residual stream after that layer, e.g. for collecting activation statistics.
 */
export function tapResiduals(bytes: Uint8Array, layers: number[]): Uint8Array {
  const unique = [...new Set(layers)].sort((a, b) => a - b);
  const p = prepare('tapResiduals', bytes, unique, true);
  const internal = exposeResiduals(p);
  const g = p.model.graph;
  const dims = residualDims(g, p.hidden);
  for (const l of unique) {
    if (p.tensorType === DataType.FLOAT16) {
      g.node.push(castNode(`/traitlab/residual.${l}/tap_cast`, internal.get(l)!, residualName(l), DataType.FLOAT));
    }
    g.valueInfo = g.valueInfo.filter((v) => v.name !== residualName(l));
    g.output.push(valueInfo(residualName(l), DataType.FLOAT, dims));
  }
  return encodeWithRawInitializers(p.model, p.source, p.raw);
}
