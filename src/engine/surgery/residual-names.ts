/**
 * Facts about a decoder graph that the cut needs besides the residual chain (residual-chain.ts):
 * which exporter it looks like (a label only — the cut is found by structure), the layer count,
 * the residual's element type and hidden size, and the summary shown to the user.
 *
 * Exporter fingerprints (from the exporters' sources):
 * - Optimum / TorchScript: node names carry module scopes, `/model/layers.N/...`.
 * - torch dynamo (`torch.onnx.export(dynamo=True)`): nodes named `node_Add_2`, the module path only
 *   in node metadata `pkg.torch.onnx.name_scopes`.
 * - onnxruntime-genai model builder: GroupQueryAttention and fused SkipSimplifiedLayerNormalization,
 *   `/model/layers.N/final_norm_layernorm/` and `/model/attn_mask_reformat/` scopes.
 * - other GroupQueryAttention graphs without skip-norms (e.g. the gemma-3 build script:
 *   GroupQueryAttention with do_rotary=0, RotaryEmbedding, SimplifiedLayerNormalization).
 */
import { DataType, type Graph, type Model, type Node } from '../onnx/proto';
import type { ExportStyle, ModelStructure } from '../../protocol/structure';
import { declaredElemType, inferElemType, type GraphIndex } from './graph-index';
import { SKIP_NORM_OPS, type ResidualChain } from './residual-chain';

export type { ExportStyle };

const LAYER_RE = /^\/model\/layers\.(\d+)\//;

export function isSkipNorm(n: Node): boolean {
  return SKIP_NORM_OPS.has(n.opType);
}

/** Which exporter the model looks like, from its ops, names and metadata (never throws). */
export function detectStyle(model: Model): ExportStyle {
  let gqa = false;
  let skip = false;
  let mbNames = false;
  let maskNames = false;
  let scoped = 0;
  let dynamoNames = 0;
  let dynamoMeta = false;
  for (const n of model.graph.node) {
    if (n.opType === 'GroupQueryAttention') gqa = true;
    if (isSkipNorm(n)) skip = true;
    if (n.name.includes('/final_norm_layernorm/')) mbNames = true;
    if (n.name.startsWith('/model/attn_mask_reformat/')) maskNames = true;
    if (LAYER_RE.test(n.name)) scoped++;
    if (/^node_[A-Za-z0-9]+(_\d+)?$/.test(n.name)) dynamoNames++;
    if (n.metadataProps?.some((m) => m.key === 'pkg.torch.onnx.name_scopes')) dynamoMeta = true;
  }
  if (mbNames || (gqa && skip) || (maskNames && (gqa || skip))) return 'model-builder';
  if (gqa) return 'gqa-custom';
  if (dynamoMeta || dynamoNames > model.graph.node.length / 2) return 'torch-dynamo';
  if (scoped > 0) return 'optimum';
  return 'unknown';
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
  if (max < 0) throw new Error('surgery: cannot count the layers (no past_key_values.{i}.key inputs and no /model/layers.{i}/ nodes)');
  return max + 1;
}

/**
 * Element type of the residual stream: of the tensor (declared or inferred from its producers),
 * else the element type of the past key/value inputs, else of the first float graph input/output.
 */
export function residualElemType(g: Graph, idx: GraphIndex, residual: string): number {
  const t = declaredElemType(idx, residual) ?? inferElemType(g, idx, residual);
  const isFloat = (x: number | undefined) => x === DataType.FLOAT || x === DataType.FLOAT16;
  if (isFloat(t)) return t!;
  const past = g.input.find((i) => /^past_key_values\.\d+\.key$/.test(i.name));
  const pastType = past?.type?.tensorType?.elemType;
  if (isFloat(pastType)) return pastType!;
  for (const v of [...g.input, ...g.output]) {
    const x = v.type?.tensorType?.elemType;
    if (isFloat(x)) return x!;
  }
  return DataType.FLOAT;
}

const NORM_OPS = new Set(['Mul', 'SimplifiedLayerNormalization', 'LayerNormalization', 'RMSNormalization', ...SKIP_NORM_OPS]);
const FLOATS = new Set<number>([DataType.FLOAT, DataType.FLOAT16]);

/**
 * Hidden size: the residual's declared last dim, else the length of the first 1-D float
 * initializer a norm-like reader applies near the residual (RMSNorm gamma), else the
 * embedding table's second dim.
 */
export function residualHidden(g: Graph, idx: GraphIndex, residual: string): number {
  const dims = (idx.valueInfo.get(residual) ?? idx.outputs.get(residual))?.type?.tensorType?.shape?.dim;
  const lastDim = dims?.[dims.length - 1]?.dimValue;
  if (lastDim) return Number(lastDim);
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
            if (init && init.dims.length === 1 && FLOATS.has(init.dataType)) return Number(init.dims[0]);
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

const ATTENTION_OPS: ModelStructure['attention'][] = ['GroupQueryAttention', 'MultiHeadAttention', 'Attention'];
const HEAD_OPS = new Set(['MatMul', 'MatMulNBits', 'Gemm']);

/** Whether the LM head reads the embedding table (directly, through a Transpose, or the same packed bytes). */
function lmHeadTied(g: Graph, idx: GraphIndex, chain: ResidualChain): boolean {
  let p = idx.producer.get('logits');
  while (p !== undefined && (g.node[p].opType === 'Cast' || g.node[p].opType === 'Identity')) p = idx.producer.get(g.node[p].input[0]);
  if (p === undefined || !HEAD_OPS.has(g.node[p].opType)) return false;
  const table = chain.embedding.input[0];
  let w = g.node[p].input[1];
  for (let hops = 0; hops < 4 && w !== table; hops++) {
    const q = idx.producer.get(w);
    if (q === undefined || !['Transpose', 'Reshape', 'Cast', 'Identity'].includes(g.node[q].opType)) break;
    w = g.node[q].input[0];
  }
  return w === table;
}

/** The user-facing summary of what surgery found (cutTensors filled in by the caller). */
export function describeStructure(g: Graph, idx: GraphIndex, style: ExportStyle, chain: ResidualChain, elemType: number): ModelStructure {
  const ops = new Set(g.node.map((n) => n.opType));
  const kinds = new Set(chain.writes.map((w) => w.kind));
  return {
    exporter: style,
    attention: ATTENTION_OPS.find((op) => ops.has(op)) ?? 'decomposed',
    embedding: chain.embedding.opType === 'GatherBlockQuantized' ? 'GatherBlockQuantized' : 'Gather',
    embeddingScaled: chain.embeddingScaled,
    residualOps: kinds.size > 1 ? 'mixed' : kinds.has('skip-norm') ? 'skip-norm' : 'add',
    writesPerBlock: chain.writesPerBlock,
    residualType: elemType === DataType.FLOAT16 ? 'float16' : 'float32',
    tiedLmHead: lmHeadTied(g, idx, chain),
    cutTensors: {},
  };
}
