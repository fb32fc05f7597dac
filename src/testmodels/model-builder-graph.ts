/**
 * The same LLaMA weights as an onnxruntime-genai "model builder" style graph: no position_ids,
 * fused (Skip)SimplifiedLayerNormalization, com.microsoft GroupQueryAttention with rotary
 * inside (cos/sin caches), seqlens_k / total_seq_len computed from attention_mask.
 */
import { DataType, type Model } from '../engine/onnx/proto';
import type { TestModelConfig } from './config';
import { GraphBuilder } from './graph-builder';
import type { BuildOptions } from './optimum-graph';
import { embedWeight, invFreq, linearShape, linearWeight, normWeight, transpose, type LinearName } from './weights';

export const MODEL_BUILDER_OPSET = 17;

/** cos/sin caches [maxPos, headDim/2] of pos * inv_freq. */
export function rotaryCaches(cfg: TestModelConfig): { cos: Float32Array; sin: Float32Array } {
  const inv = invFreq(cfg);
  const half = inv.length;
  const cos = new Float32Array(cfg.maxPositionEmbeddings * half);
  const sin = new Float32Array(cfg.maxPositionEmbeddings * half);
  for (let p = 0; p < cfg.maxPositionEmbeddings; p++) {
    for (let j = 0; j < half; j++) {
      // Same float32 rounding as the Optimum graph: fp32(pos) * fp32(inv_freq) in fp32.
      const f = Math.fround(p * inv[j]);
      cos[p * half + j] = Math.cos(f);
      sin[p * half + j] = Math.sin(f);
    }
  }
  return { cos, sin };
}

export function buildModelBuilderModel(cfg: TestModelConfig, opts: BuildOptions): Model {
  const g = new GraphBuilder(opts.format, opts.external, (n, k) => `${n}/output_${k}`);
  const { hiddenSize: H, numHeads: NH, numKvHeads: KVH, headDim: HD, vocabSize: V, numLayers: L } = cfg;
  const eps = { float: cfg.rmsNormEps };

  g.decoderIo(cfg, { positionIds: false });

  // Attention-mask subgraph → seqlens_k (int32 [batch]) and total_seq_len (int32 scalar).
  const m = '/model/attn_mask_reformat/attn_mask_subgraph';
  const sum = g.op1('ReduceSum', `${m}/ReduceSum`, ['attention_mask', g.i64([1])], { keepdims: 0 });
  const sub = g.op1('Sub', `${m}/Sub`, [sum, g.i64([1], [])]);
  const seqlensK = g.op1('Cast', `${m}/Sub/Cast`, [sub], { to: DataType.INT32 });
  const shape = g.op1('Shape', `${m}/Shape`, ['attention_mask']);
  const total = g.op1('Gather', `${m}/Gather`, [shape, g.i64([1], [])], { axis: 0 });
  const totalSeqLen = g.op1('Cast', `${m}/Gather/Cast`, [total], { to: DataType.INT32 });

  const embed = embedWeight(cfg);
  g.weight('model.embed_tokens.weight', [V, H], embed);
  const embeds = g.op1('Gather', '/model/embed_tokens/Gather', ['model.embed_tokens.weight', 'input_ids']);

  const { cos, sin } = rotaryCaches(cfg);
  g.weight('cos_cache', [cfg.maxPositionEmbeddings, HD / 2], cos);
  g.weight('sin_cache', [cfg.maxPositionEmbeddings, HD / 2], sin);

  const lin = (i: number, which: LinearName, group: string, x: string): string => {
    const [k, n] = linearShape(cfg, which);
    return g.linear(`/model/layers.${i}/${group}/${which}/MatMul`, x, `model.layers.${i}.${group}.${which}.MatMul.weight`, linearWeight(cfg, i, which), k, n);
  };
  const gamma = (name: string, data: Float32Array): string => g.weight(name, [H], data);

  let residual = embeds; // residual stream entering the current layer
  let pendingDown = ''; // previous layer's down_proj output (not yet added)
  for (let i = 0; i < L; i++) {
    const p = `/model/layers.${i}`;
    const inGamma = gamma(`model.layers.${i}.input_layernorm.weight`, normWeight(cfg, i, 'input_layernorm'));
    let xn: string;
    if (i === 0) {
      xn = g.op1('SimplifiedLayerNormalization', `${p}/input_layernorm/LayerNorm`, [embeds, inGamma], { axis: -1, epsilon: eps, stash_type: 1 });
    } else {
      const name = `${p}/input_layernorm/SkipLayerNorm`;
      const outs = [`${name}/output_0`, '', '', `${name}/output_3`];
      g.op('SkipSimplifiedLayerNormalization', name, [pendingDown, residual, inGamma], { epsilon: eps }, { domain: 'com.microsoft', outputs: outs });
      xn = outs[0];
      residual = outs[3];
    }

    const q = lin(i, 'q_proj', 'attn', xn);
    const k = lin(i, 'k_proj', 'attn', xn);
    const v = lin(i, 'v_proj', 'attn', xn);
    const gqa = `${p}/attn/GroupQueryAttention`;
    const attnOut = g.op(
      'GroupQueryAttention',
      gqa,
      [q, k, v, `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, totalSeqLen, 'cos_cache', 'sin_cache'],
      { num_heads: NH, kv_num_heads: KVH, do_rotary: 1, rotary_interleaved: 0, scale: { float: 1 / Math.sqrt(HD) }, local_window_size: -1 },
      { domain: 'com.microsoft', outputs: [`${gqa}/output_0`, `present.${i}.key`, `present.${i}.value`] },
    )[0];
    const o = lin(i, 'o_proj', 'attn', attnOut);

    const postGamma = gamma(`model.layers.${i}.post_attention_layernorm.weight`, normWeight(cfg, i, 'post_attention_layernorm'));
    const post = `${p}/post_attention_layernorm/SkipLayerNorm`;
    const postOuts = [`${post}/output_0`, '', '', `${post}/output_3`];
    g.op('SkipSimplifiedLayerNormalization', post, [o, residual, postGamma], { epsilon: eps }, { domain: 'com.microsoft', outputs: postOuts });
    residual = postOuts[3];

    const xn2 = postOuts[0];
    const gate = lin(i, 'gate_proj', 'mlp', xn2);
    const sig = g.op1('Sigmoid', `${p}/mlp/act_fn/Sigmoid`, [gate]);
    const act = g.op1('Mul', `${p}/mlp/act_fn/Mul`, [gate, sig]);
    const up = lin(i, 'up_proj', 'mlp', xn2);
    const prod = g.op1('Mul', `${p}/mlp/Mul`, [act, up]);
    pendingDown = lin(i, 'down_proj', 'mlp', prod);
  }

  const fin = `/model/layers.${L}/final_norm_layernorm/SkipLayerNorm`;
  const finGamma = gamma('model.layers.final_norm_layernorm.weight', normWeight(cfg, L, 'norm'));
  const normed = g.op(
    'SkipSimplifiedLayerNormalization',
    fin,
    [pendingDown, residual, finGamma],
    { epsilon: eps },
    { domain: 'com.microsoft', outputs: [`${fin}/output_0`] },
  )[0];

  g.linear('/lm_head/MatMul', normed, 'lm_head.MatMul.weight', transpose(embed, V, H), H, V);
  g.nodes[g.nodes.length - 1].output = ['logits'];
  return g.model('main_graph', MODEL_BUILDER_OPSET);
}
