/**
 * The generated test LLMs: deterministic bytes, runnable with onnxruntime-node, KV cache
 * consistent with recomputation, model-builder graph ≡ Optimum graph, q4 ≈ fp32, and a
 * tokenizer that @huggingface/transformers loads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { valueInfo } from '../../../src/engine/onnx/build';
import { DataType, decodeModel, encodeModel, toNum } from '../../../src/engine/onnx/proto';
import { buildVocab, dequantizeQ4, GraphBuilder, modelFolderFiles, quantizeQ4, TEST_MODELS, TINY_CONFIG as C } from '../../../src/testmodels';
import { ensureTestModels, type EnsureResult } from '../../../src/testmodels/write-hub-folder';
import { normalArray } from '../../../src/testmodels/weights';

const MODELS_DIR = '.models';
let res: EnsureResult;
const path = (id: string, file: string): string => join(res.folders[id], 'onnx', file);
const sessions = new Map<string, ort.InferenceSession>();
async function session(id: string, file: string): Promise<ort.InferenceSession> {
  const key = `${id}/${file}`;
  if (!sessions.has(key)) sessions.set(key, await ort.InferenceSession.create(path(id, file)));
  return sessions.get(key)!;
}

type Feeds = Record<string, ort.Tensor>;
const i64 = (v: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

/** Feeds for batch 1: `ids` are the new tokens, `past` the previous run's outputs (or none). */
function feeds(s: ort.InferenceSession, ids: number[], past?: Record<string, ort.Tensor>): Feeds {
  const pastLen = past ? past['present.0.key'].dims[2] : 0;
  const total = pastLen + ids.length;
  const f: Feeds = { input_ids: i64(ids, [1, ids.length]), attention_mask: i64(Array<number>(total).fill(1), [1, total]) };
  if (s.inputNames.includes('position_ids'))
    f.position_ids = i64(
      ids.map((_, i) => pastLen + i),
      [1, ids.length],
    );
  for (let i = 0; i < C.numLayers; i++) {
    for (const kv of ['key', 'value']) {
      f[`past_key_values.${i}.${kv}`] = past?.[`present.${i}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, C.numKvHeads, 0, C.headDim]);
    }
  }
  return f;
}

function logitsAt(t: ort.Tensor, pos: number): Float32Array {
  const V = t.dims[2];
  return (t.data as Float32Array).subarray(pos * V, (pos + 1) * V);
}
function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function greedyCached(s: ort.InferenceSession, prompt: number[], n: number): Promise<number[]> {
  let out = await s.run(feeds(s, prompt));
  const toks: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = argmax(logitsAt(out.logits, out.logits.dims[1] - 1));
    toks.push(t);
    out = await s.run(feeds(s, [t], out));
  }
  return toks;
}
async function greedyNoCache(s: ort.InferenceSession, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  const toks: number[] = [];
  for (let k = 0; k < n; k++) {
    const out = await s.run(feeds(s, ids));
    const t = argmax(logitsAt(out.logits, ids.length - 1));
    toks.push(t);
    ids.push(t);
  }
  return toks;
}

const PROMPT = [40, 60, 80, 100, 120];
const LONG = Array.from({ length: 64 }, (_, i) => 3 + ((i * 37 + 11) % (C.vocabSize - 3)));
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  res = await ensureTestModels(MODELS_DIR);
});

describe('test model generator', () => {
  it('is deterministic and matches the files on disk', () => {
    for (const [id, spec] of Object.entries(TEST_MODELS)) {
      const a = modelFolderFiles(spec);
      const b = modelFolderFiles(spec);
      expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
      for (const [rel, bytes] of Object.entries(a)) {
        expect(sha(bytes), `${id}/${rel}`).toBe(sha(b[rel]));
        expect(sha(bytes), `${id}/${rel} on disk`).toBe(sha(readFileSync(join(res.folders[id], rel))));
      }
    }
  });

  it('skips folders that are already up to date', async () => {
    expect((await ensureTestModels(MODELS_DIR)).written).toEqual([]);
  });

  it('pads the tokenizer vocab for big-vocab (bench) configs', () => {
    const vocab = buildVocab(49152);
    const ids = Object.values(vocab);
    expect(ids.length).toBe(49152);
    expect(new Set(ids).size).toBe(49152);
    expect(Math.max(...ids)).toBe(49151);
    expect(buildVocab()).toEqual(Object.fromEntries(Object.entries(vocab).filter(([, id]) => id < C.vocabSize)));
  });

  it('writes the expected hub layout and config', () => {
    const files = Object.keys(modelFolderFiles(TEST_MODELS['traitlab/tiny-llama-mb'])).sort();
    expect(files).toEqual(
      [
        'config.json',
        'generation_config.json',
        'onnx/model.onnx',
        'onnx/model.onnx_data',
        'onnx/model_q4.onnx',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    const cfg = JSON.parse(readFileSync(join(res.folders['traitlab/tiny-llama-mb'], 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 64, num_hidden_layers: 4 });
    expect(cfg.vocab_size).toBe(C.vocabSize);
    expect(cfg['transformers.js_config']).toEqual({ use_external_data_format: { 'model.onnx': true } });
    const plain = JSON.parse(readFileSync(join(res.folders['traitlab/tiny-llama'], 'config.json'), 'utf8'));
    expect(plain['transformers.js_config']).toBeUndefined();
  });

  it('puts the model-builder fp32 weights in aligned external data', () => {
    const model = decodeModel(readFileSync(path('traitlab/tiny-llama-mb', 'model.onnx')));
    const ext = model.graph.initializer.filter((t) => t.dataLocation === 1);
    expect(ext.length).toBeGreaterThan(C.numLayers * 9);
    const dataSize = readFileSync(path('traitlab/tiny-llama-mb', 'model.onnx_data')).length;
    for (const t of ext) {
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      expect(kv.location).toBe('model.onnx_data');
      expect(Number(kv.offset) % 64).toBe(0);
      expect(Number(kv.offset) + Number(kv.length)).toBeLessThanOrEqual(dataSize);
      expect(t.rawData?.length ?? 0).toBe(0);
    }
    const ops = new Set(model.graph.node.map((n) => `${n.domain || ''}:${n.opType}`));
    for (const op of [':SimplifiedLayerNormalization', 'com.microsoft:SkipSimplifiedLayerNormalization', 'com.microsoft:GroupQueryAttention']) {
      expect(ops.has(op), op).toBe(true);
    }
    const names = new Set(model.graph.node.map((n) => n.name));
    expect(names.has('/model/layers.0/input_layernorm/LayerNorm')).toBe(true);
    expect(names.has('/model/layers.1/input_layernorm/SkipLayerNorm')).toBe(true);
    expect(names.has(`/model/layers.${C.numLayers}/final_norm_layernorm/SkipLayerNorm`)).toBe(true);
  });

  it('MatMulNBits dequantizes as (q - 8) * scale with the low nibble first', async () => {
    const K = 64;
    const N = 40;
    const w = normalArray(7, K * N, 0.3);
    const g = new GraphBuilder('q4');
    g.inputs.push(valueInfo('x', DataType.FLOAT, [1, K]));
    g.outputs.push(valueInfo('y', DataType.FLOAT, [1, N]));
    g.linear('mm', 'x', 'w', w, K, N);
    g.nodes[0].output = ['y'];
    const s = await ort.InferenceSession.create(encodeModel(g.model('q4check', 17)));
    const x = normalArray(9, K, 1);
    const y = (await s.run({ x: new ort.Tensor('float32', x, [1, K]) })).y.data as Float32Array;
    const dq = dequantizeQ4(quantizeQ4(w, K, N));
    const ref = new Float32Array(N);
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) ref[j] += x[k] * dq[k * N + j];
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
  });

  it('fp32 Optimum model: cached greedy decoding equals recomputation, and is not constant', async () => {
    const s = await session('traitlab/tiny-llama', 'model.onnx');
    expect(s.inputNames).toContain('position_ids');
    expect(s.outputNames).toEqual(['logits', ...Array.from({ length: C.numLayers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat()]);
    const cached = await greedyCached(s, PROMPT, 12);
    const fresh = await greedyNoCache(s, PROMPT, 12);
    expect(cached).toEqual(fresh);
    expect(new Set(cached).size).toBeGreaterThan(1);
    const out = await s.run(feeds(s, LONG));
    const argmaxes = new Set(LONG.map((_, p) => argmax(logitsAt(out.logits, p))));
    expect(argmaxes.size).toBeGreaterThan(10);
  });

  it('residual stream is exposed as /model/layers.{i}/Add_1_output_0 and grows', async () => {
    const model = decodeModel(readFileSync(path('traitlab/tiny-llama', 'model.onnx')));
    const nodes = new Map(model.graph.node.map((n) => [n.name, n]));
    const extra = ['/model/embed_tokens/Gather_output_0'];
    for (let i = 0; i < C.numLayers; i++) {
      expect(nodes.get(`/model/layers.${i}/Add`)?.output).toEqual([`/model/layers.${i}/Add_output_0`]);
      expect(nodes.get(`/model/layers.${i}/Add_1`)?.output).toEqual([`/model/layers.${i}/Add_1_output_0`]);
      extra.push(`/model/layers.${i}/Add_1_output_0`);
    }
    for (const name of extra) model.graph.output.push(valueInfo(name, DataType.FLOAT));
    const s = await ort.InferenceSession.create(encodeModel(model));
    const out = await s.run(feeds(s, LONG));
    const norms = extra.map((name) => {
      const d = out[name].data as Float32Array;
      let ss = 0;
      for (const v of d) ss += v * v;
      return Math.sqrt(ss / LONG.length);
    });
    for (let i = 1; i < norms.length; i++) expect(norms[i]).toBeGreaterThan(norms[i - 1]);
    expect(norms[norms.length - 1]).toBeGreaterThan(3 * norms[0]);
  });

  it('model-builder graph (external data) matches the Optimum graph', async () => {
    for (const file of ['model.onnx', 'model_q4.onnx']) {
      const opt = await session('traitlab/tiny-llama', file);
      const mb = await session('traitlab/tiny-llama-mb', file);
      expect(mb.inputNames).not.toContain('position_ids');
      const a = await opt.run(feeds(opt, PROMPT));
      const b = await mb.run(feeds(mb, PROMPT));
      expect(maxAbsDiff(a.logits.data as Float32Array, b.logits.data as Float32Array), `${file} prefill`).toBeLessThan(2e-3);
      for (const k of ['present.0.key', `present.${C.numLayers - 1}.value`]) {
        expect(maxAbsDiff(a[k].data as Float32Array, b[k].data as Float32Array), k).toBeLessThan(1e-3);
      }
      const next = argmax(logitsAt(a.logits, PROMPT.length - 1));
      const a2 = await opt.run(feeds(opt, [next], a));
      const b2 = await mb.run(feeds(mb, [next], b));
      expect(maxAbsDiff(a2.logits.data as Float32Array, b2.logits.data as Float32Array), `${file} decode`).toBeLessThan(2e-3);
      expect(await greedyCached(mb, PROMPT, 12)).toEqual(await greedyCached(opt, PROMPT, 12));
    }
  });

  it('q4 tracks fp32 within quantization error', async () => {
    const f = await session('traitlab/tiny-llama', 'model.onnx');
    const q = await session('traitlab/tiny-llama', 'model_q4.onnx');
    const a = (await f.run(feeds(f, LONG))).logits;
    const b = (await q.run(feeds(q, LONG))).logits;
    const da = a.data as Float32Array;
    const db = b.data as Float32Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < da.length; i++) {
      num += (da[i] - db[i]) ** 2;
      den += da[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(0.5);
    let agree = 0;
    for (let p = 0; p < LONG.length; p++) if (argmax(logitsAt(a, p)) === argmax(logitsAt(b, p))) agree++;
    expect(agree / LONG.length).toBeGreaterThan(0.4);
  });

  it('tokenizer loads in @huggingface/transformers, round-trips and applies the chat template', async () => {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = resolve(MODELS_DIR) + '/';
    const tok = await AutoTokenizer.from_pretrained('traitlab/tiny-llama');
    const text = 'Hello, world! ünïcode';
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThan(5);
    expect(Math.max(...ids)).toBeLessThan(C.vocabSize);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode(' the')).toEqual([buildVocab()['Ġthe']]);
    const chat = tok.apply_chat_template([{ role: 'user', content: 'hi' }], { add_generation_prompt: true, tokenize: false });
    expect(chat).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    const chatIds = tok.encode(chat as string);
    expect(chatIds[0]).toBe(1);
    expect(chatIds).toContain(2);
    expect(tok.decode(chatIds, { skip_special_tokens: true })).toBe('user\nhi\nassistant\n');
    expect(toNum(tok.eos_token_id as number)).toBe(2);
  });
});
