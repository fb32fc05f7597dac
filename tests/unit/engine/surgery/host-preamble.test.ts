/**
 * The host preamble (surgery/host-preamble.ts): the int64 mask/position arithmetic leaves the
 * WebGPU graph for a graph of its own. On every generated exporter fixture: the preamble run on
 * onnxruntime-node followed by the main graph(s) gives the file's logits, for a prefill and for
 * a decode step through the KV cache, uncut and cut; nothing integer is left in the main graph
 * that reads only host values; and the feeds go where ORT's WebGPU EP reads them (GPU data
 * operands as `/traitlab/host/*`, shape operands and GQA's total_sequence_length on the CPU).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, decodeModel, encodeModel, type Graph, type Model } from '../../../../src/engine/onnx/proto';
import { floatTensor, node, valueInfo } from '../../../../src/engine/onnx/build';
import { cutModel, type CutModel } from '../../../../src/engine/surgery';
import { HOST_PREFIX, splitHostPreamble } from '../../../../src/engine/surgery/host-preamble';
import { halfToFloat as fromHalf } from '../../../../src/engine/runtime/f16';

const MODELS = '.models/traitlab';
const FIXTURES: [string, string, number][] = [
  // name, file, float tolerance (relative to the largest logit)
  ['optimum fp32', 'tiny-llama/onnx/model.onnx', 1e-6],
  ['optimum q4', 'tiny-llama/onnx/model_q4.onnx', 1e-6],
  ['optimum q4f16 (slimmed names)', 'tiny-llama-q4f16/onnx/model_q4f16.onnx', 2e-3],
  ['optimum GatherBlockQuantized', 'tiny-llama-gbq/onnx/model_q4.onnx', 1e-6],
  ['model-builder q4 (GQA)', 'tiny-llama-mb/onnx/model_q4.onnx', 1e-6],
  ['torch-dynamo q4', 'tiny-llama-dynamo/onnx/model_q4.onnx', 1e-6],
  ['gemma-3 script q4 (GQA)', 'tiny-gemma3/onnx/model_q4.onnx', 1e-6],
];

type Feeds = Record<string, ort.Tensor>;
const i64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

function tokenFeeds(ids: number[], start: number): Feeds {
  const total = start + ids.length;
  return {
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(new Array(total).fill(1), [1, total]),
    position_ids: i64(
      ids.map((_, i) => start + i),
      [1, ids.length],
    ),
  };
}

function emptyPast(g: Graph): Feeds {
  const feeds: Feeds = {};
  for (const inp of g.input) {
    if (!inp.name.startsWith('past_key_values')) continue;
    const dims = inp.type!.tensorType!.shape!.dim.map((d) => (d.dimValue ? Number(d.dimValue) : 0));
    dims[0] = 1;
    const f16 = inp.type!.tensorType!.elemType === DataType.FLOAT16;
    feeds[inp.name] = f16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return feeds;
}

const pastFrom = (out: Record<string, ort.Tensor>): Feeds =>
  Object.fromEntries(Object.entries(out).flatMap(([k, v]) => (k.startsWith('present.') ? [[k.replace('present.', 'past_key_values.'), v]] : [])));

async function run(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const mine: Feeds = {};
    for (const name of s.inputNames) {
      if (!feeds[name]) throw new Error(`no feed for ${name}`);
      mine[name] = feeds[name];
    }
    return await s.run(mine);
  } finally {
    await s.release();
  }
}

/** The engine's order: the preamble, its outputs mapped to the feeds' names, then the parts (residuals and carried tensors passed on). */
async function runCut(cut: CutModel, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const host = cut.host!;
  const values = host.bytes ? await run(host.bytes, feeds) : {};
  const f: Feeds = { ...feeds };
  for (const feed of host.feeds) f[feed.name] = values[feed.source] ?? feeds[feed.source];
  const all: Record<string, ort.Tensor> = {};
  for (const part of cut.parts) {
    const out = await run(part.bytes, f);
    Object.assign(all, out);
    for (const name of part.carryOut ?? []) f[name] = out[name];
    if (part.residualOut) f[part.residualOut] = out[part.residualOut];
  }
  return all;
}

const floats = (t: ort.Tensor): Float32Array => (t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, fromHalf) : (t.data as Float32Array));

function expectClose(got: ort.Tensor, want: ort.Tensor, rtol: number): void {
  expect(got.dims).toEqual(want.dims);
  const a = floats(got);
  const b = floats(want);
  let scale = 0;
  for (const x of b) scale = Math.max(scale, Math.abs(x));
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  expect(diff).toBeLessThanOrEqual(rtol * scale);
}

const INT_OPS = new Set(['Range', 'LessOrEqual', 'Less', 'Greater', 'GreaterOrEqual', 'Equal', 'And', 'Or', 'Not', 'ReduceSum', 'CumSum']);

