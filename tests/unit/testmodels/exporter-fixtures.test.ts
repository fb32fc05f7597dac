/**
 * The exporter fixtures (torch dynamo, gemma-3 build script, q4f16 slimmed, GatherBlockQuantized
 * embedding): each has the structure and naming of its exporter, runs in onnxruntime-node, and
 * computes what its plain counterpart computes. (Cut ≡ uncut and steering on each of them:
 * tests/unit/engine/surgery/split.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { valueInfo } from '../../../src/engine/onnx/build';
import { DataType, decodeModel, encodeModel, toNum, type Model } from '../../../src/engine/onnx/proto';
import { halfToFloat } from '../../../src/engine/runtime/f16';
import { dequantizeQ4, GraphBuilder, quantizeQ4, TINY_CONFIG as C, toHalfBits } from '../../../src/testmodels';
import { normalArray, transpose } from '../../../src/testmodels/weights';
import { ensureTestModels } from '../../../src/testmodels/write-hub-folder';

let dir: Record<string, string>;
const file = (id: string, f: string): string => join(dir[id], 'onnx', f);
const load = (id: string, f: string): Model => decodeModel(readFileSync(file(id, f)));
const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

async function run(id: string, f: string, ids: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file(id, f));
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames) {
    if (name === 'input_ids') feeds[name] = i64(ids, [1, ids.length]);
    else if (name === 'attention_mask') feeds[name] = i64(Array<number>(ids.length).fill(1), [1, ids.length]);
    else if (name === 'position_ids')
      feeds[name] = i64(
        ids.map((_, i) => i),
        [1, ids.length],
      );
    else {
      const f16 = load(id, f).graph.input.find((i) => i.name === name)!.type!.tensorType!.elemType === DataType.FLOAT16;
      feeds[name] = f16
        ? new ort.Tensor('float16', new Uint16Array(0), [1, C.numKvHeads, 0, C.headDim])
        : new ort.Tensor('float32', new Float32Array(0), [1, C.numKvHeads, 0, C.headDim]);
    }
  }
  const out = await s.run(feeds);
  await s.release();
  expect(out.logits.type).toBe('float32');
  return out.logits.data as Float32Array;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const PROMPT = [40, 60, 80, 100, 120, 7, 9];
const opsOf = (m: Model) => new Set(m.graph.node.map((n) => `${n.domain || ''}:${n.opType}`));

beforeAll(async () => {
  dir = (await ensureTestModels('.models')).folders;
});

describe('torch dynamo fixture', () => {
  it('has dynamo naming: node_{Op}_{n}, module paths only in metadata, module-tree initializers, opset 18', () => {
    const m = load('traitlab/tiny-llama-dynamo', 'model.onnx');
    expect(m.opsetImport.find((o) => !o.domain)?.version).toBe(18);
    for (const n of m.graph.node) {
      expect(n.name).toMatch(/^node_[A-Za-z]+_\d+$/);
      expect(n.metadataProps?.find((p) => p.key === 'pkg.torch.onnx.name_scopes')?.value).toMatch(/^\['', /);
    }
    expect(m.graph.node.some((n) => n.metadataProps?.some((p) => p.value.includes("'model.layers.1.mlp'")))).toBe(true);
    expect(m.graph.node.some((n) => n.output.some((o) => o.startsWith('/model/')))).toBe(false);
    const inits = new Set(m.graph.initializer.map((t) => t.name));
    expect(inits.has('model.layers.2.input_layernorm.weight')).toBe(true);
    expect(inits.has('lm_head.weight')).toBe(false); // tied: Transpose of the embedding table
  });

  it('computes exactly what the Optimum export computes (fp32 and q4)', async () => {
    for (const f of ['model.onnx', 'model_q4.onnx']) {
      const a = await run('traitlab/tiny-llama-dynamo', f, PROMPT);
      const b = await run('traitlab/tiny-llama', f, PROMPT);
      expect(relErr(a, b), f).toBeLessThan(1e-6);
    }
  });
});

describe('gemma-3 build-script fixture', () => {
  it('has the hub file structure: GQA do_rotary=0 + RotaryEmbedding, plain SimplifiedLayerNormalization, Add_1 mid / Add_2 end', () => {
    const m = load('traitlab/tiny-gemma3', 'model.onnx');
    const ops = opsOf(m);
    for (const op of ['com.microsoft:GroupQueryAttention', 'com.microsoft:RotaryEmbedding', ':SimplifiedLayerNormalization'])
      expect(ops.has(op), op).toBe(true);
    expect([...ops].some((o) => o.includes('Skip'))).toBe(false);
    for (const n of m.graph.node.filter((x) => x.opType === 'GroupQueryAttention')) {
      expect(toNum(n.attribute.find((a) => a.name === 'do_rotary')?.i)).toBe(0);
    }
    const byName = new Map(m.graph.node.map((n) => [n.name, n]));
    for (let i = 0; i < C.numLayers; i++) {
      // Add_1 = residual + post_attention_layernorm(attn); Add_2 = Add_1 + post_feedforward_layernorm(mlp)
      const mid = byName.get(`/model/layers.${i}/Add_1`)!;
      const end = byName.get(`/model/layers.${i}/Add_2`)!;
      expect(mid.output[0]).toBe(`/model/layers.${i}/Add_1/output_0`);
      expect(mid.input[1]).toContain('post_attention_layernorm');
      expect(end.input).toEqual([mid.output[0], `/model/layers.${i}/post_feedforward_layernorm/SimplifiedLayerNormalization/output_0`]);
      expect(byName.get(`/model/layers.${i}/Add`)!.input[0]).toBe('/model/ReduceSum/output_0'); // not a residual add
    }
    expect(byName.get('/model/embed_tokens/Mul')!.input[0]).toBe('/model/embed_tokens/Gather/output_0');
    expect(byName.get('/lm_head/Transpose')!.input).toEqual(['model.embed_tokens.weight']);
    expect(m.graph.initializer.every((t) => t.dataLocation === 1 || t.dims.length <= 1 || t.name.startsWith('const'))).toBe(true);
  });

  it('decoding with the KV cache equals recomputation (rotary positions and the GQA cache wired right)', async () => {
    const s = await ort.InferenceSession.create(file('traitlab/tiny-gemma3', 'model.onnx'));
    const lastRow = (t: ort.Tensor) => (t.data as Float32Array).slice((t.dims[1] - 1) * t.dims[2], t.dims[1] * t.dims[2]);
    const feeds = (ids: number[], start: number, past?: Record<string, ort.Tensor>) => {
      const f: Record<string, ort.Tensor> = {
        input_ids: i64(ids, [1, ids.length]),
        attention_mask: i64(Array<number>(start + ids.length).fill(1), [1, start + ids.length]),
        position_ids: i64(
          ids.map((_, i) => start + i),
          [1, ids.length],
        ),
      };
      for (let l = 0; l < C.numLayers; l++)
        for (const kv of ['key', 'value'])
          f[`past_key_values.${l}.${kv}`] = past?.[`present.${l}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, C.numKvHeads, 0, C.headDim]);
      return f;
    };
    const seq = [...PROMPT, 11, 200, 33, 150, 64, 90];
    let out = await s.run(feeds(seq.slice(0, PROMPT.length), 0));
    for (let k = PROMPT.length; k < seq.length; k++) {
      out = await s.run(feeds([seq[k]], k, out));
      const fresh = await s.run(feeds(seq.slice(0, k + 1), 0));
      const a = lastRow(out.logits);
      const b = lastRow(fresh.logits);
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]))), `step ${k}`).toBeLessThan(1e-3);
    }
    // the logits depend on the context: every position's next-token distribution differs
    const all = (await s.run(feeds(seq, 0))).logits;
    const V = all.dims[2];
    const rows = seq.map((_, p) => Array.from((all.data as Float32Array).subarray(p * V, (p + 1) * V)));
    for (let p = 1; p < rows.length; p++) expect(relErr(Float32Array.from(rows[p]), Float32Array.from(rows[p - 1]))).toBeGreaterThan(1e-2);
  });

  it('q4 and q4f16 (with Clips after every Add_1) track fp32', async () => {
    const fp32 = await run('traitlab/tiny-gemma3', 'model.onnx', PROMPT);
    expect(relErr(await run('traitlab/tiny-gemma3', 'model_q4.onnx', PROMPT), fp32)).toBeLessThan(0.5);
    const h = load('traitlab/tiny-gemma3', 'model_q4f16.onnx');
    expect(h.graph.node.filter((n) => n.opType === 'Clip')).toHaveLength(C.numLayers);
    const q4 = await run('traitlab/tiny-gemma3', 'model_q4.onnx', PROMPT);
    expect(relErr(await run('traitlab/tiny-gemma3', 'model_q4f16.onnx', PROMPT), q4)).toBeLessThan(0.02);
  });
});

describe('q4f16 slimmed fixture', () => {
  it('is float16 with float32 logits, Casts around the blocked ops, and generic names', () => {
    const m = load('traitlab/tiny-llama-q4f16', 'model_q4f16.onnx');
    expect(m.graph.initializer.some((t) => t.dataType === DataType.FLOAT)).toBe(false);
    expect(m.graph.initializer.some((t) => t.dataType === DataType.FLOAT16)).toBe(true);
    expect(m.graph.output.find((o) => o.name === 'logits')!.type!.tensorType!.elemType).toBe(DataType.FLOAT);
    expect(m.graph.input.find((o) => o.name === 'past_key_values.0.key')!.type!.tensorType!.elemType).toBe(DataType.FLOAT16);
    const pows = m.graph.node.filter((n) => n.opType === 'Pow');
    expect(pows.length).toBe(2 * C.numLayers + 1);
    const producer = new Map(m.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    for (const p of pows) expect(producer.get(p.input[0])?.opType).toBe('Cast');
    expect(m.graph.node.some((n) => n.name.startsWith('/model/'))).toBe(false);
    expect(m.graph.node.every((n) => /^[A-Za-z]+(_\d+)?$/.test(n.name))).toBe(true);
  });

  it('tracks the q4 model it was converted from', async () => {
    const a = await run('traitlab/tiny-llama-q4f16', 'model_q4f16.onnx', PROMPT);
    expect(relErr(a, await run('traitlab/tiny-llama', 'model_q4.onnx', PROMPT))).toBeLessThan(0.02);
  });

  it('float16 rounding is round-to-nearest-even', () => {
    for (const x of [0, 1, -2.5, 65504, 1e-5, 3.14159, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 6e-8]) {
      const back = halfToFloat(toHalfBits(x));
      expect(Math.abs(back - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25);
    }
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });
});

describe('GatherBlockQuantized embedding fixture', () => {
  it('GatherBlockQuantized returns exactly the dequantized q4 rows (zero point 8, low nibble first)', async () => {
    const V = 10;
    const H = 64;
    const table = normalArray(7, V * H, 1);
    const g = new GraphBuilder('q4');
    g.inputs.push(valueInfo('input_ids', DataType.INT64, [1, 'n']));
    g.outputs.push(valueInfo('out', DataType.FLOAT, [1, 'n', H]));
    g.gatherQ4('gbq', 'emb', table, V, H, 'input_ids');
    g.nodes[0].output = ['out'];
    const s = await ort.InferenceSession.create(encodeModel(g.model('gbq', 17)));
    const out = (await s.run({ input_ids: i64([3, 7], [1, 2]) })).out.data as Float32Array;
    const deq = transpose(dequantizeQ4(quantizeQ4(transpose(table, V, H), H, V)), H, V); // [V, H]
    expect(Array.from(out)).toEqual([...deq.subarray(3 * H, 4 * H), ...deq.subarray(7 * H, 8 * H)]);
  });

  it('the q4 model with a quantized embedding tracks the one without', async () => {
    const m = load('traitlab/tiny-llama-gbq', 'model_q4.onnx');
    expect(opsOf(m).has('com.microsoft:GatherBlockQuantized')).toBe(true);
    expect(m.graph.node.some((n) => n.opType === 'Gather' && n.input[1] === 'input_ids')).toBe(false);
    const a = await run('traitlab/tiny-llama-gbq', 'model_q4.onnx', PROMPT);
    expect(relErr(a, await run('traitlab/tiny-llama', 'model_q4.onnx', PROMPT))).toBeLessThan(0.3);
  });
});
