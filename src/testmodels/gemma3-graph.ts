/**
 * A Gemma-3 text decoder in the layout of onnx-community/gemma-3-270m-it-ONNX, which was made by
 * the transformers.js maintainer's custom build script ("build_gemma.py", onnx_ir; not Optimum,
 * not the model builder; see ORT issue #26732 and /work/shared/notes/real-exports.md):
 *
 * - inputs input_ids / attention_mask / position_ids / past_key_values.{i}.key|value,
 *   outputs logits / present.{i}.key|value; tensors named `{node}/output_0`;
 * - embedding Gather scaled by √hidden (`/model/embed_tokens/Mul`);
 * - per block: SimplifiedLayerNormalization input_layernorm → q/k/v MatMuls → per-head q_norm /
 *   k_norm → com.microsoft RotaryEmbedding (local or global rope base per layer) →
 *   com.microsoft GroupQueryAttention with do_rotary=0 → o_proj → post_attention_layernorm →
 *   `/model/layers.N/Add_1` (the MID-block residual) → pre_feedforward_layernorm → GELU(tanh) MLP →
 *   post_feedforward_layernorm → `/model/layers.N/Add_2` (the END of the block). `/model/layers.N/Add`
 *   is not a residual add (here: the per-layer seqlens_k), as in the hub file's numbering;
 * - Gemma's (1 + w) RMSNorm gains folded into the weights; final norm; tied lm_head
 *   (Transpose of the embedding table + MatMul; a MatMulNBits of the same table in q4);
 * - float16 builds (to-float16.ts) get a Clip on every Add_1 output, like the re-uploaded files.
 */
import { DataType, type Model } from '../engine/onnx/proto';
import type { TestModelConfig } from './config';
import { GraphBuilder } from './graph-builder';
import type { BuildOptions } from './optimum-graph';
import { embedWeight, fnv1a, linearShape, linearWeight, normalArray, transpose, type LinearName } from './weights';

export const GEMMA3_OPSET = 17;
/** Every `GEMMA3_SLIDING_PATTERN`-th layer is global (rope base 1e6); the others local (1e4). */
export const GEMMA3_SLIDING_PATTERN = 2;
export const GEMMA3_ROPE_GLOBAL = 1_000_000;
export const GEMMA3_ROPE_LOCAL = 10_000;
/** query_pre_attn_scalar of the fixture (GQA scale = its -1/2 power). */
export const GEMMA3_QUERY_SCALAR = 16;

function caches(cfg: TestModelConfig, base: number): { cos: Float32Array; sin: Float32Array } {
  const half = cfg.headDim / 2;
  const cos = new Float32Array(cfg.maxPositionEmbeddings * half);
  const sin = new Float32Array(cfg.maxPositionEmbeddings * half);
  for (let p = 0; p < cfg.maxPositionEmbeddings; p++) {
    for (let j = 0; j < half; j++) {
      const f = Math.fround(p * Math.fround(1 / Math.pow(base, (2 * j) / cfg.headDim)));
      cos[p * half + j] = Math.cos(f);
      sin[p * half + j] = Math.sin(f);
    }
  }
  return { cos, sin };
}

/** Folded Gemma RMSNorm gain (1 + w) with small random w. */
function gain(cfg: TestModelConfig, name: string, n: number): Float32Array {
  return normalArray((fnv1a(`gemma3.${name}`) ^ cfg.seed) >>> 0, n, 0.1, 1);
}

export function isGlobalLayer(layer: number): boolean {
  return (layer + 1) % GEMMA3_SLIDING_PATTERN === 0;
}