for (const [name, rel, rtol] of FIXTURES) {
  const path = join(MODELS, rel);
  describe.skipIf(!existsSync(path))(`host preamble: ${name}`, () => {
    const src = new Uint8Array(readFileSync(path));
    const ids = [3, 17, 5, 42, 8];

    for (const layers of [[], [1], [0, 2]]) {
      it(`cut at [${layers}]: preamble + parts give the file's logits, prefill and one decode step`, async () => {
        const cut = cutModel(src, layers, { hostPreamble: true });
        expect(cut.host).toBeDefined();
        // every host feed is read by some part, and no part reads a token input a feed replaced
        const inputs = new Set(cut.parts.flatMap((p) => decodeModel(p.bytes).graph.input.map((i) => i.name)));
        for (const p of cut.parts) expect(new Set(decodeModel(p.bytes).graph.input.map((i) => i.name))).toEqual(new Set(p.inputNames));
        for (const f of cut.host!.feeds) expect(inputs.has(f.name), `${f.name} is read`).toBe(true);
        for (const f of cut.host!.feeds) if (f.gpu && f.source === 'input_ids') expect(inputs.has('input_ids')).toBe(false);
        const g = decodeModel(src).graph;
        const ref1 = await run(src, { ...tokenFeeds(ids, 0), ...emptyPast(g) });
        const got1 = await runCut(cut, { ...tokenFeeds(ids, 0), ...emptyPast(g) });
        expectClose(got1.logits, ref1.logits, rtol);
        const ref2 = await run(src, { ...tokenFeeds([9], ids.length), ...pastFrom(ref1) });
        const got2 = await runCut(cut, { ...tokenFeeds([9], ids.length), ...pastFrom(got1) });
        expectClose(got2.logits, ref2.logits, rtol);
      });
    }

    it('the main graph keeps no integer arithmetic on host values; feeds go where WebGPU reads them', () => {
      const cut = cutModel(src, [1], { hostPreamble: true });
      const host = cut.host!;
      expect(host.bytes, 'something moved').not.toBeNull();
      const pre = decodeModel(host.bytes!).graph;
      expect(pre.input.map((i) => i.name).every((n) => ['input_ids', 'attention_mask', 'position_ids'].includes(n))).toBe(true);
      expect(
        pre.initializer.every((t) => t.dims.reduce<number>((a, d) => a * Number(d), 1) <= 4096),
        'no weights in the preamble',
      ).toBe(true);
      const byName = new Map(host.feeds.map((f) => [f.name, f]));
      // the embedding lookup reads its ids from a GPU feed
      const ids = byName.get(`${HOST_PREFIX}input_ids`);
      expect(ids?.gpu).toBe(true);
      for (const part of cut.parts) {
        const pg = decodeModel(part.bytes).graph;
        const hostNames = new Set(host.feeds.map((f) => f.name));
        for (const n of pg.node) {
          if (!INT_OPS.has(n.opType)) continue;
          expect(
            n.input.some((i) => hostNames.has(i)),
            `${n.opType} ${n.name} reads a host value in the main graph`,
          ).toBe(false);
        }
        for (const inp of part.inputNames) {
          if (inp.startsWith(HOST_PREFIX)) expect(byName.get(inp)?.gpu, inp).toBe(true);
        }
        for (const n of pg.node) {
          if (n.opType === 'GroupQueryAttention') {
            expect(byName.get(n.input[5])?.gpu, 'seqlens_k on the GPU').toBe(true);
            expect(byName.get(n.input[6])?.gpu, 'total_sequence_length on the CPU').toBe(false);
          }
        }
      }
      // GPU feeds are data the GPU reads: ids, bool masks, float positions, int32 seqlens
      for (const f of host.feeds) if (f.gpu) expect(f.name.startsWith(HOST_PREFIX)).toBe(true);
    });
  });
}

describe('host preamble: graphs it cannot plan are left as they are', () => {
  /** ids → embedding Gather (GPU), Shape(ids) (preamble) read by `reader` */
  function model(reader: 'plain' | 'subgraph'): Model {
    const branch = (name: string): Graph => ({
      name,
      node: [node('Identity', `${name}/id`, ['len'], [`${name}/out`])],
      initializer: [],
      input: [],
      output: [valueInfo(`${name}/out`, DataType.INT64, [2])],
      valueInfo: [],
    });
    const tail =
      reader === 'plain'
        ? [node('Reshape', 'reshape', ['emb', 'len'], ['y'])]
        : [
            node('Constant', 'cond', [], ['c'], { value: { name: 'c', dims: [], dataType: DataType.BOOL, rawData: new Uint8Array([1]) } }),
            {
              ...node('If', 'if', ['c'], ['shape']),
              attribute: [
                { name: 'then_branch', type: 5, g: branch('then') },
                { name: 'else_branch', type: 5, g: branch('else') },
              ],
            },
            node('Reshape', 'reshape', ['emb', 'shape'], ['y']),
          ];
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [node('Gather', 'embed', ['W', 'input_ids'], ['emb']), node('Shape', 'shape', ['input_ids'], ['len']), ...tail],
        initializer: [floatTensor('W', [8, 4], new Float32Array(32))],
        input: [valueInfo('input_ids', DataType.INT64, [1, 2])],
        output: [valueInfo('y', DataType.FLOAT, [2, 4])],
        valueInfo: [],
      },
    };
  }

  it('a plain reader: Shape moves out, the embedding reads its ids from a GPU feed, the shape stays a CPU input', () => {
    const m = model('plain');
    const plan = splitHostPreamble(m)!;
    expect(plan.feeds).toEqual([
      { name: `${HOST_PREFIX}input_ids`, source: 'input_ids', elemType: DataType.INT64, gpu: true },
      { name: 'len', source: 'len', elemType: DataType.INT64, gpu: false },
    ]);
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Gather', 'Reshape']);
    expect(plan.preamble!.graph.node.map((n) => n.opType)).toEqual(['Shape']);
  });

  it('a preamble value read inside a subgraph: no plan, the graph unchanged', () => {
    const m = model('subgraph');
    const before = encodeModel(m);
    expect(splitHostPreamble(m)).toBeNull();
    expect(encodeModel(m)).toEqual(before);
  });
});
