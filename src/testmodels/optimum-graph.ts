/**
 * LLaMA decoder graph in the layout of a Hugging Face Optimum (TorchScript) export:
 * inputs input_ids / attention_mask / position_ids / past_key_values.{i}.key|value,
 * outputs logits / present.{i}.key|value, decomposed RMSNorm and attention, residual adds
 * named /model/layers.{i}/Add and /model/layers.{i}/Add_1.
 */
import { DataType, type Model } from '../engine/onnx/proto';
import type { TestModelConfig } from './config';
import { GraphBuilder, type ExternalDataSink, type WeightFormat } from './graph-builder';
import { embedWeight, invFreq, linearShape, linearWeight, normWeight, transpose, type LinearName } from './weights';

export const OPTIMUM_OPSET = 17;

export interface BuildOptions {
  format: WeightFormat;
  /** When set, every weight goes to external data through this sink. */
  external?: ExternalDataSink;
  /**
   * Optional weight source overriding the default seeded random weights (used by the
   * planted-trait model, planted.ts). Omitted → the default weights, bytes unchanged.
   */
  weights?: OptimumWeights;
  /** q4 only: quantize the embedding too (com.microsoft GatherBlockQuantized), as newer q4 files do. */
  quantizedEmbedding?: boolean;
}

/** Where buildOptimumModel takes its weights from; every tensor in the layouts of weights.ts. */
export interface OptimumWeights {
  /** [vocab, hidden]; the lm_head is its transpose (tied) unless `lmHead` is given. */
  embed(cfg: TestModelConfig): Float32Array;
  /** Optional untied lm_head [hidden, vocab] (MatMul "B" layout). */
  lmHead?(cfg: TestModelConfig): Float32Array;
  /** [in, out] */
  linear(cfg: TestModelConfig, layer: number, which: LinearName): Float32Array;
  /** RMSNorm gamma [hidden]; `which` = input_layernorm | post_attention_layernorm | norm (layer = numLayers). */
  norm(cfg: TestModelConfig, layer: number, which: string): Float32Array;
}

const DEFAULT_WEIGHTS: OptimumWeights = { embed: embedWeight, linear: linearWeight, norm: normWeight };

/** RMSNorm as Optimum exports it: Pow, ReduceMean, Add eps, Sqrt, Div(1, ·), Mul, Mul γ. */
function rmsNorm(g: GraphBuilder, prefix: string, x: string, gammaName: string, gamma: Float32Array, eps: number): string {
  const two = g.f32([2], []);
  const epsC = g.f32([eps], []);
  const one = g.f32([1], []);
  const pow = g.op1('Pow', `${prefix}/Pow`, [x, two]);
  const mean = g.op1('ReduceMean', `${prefix}/ReduceMean`, [pow], { axes: [-1], keepdims: 1 });
  const add = g.op1('Add', `${prefix}/Add`, [mean, epsC]);
  const sqrt = g.op1('Sqrt', `${prefix}/Sqrt`, [add]);
  const inv = g.op1('Div', `${prefix}/Div`, [one, sqrt]);
  const normed = g.op1('Mul', `${prefix}/Mul`, [x, inv]);
  g.weight(gammaName, [gamma.length], gamma);
  return g.op1('Mul', `${prefix}/Mul_1`, [gammaName, normed]);
}