export function buildGemma3Model(cfg: TestModelConfig, opts: BuildOptions): Model {
  const g = new GraphBuilder(opts.format, opts.external, (n, k) => `${n}/output_${k}`);
  const { hiddenSize: H, numHeads: NH, numKvHeads: KVH, headDim: HD, vocabSize: V, numLayers: L } = cfg;
  const eps = { float: cfg.rmsNormEps };

  g.decoderIo(cfg, { positionIds: true });

  // Mask → ReduceSum (per layer below: seqlens_k) and total_seq_len.
  const sum = g.op1('ReduceSum', '/model/ReduceSum', ['attention_mask', g.i64([1])], { keepdims: 0 });
  const total = g.op1(
    'Cast',
    '/model/Cast',
    [g.op1('Gather', '/model/Gather', [g.op1('Shape', '/model/Shape', ['attention_mask']), g.i64([1], [])], { axis: 0 })],
    {
      to: DataType.INT32,
    },
  );

  const embed = embedWeight(cfg);
  g.weight('model.embed_tokens.weight', [V, H], embed);
  const gathered = g.op1('Gather', '/model/embed_tokens/Gather', ['model.embed_tokens.weight', 'input_ids']);
  let residual = g.op1('Mul', '/model/embed_tokens/Mul', [gathered, g.f32([Math.fround(Math.sqrt(H))], [])]);

  const local = caches(cfg, GEMMA3_ROPE_LOCAL);
  const global = caches(cfg, GEMMA3_ROPE_GLOBAL);
  g.weight('cos_cache_local', [cfg.maxPositionEmbeddings, HD / 2], local.cos);
  g.weight('sin_cache_local', [cfg.maxPositionEmbeddings, HD / 2], local.sin);
  g.weight('cos_cache_global', [cfg.maxPositionEmbeddings, HD / 2], global.cos);
  g.weight('sin_cache_global', [cfg.maxPositionEmbeddings, HD / 2], global.sin);

  const norm = (name: string, x: string, weight: string, n: number): string => {
    g.weight(weight, [n], gain(cfg, weight, n));
    return g.op1('SimplifiedLayerNormalization', name, [x, weight], { axis: -1, epsilon: eps, stash_type: 1 });
  };
  const lin = (i: number, which: LinearName, group: string, x: string): string => {
    const [k, n] = linearShape(cfg, which);
    return g.linear(`/model/layers.${i}/${group}/${which}/MatMul`, x, `model.layers.${i}.${group}.${which}.weight`, linearWeight(cfg, i, which), k, n);
  };

  for (let i = 0; i < L; i++) {
    const p = `/model/layers.${i}`;
    const a = `${p}/self_attn`;
    const w = `model.layers.${i}`;
    const seqlensK = g.op1('Cast', `${p}/Cast`, [g.op1('Add', `${p}/Add`, [sum, g.i64([-1], [])])], { to: DataType.INT32 });

    const xn = norm(`${p}/input_layernorm/SimplifiedLayerNormalization`, residual, `${w}.input_layernorm.weight`, H);
    const headNorm = (x: string, heads: number, which: 'q_norm' | 'k_norm'): string => {
      const r = g.op1('Reshape', `${a}/${which}/Reshape`, [x, g.i64([0, 0, heads, HD])]);
      const n = norm(`${a}/${which}/SimplifiedLayerNormalization`, r, `${w}.self_attn.${which}.weight`, HD);
      return g.op1('Reshape', `${a}/${which}/Reshape_1`, [n, g.i64([0, 0, heads * HD])]);
    };
    const kind = isGlobalLayer(i) ? 'global' : 'local';
    const rope = (x: string, heads: number, tag: string): string =>
      g.op1(
        'RotaryEmbedding',
        `${a}/RotaryEmbedding${tag}`,
        [x, 'position_ids', `cos_cache_${kind}`, `sin_cache_${kind}`],
        { interleaved: 0, num_heads: heads },
        'com.microsoft',
      );
    const q = rope(headNorm(lin(i, 'q_proj', 'self_attn', xn), NH, 'q_norm'), NH, '');
    const k = rope(headNorm(lin(i, 'k_proj', 'self_attn', xn), KVH, 'k_norm'), KVH, '_1');
    const v = lin(i, 'v_proj', 'self_attn', xn);
    const gqa = `${a}/GroupQueryAttention`;
    const attn = g.op(
      'GroupQueryAttention',
      gqa,
      [q, k, v, `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, total],
      { num_heads: NH, kv_num_heads: KVH, do_rotary: 0, scale: { float: 1 / Math.sqrt(GEMMA3_QUERY_SCALAR) }, local_window_size: -1 },
      { domain: 'com.microsoft', outputs: [`${gqa}/output_0`, `present.${i}.key`, `present.${i}.value`] },
    )[0];
    const o = lin(i, 'o_proj', 'self_attn', attn);
    const pa = norm(`${p}/post_attention_layernorm/SimplifiedLayerNormalization`, o, `${w}.post_attention_layernorm.weight`, H);
    const mid = g.op1('Add', `${p}/Add_1`, [residual, pa]); // mid-block residual

    const xn2 = norm(`${p}/pre_feedforward_layernorm/SimplifiedLayerNormalization`, mid, `${w}.pre_feedforward_layernorm.weight`, H);
    const gate = lin(i, 'gate_proj', 'mlp', xn2);
    // gelu_pytorch_tanh(x) = 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
    const m = `${p}/mlp/act_fn`;
    const cube = g.op1('Mul', `${m}/Mul`, [g.op1('Mul', `${m}/Mul_1`, [gate, gate]), gate]);
    const inner = g.op1('Add', `${m}/Add`, [gate, g.op1('Mul', `${m}/Mul_2`, [cube, g.f32([0.044715], [])])]);
    const th = g.op1('Tanh', `${m}/Tanh`, [g.op1('Mul', `${m}/Mul_3`, [inner, g.f32([Math.fround(Math.sqrt(2 / Math.PI))], [])])]);
    const act = g.op1('Mul', `${m}/Mul_4`, [g.op1('Mul', `${m}/Mul_5`, [gate, g.f32([0.5], [])]), g.op1('Add', `${m}/Add_1`, [th, g.f32([1], [])])]);
    const up = lin(i, 'up_proj', 'mlp', xn2);
    const down = lin(i, 'down_proj', 'mlp', g.op1('Mul', `${p}/mlp/Mul`, [act, up]));
    const pf = norm(`${p}/post_feedforward_layernorm/SimplifiedLayerNormalization`, down, `${w}.post_feedforward_layernorm.weight`, H);
    residual = g.op1('Add', `${p}/Add_2`, [mid, pf]); // end of block
  }

  const final = norm('/model/norm/SimplifiedLayerNormalization', residual, 'model.norm.weight', H);
  if (opts.format === 'fp32') {
    const t = g.op1('Transpose', '/lm_head/Transpose', ['model.embed_tokens.weight'], { perm: [1, 0] });
    g.op('MatMul', '/lm_head/MatMul', [final, t], {}, { outputs: ['logits'] });
  } else {
    g.linear('/lm_head/MatMul', final, 'model.embed_tokens.weight_T', transpose(embed, V, H), H, V);
    g.nodes[g.nodes.length - 1].output = ['logits'];
  }
  return g.model('main_graph', GEMMA3_OPSET);
}
