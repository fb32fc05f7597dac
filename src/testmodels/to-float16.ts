/**
 * q4f16 files as transformers.js makes them: the q4 model, then float16 conversion in the manner
 * of onnxconverter-common's `convert_float_to_float16(keep_io_types=True, op_block_list=…)`, then
 * onnxslim. What that does to a graph, reproduced here:
 *
 * - every float initializer and activation becomes float16 (values clamped to ±1e4, the
 *   converter's max_finite_val; Cast(to=float) nodes now cast to float16);
 * - ops in the block list stay float32, with `{node}_input_cast_{k}` Casts (float16 → float32)
 *   before and Casts back after them — Casts around ops;
 * - logits keep their float32 type (a `graph_output_cast_0` Cast); the KV cache is float16
 *   (transformers.js_config kv_cache_dtype float16, what the engine feeds for q4f16);
 * - onnxslim: node and intermediate tensor names are replaced by generic ones
 *   (`Add_12`, `Add_12_output_0`); graph inputs, outputs and initializer names survive;
 * - optional Clips after chosen nodes (the gemma-3 re-upload clamps every `/model/layers.N/Add_1`
 *   to ±32752 against float16 overflow, ORT issue #26732).
 */
import { node } from '../engine/onnx/build';
import { DataType, type Model, type Node, type Tensor } from '../engine/onnx/proto';
import { indexGraph, inferElemType } from '../engine/surgery/graph-index';

export interface Float16Options {
  /** op types computed in float32 between Casts */
  blockOps?: string[];
  /** original node names whose output gets a Clip(±clipLimit) */
  clipAfter?: (nodeName: string) => boolean;
  clipLimit?: number;
  /** rename nodes and intermediate tensors like onnxslim (default true) */
  slim?: boolean;
}

const MAX_FINITE = 1e4;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → float16 bits, round to nearest even (finite inputs). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

function halfTensor(t: Tensor): Tensor {
  const src = t.rawData
    ? new Float32Array(t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength))
    : Float32Array.from(t.floatData ?? []);
  const half = Uint16Array.from(src, (v) => toHalfBits(Math.max(-MAX_FINITE, Math.min(MAX_FINITE, v))));
  return { name: t.name, dims: t.dims, dataType: DataType.FLOAT16, rawData: new Uint8Array(half.buffer) };
}

export function toFloat16(model: Model, opts: Float16Options = {}): Model {
  const g = model.graph;
  if (g.initializer.some((t) => t.dataLocation === 1)) throw new Error('toFloat16: external data is not supported (build the model inline)');
  const idx = indexGraph(g);
  const memo = new Map<string, number | undefined>();
  const isFloat = (name: string) => name !== '' && inferElemType(g, idx, name, memo) === DataType.FLOAT;
  const blocked = new Set(opts.blockOps ?? []);
  const floats = new Set<string>();
  for (const n of g.node) for (const x of [...n.input, ...n.output]) if (isFloat(x)) floats.add(x);
  /** element type each float tensor has after conversion */
  const typeOf = new Map<string, number>();
  for (const x of floats) typeOf.set(x, DataType.FLOAT16);
  for (const n of g.node) if (blocked.has(n.opType)) for (const o of n.output) if (floats.has(o)) typeOf.set(o, DataType.FLOAT);

  g.initializer = g.initializer.map((t) => (t.dataType === DataType.FLOAT ? halfTensor(t) : t));
  for (const v of [...g.input, ...g.output]) {
    if (v.type?.tensorType?.elemType === DataType.FLOAT && v.name !== 'logits') v.type.tensorType.elemType = DataType.FLOAT16;
  }
  const out: Node[] = [];
  const casts = new Map<string, string>();
  for (const n of g.node) {
    const want = blocked.has(n.opType) ? DataType.FLOAT : DataType.FLOAT16;
    if (n.opType === 'Cast') {
      const to = n.attribute.find((a) => a.name === 'to');
      if (to && Number(to.i) === DataType.FLOAT && !blocked.has('Cast')) to.i = DataType.FLOAT16;
    } else {
      n.input = n.input.map((x, k) => {
        if (!floats.has(x) || typeOf.get(x) === want) return x;
        const key = `${x}->${want}`;
        if (!casts.has(key)) {
          const name = `${n.name}_input_cast_${k}`;
          out.push(node('Cast', name, [x], [name], { to: want }));
          casts.set(key, name);
        }
        return casts.get(key)!;
      });
    }
    out.push(n);
  }
  // logits stay float32
  const head = out.find((n) => n.output.includes('logits'));
  if (head && typeOf.get('logits') !== DataType.FLOAT) {
    head.output = head.output.map((o) => (o === 'logits' ? 'graph_output_cast_0' : o));
    out.push(node('Cast', 'graph_output_cast0', ['graph_output_cast_0'], ['logits'], { to: DataType.FLOAT }));
  }
  g.node = out;
  if (opts.clipAfter) {
    const limit = opts.clipLimit ?? 32752;
    const lo = '/traitlab_fixture/clip_min';
    const hi = '/traitlab_fixture/clip_max';
    const scalar = (name: string, v: number): Tensor => ({
      name,
      dims: [],
      dataType: DataType.FLOAT16,
      rawData: new Uint8Array(Uint16Array.of(toHalfBits(v)).buffer),
    });
    g.initializer.push(scalar(lo, -limit), scalar(hi, limit));
    const withClips: Node[] = [];
    for (const n of g.node) {
      withClips.push(n);
      if (!opts.clipAfter(n.name)) continue;
      const raw = `${n.output[0]}_unclipped`;
      for (const m of g.node) m.input = m.input.map((x) => (x === n.output[0] ? raw : x));
      const clipped = n.output[0];
      n.output[0] = raw;
      withClips.push(node('Clip', `${n.name}/Clip`, [raw, lo, hi], [clipped]));
    }
    g.node = withClips;
  }
  if (opts.slim ?? true) slimNames(model);
  return model;
}

/** onnxslim-style renaming: generic node names, tensors named after their (new) producer. */
function slimNames(model: Model): void {
  const g = model.graph;
  const keep = new Set([...g.input.map((v) => v.name), ...g.output.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const rename = new Map<string, string>();
  const count = new Map<string, number>();
  for (const n of g.node) {
    const k = count.get(n.opType) ?? 0;
    count.set(n.opType, k + 1);
    n.name = k === 0 ? n.opType : `${n.opType}_${k}`;
    n.output.forEach((o, j) => {
      if (o && !keep.has(o)) rename.set(o, `${n.name}_output_${j}`);
    });
  }
  for (const n of g.node) {
    n.input = n.input.map((x) => rename.get(x) ?? x);
    n.output = n.output.map((x) => rename.get(x) ?? x);
  }
}