export function buildOptimumModel(cfg: TestModelConfig, opts: BuildOptions): Model {
  const g = new GraphBuilder(opts.format, opts.external);
  const W = opts.weights ?? DEFAULT_WEIGHTS;
  const { hiddenSize: H, numHeads: NH, numKvHeads: KVH, headDim: HD, vocabSize: V, numLayers: L } = cfg;
  const half = HD / 2;
  const nRep = NH / KVH;

  g.decoderIo(cfg, { positionIds: true });

  // Embedding (the same matrix, transposed, is the lm_head below).
  const embed = W.embed(cfg);
  let hidden: string;
  if (opts.quantizedEmbedding && opts.format === 'q4') {
    hidden = g.gatherQ4('/model/embed_tokens/GatherBlockQuantized', 'model.embed_tokens.weight', embed, V, H, 'input_ids');
  } else {
    g.weight('model.embed_tokens.weight', [V, H], embed);
    hidden = g.op1('Gather', '/model/embed_tokens/Gather', ['model.embed_tokens.weight', 'input_ids']);
  }

  // Rotary tables from position_ids: freqs = pos ⊗ inv_freq; emb = [freqs, freqs].
  const posF = g.op1('Cast', '/model/rotary_emb/Cast', ['position_ids'], { to: DataType.FLOAT });
  const posU = g.op1('Unsqueeze', '/model/rotary_emb/Unsqueeze', [posF, g.i64([2])]);
  const invF = g.f32(invFreq(cfg), [1, half], 'model.rotary_emb.inv_freq');
  const freqs = g.op1('MatMul', '/model/rotary_emb/MatMul', [posU, invF]);
  const emb = g.op1('Concat', '/model/rotary_emb/Concat', [freqs, freqs], { axis: -1 });
  const cos = g.op1('Unsqueeze', '/model/rotary_emb/Unsqueeze_1', [g.op1('Cos', '/model/rotary_emb/Cos', [emb]), g.i64([1])]);
  const sin = g.op1('Unsqueeze', '/model/rotary_emb/Unsqueeze_2', [g.op1('Sin', '/model/rotary_emb/Sin', [emb]), g.i64([1])]);

  // Additive mask [batch, 1, seq, total]: key k visible from query q iff k <= past + q and mask[k] == 1.
  const one = g.i64([1], []);
  const zero = g.i64([0], []);
  const seqLen = g.op1('Gather', '/model/mask/Gather', [g.op1('Shape', '/model/mask/Shape', ['input_ids']), one], { axis: 0 });
  const totLen = g.op1('Gather', '/model/mask/Gather_1', [g.op1('Shape', '/model/mask/Shape_1', ['attention_mask']), one], {
    axis: 0,
  });
  const pastLen = g.op1('Sub', '/model/mask/Sub', [totLen, seqLen]);
  const qPos = g.op1('Add', '/model/mask/Add', [g.op1('Range', '/model/mask/Range', [zero, seqLen, one]), pastLen]);
  const kPos = g.op1('Range', '/model/mask/Range_1', [zero, totLen, one]);
  const causal = g.op1('LessOrEqual', '/model/mask/LessOrEqual', [
    g.op1('Unsqueeze', '/model/mask/Unsqueeze', [kPos, g.i64([0])]),
    g.op1('Unsqueeze', '/model/mask/Unsqueeze_1', [qPos, g.i64([1])]),
  ]);
  const pad = g.op1('Unsqueeze', '/model/mask/Unsqueeze_2', [g.op1('Cast', '/model/mask/Cast', ['attention_mask'], { to: DataType.BOOL }), g.i64([1, 2])]);
  const allowed = g.op1('And', '/model/mask/And', [causal, pad]);
  const mask = g.op1('Where', '/model/mask/Where', [allowed, g.f32([0], []), g.f32([-1e9], [])]);

  const scale = g.f32([1 / Math.sqrt(HD)], []);
  const lin = (i: number, which: LinearName, group: string, x: string): string => {
    const [k, n] = linearShape(cfg, which);
    return g.linear(`/model/layers.${i}/${group}/${which}/MatMul`, x, `model.layers.${i}.${group}.${which}.weight`, W.linear(cfg, i, which), k, n);
  };

  for (let i = 0; i < L; i++) {
    const p = `/model/layers.${i}`;
    const a = `${p}/self_attn`;
    const xn = rmsNorm(g, `${p}/input_layernorm`, hidden, `model.layers.${i}.input_layernorm.weight`, W.norm(cfg, i, 'input_layernorm'), cfg.rmsNormEps);

    const heads = (proj: string, n: number, tag: string): string => {
      const r = g.op1('Reshape', `${a}/Reshape${tag}`, [proj, g.i64([0, 0, n, HD])]);
      return g.op1('Transpose', `${a}/Transpose${tag}`, [r], { perm: [0, 2, 1, 3] });
    };
    const q = heads(lin(i, 'q_proj', 'self_attn', xn), NH, '');
    const k = heads(lin(i, 'k_proj', 'self_attn', xn), KVH, '_1');
    const v = heads(lin(i, 'v_proj', 'self_attn', xn), KVH, '_2');

    const rope = (x: string, tag: string): string => {
      const x1 = g.op1('Slice', `${a}/Slice${tag}`, [x, g.i64([0]), g.i64([half]), g.i64([3])]);
      const x2 = g.op1('Slice', `${a}/Slice${tag}_1`, [x, g.i64([half]), g.i64([HD]), g.i64([3])]);
      const rot = g.op1('Concat', `${a}/Concat${tag}`, [g.op1('Neg', `${a}/Neg${tag}`, [x2]), x1], { axis: -1 });
      const xc = g.op1('Mul', `${a}/Mul${tag}`, [x, cos]);
      const xs = g.op1('Mul', `${a}/Mul${tag}_1`, [rot, sin]);
      return g.op1('Add', `${a}/Add${tag}`, [xc, xs]);
    };
    const qr = rope(q, '_q');
    const kr = rope(k, '_k');

    const presentK = g.op('Concat', `${a}/Concat_past_key`, [`past_key_values.${i}.key`, kr], { axis: 2 }, { outputs: [`present.${i}.key`] })[0];
    const presentV = g.op('Concat', `${a}/Concat_past_value`, [`past_key_values.${i}.value`, v], { axis: 2 }, { outputs: [`present.${i}.value`] })[0];

    // GQA: repeat each kv head nRep times (head h reads kv head floor(h / nRep)).
    const repeat = (x: string, tag: string): string => {
      if (nRep === 1) return x;
      const u = g.op1('Unsqueeze', `${a}/Unsqueeze${tag}`, [x, g.i64([2])]);
      const c = g.op1('Concat', `${a}/Concat${tag}`, Array<string>(nRep).fill(u), { axis: 2 });
      return g.op1('Reshape', `${a}/Reshape${tag}`, [c, g.i64([0, NH, -1, HD])]);
    };
    const kRep = repeat(presentK, '_repeat_k');
    const vRep = repeat(presentV, '_repeat_v');

    const kT = g.op1('Transpose', `${a}/Transpose_3`, [kRep], { perm: [0, 1, 3, 2] });
    const scores = g.op1('MatMul', `${a}/MatMul`, [qr, kT]);
    const scaled = g.op1('Mul', `${a}/Mul_scale`, [scores, scale]);
    const masked = g.op1('Add', `${a}/Add_mask`, [scaled, mask]);
    const probs = g.op1('Softmax', `${a}/Softmax`, [masked], { axis: -1 });
    const ctx = g.op1('MatMul', `${a}/MatMul_1`, [probs, vRep]);
    const ctxT = g.op1('Transpose', `${a}/Transpose_4`, [ctx], { perm: [0, 2, 1, 3] });
    const ctxR = g.op1('Reshape', `${a}/Reshape_3`, [ctxT, g.i64([0, 0, NH * HD])]);
    const attnOut = lin(i, 'o_proj', 'self_attn', ctxR);

    const resid1 = g.op1('Add', `${p}/Add`, [hidden, attnOut]);

    const xn2 = rmsNorm(
      g,
      `${p}/post_attention_layernorm`,
      resid1,
      `model.layers.${i}.post_attention_layernorm.weight`,
      W.norm(cfg, i, 'post_attention_layernorm'),
      cfg.rmsNormEps,
    );
    const gate = lin(i, 'gate_proj', 'mlp', xn2);
    const sig = g.op1('Sigmoid', `${p}/mlp/act_fn/Sigmoid`, [gate]);
    const act = g.op1('Mul', `${p}/mlp/act_fn/Mul`, [gate, sig]);
    const up = lin(i, 'up_proj', 'mlp', xn2);
    const prod = g.op1('Mul', `${p}/mlp/Mul`, [act, up]);
    const down = lin(i, 'down_proj', 'mlp', prod);
    hidden = g.op1('Add', `${p}/Add_1`, [resid1, down]);
  }

  const final = rmsNorm(g, '/model/norm', hidden, 'model.norm.weight', W.norm(cfg, L, 'norm'), cfg.rmsNormEps);
  const lmHead = W.lmHead ? W.lmHead(cfg) : transpose(embed, V, H);
  g.linear('/lm_head/MatMul', final, 'lm_head.weight', lmHead, H, V);
  // The linear's output is `/lm_head/MatMul_output_0`; expose it as `logits`.
  const last = g.nodes[g.nodes.length - 1];
  last.output = ['logits'];
  return g.model('main_graph', OPTIMUM_OPSET);
}
