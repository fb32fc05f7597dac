/**
 * Shared plumbing for the two graph styles: a node list with ONNX-style output naming, small
 * constants, and weight initializers that are either inline (raw_data) or appended to an
 * external-data file through an `ExternalDataSink`.
 */
import { floatTensor, int64Tensor, node, uint8Tensor, valueInfo, type AttrValue } from '../engine/onnx/build';
import type { TestModelConfig } from './config';
import { DataType, type Model, type Node, type Tensor, type ValueInfo } from '../engine/onnx/proto';
import { quantizeQ4 } from './quant-q4';
import { transpose } from './weights';

/** Receives external-data bytes in order; returns where they were placed. */
export interface ExternalDataSink {
  /** File name recorded in TensorProto.external_data "location" (relative to the model). */
  readonly location: string;
  append(bytes: Uint8Array): { offset: number; length: number };
}

/** Alignment of an external tensor's offset: 4096 for ≥ 1 MiB tensors, else 64 bytes. */
export function externalAlignment(length: number): number {
  return length >= 1 << 20 ? 4096 : 64;
}

/** Keeps external data in memory (small models, tests). */
export class MemoryExternalData implements ExternalDataSink {
  private chunks: Uint8Array[] = [];
  private size = 0;
  constructor(readonly location: string) {}
  append(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (externalAlignment(bytes.length) - (this.size % externalAlignment(bytes.length))) % externalAlignment(bytes.length);
    if (pad) this.push(new Uint8Array(pad));
    const offset = this.size;
    this.push(bytes);
    return { offset, length: bytes.length };
  }
  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export type WeightFormat = 'fp32' | 'q4';

export const Q4_BLOCK = 32;

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private constCount = 0;
  /** Unnamed constants by value, so repeated scalars share one initializer. */
  private readonly constCache = new Map<string, string>();

  constructor(
    readonly format: WeightFormat,
    private readonly external?: ExternalDataSink,
    /** How op outputs are named: Optimum `${node}_output_${k}`, model builder `${node}/output_${k}`. */
    private readonly outputName: (nodeName: string, k: number) => string = (n, k) => `${n}_output_${k}`,
  ) {}

  /**
   * The decoder inputs and outputs every exporter declares: input_ids, attention_mask (and
   * position_ids where the graph takes them), past_key_values.N.key/value → logits, present.N.*.
   */
  decoderIo(cfg: TestModelConfig, opts: { positionIds: boolean }): void {
    const { numKvHeads: KVH, headDim: HD, vocabSize: V, numLayers: L } = cfg;
    this.inputs.push(
      valueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']),
    );
    if (opts.positionIds) this.inputs.push(valueInfo('position_ids', DataType.INT64, ['batch_size', 'sequence_length']));
    this.outputs.push(valueInfo('logits', DataType.FLOAT, ['batch_size', 'sequence_length', V]));
    for (let i = 0; i < L; i++) {
      for (const kv of ['key', 'value']) {
        this.inputs.push(valueInfo(`past_key_values.${i}.${kv}`, DataType.FLOAT, ['batch_size', KVH, 'past_sequence_length', HD]));
        this.outputs.push(valueInfo(`present.${i}.${kv}`, DataType.FLOAT, ['batch_size', KVH, 'total_sequence_length', HD]));
      }
    }
  }

  /** Add a node; `outputs` defaults to one auto-named output. Returns its output names. */
  op(
    opType: string,
    name: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { domain?: string; outputs?: string[] | number } = {},
  ): string[] {
    const outs = Array.isArray(opts.outputs) ? opts.outputs : Array.from({ length: opts.outputs ?? 1 }, (_, k) => this.outputName(name, k));
    this.nodes.push(node(opType, name, inputs, outs, attrs, opts.domain ?? ''));
    return outs;
  }

  /** Single-output convenience. */
  op1(opType: string, name: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.op(opType, name, inputs, attrs, { domain })[0];
  }

  /** Inline int64 constant initializer (dims [] = scalar). */
  i64(values: number[], dims: number[] = [values.length], name?: string): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    if (!name && this.constCache.has(key)) return this.constCache.get(key)!;
    const n = name ?? `const_i64_${this.constCount++}`;
    if (!name) this.constCache.set(key, n);
    this.initializers.push(int64Tensor(n, dims, values));
    return n;
  }

  /** Inline float constant (always inline; for scalars and small tables). */
  f32(values: Float32Array | number[], dims: number[], name?: string): string {
    const data = values instanceof Float32Array ? values : new Float32Array(values);
    const key = data.length <= 16 ? `f32:${dims.join('x')}:${Array.from(data).join(',')}` : '';
    if (!name && key && this.constCache.has(key)) return this.constCache.get(key)!;
    const n = name ?? `const_f32_${this.constCount++}`;
    if (!name && key) this.constCache.set(key, n);
    this.initializers.push(floatTensor(n, dims, data));
    return n;
  }

  /** A float weight (inline or external, per the sink). */
  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(this.tensor(name, dims, DataType.FLOAT, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return name;
  }

  private tensor(name: string, dims: number[], dataType: number, bytes: Uint8Array): Tensor {
    if (!this.external) {
      if (dataType === DataType.FLOAT) {
        return floatTensor(name, dims, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
      }
      return uint8Tensor(name, dims, bytes);
    }
    const { offset, length } = this.external.append(bytes);
    return {
      name,
      dims,
      dataType,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: this.external.location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    };
  }

  /**
   * x @ W for a weight W given as [K, N]: a MatMul in fp32, a com.microsoft MatMulNBits
   * (node name + "_Q4", same output name) in q4.
   */
  linear(nodeName: string, x: string, weightName: string, w: Float32Array, k: number, n: number): string {
    const out = this.outputName(nodeName, 0);
    if (this.format === 'fp32') {
      this.weight(weightName, [k, n], w);
      this.op('MatMul', nodeName, [x, weightName], {}, { outputs: [out] });
      return out;
    }
    const q = quantizeQ4(w, k, n, Q4_BLOCK);
    const blocks = k / Q4_BLOCK;
    this.initializers.push(this.tensor(`${weightName}_Q4`, [n, blocks, Q4_BLOCK / 2], DataType.UINT8, q.packed));
    this.weight(`${weightName}_scales`, [n * blocks], q.scales);
    this.op(
      'MatMulNBits',
      `${nodeName}_Q4`,
      [x, `${weightName}_Q4`, `${weightName}_scales`],
      { K: k, N: n, bits: 4, block_size: Q4_BLOCK },
      { domain: 'com.microsoft', outputs: [out] },
    );
    return out;
  }

  /**
   * Rows of a [rows, cols] table (an embedding) as com.microsoft GatherBlockQuantized: 4-bit,
   * blocks of Q4_BLOCK along cols, data uint8 [rows, cols/2] low nibble first, scales
   * [rows, cols/Q4_BLOCK], no zero points (8) — the same bytes MatMulNBits uses for the table's
   * transpose, as onnxruntime's quantizer writes quantized (tied) embeddings.
   */
  gatherQ4(nodeName: string, weightName: string, table: Float32Array, rows: number, cols: number, indices: string): string {
    const q = quantizeQ4(transpose(table, rows, cols), cols, rows, Q4_BLOCK); // as [K = cols, N = rows]
    this.initializers.push(this.tensor(`${weightName}_Q4`, [rows, cols / 2], DataType.UINT8, q.packed));
    this.weight(`${weightName}_scales`, [rows, cols / Q4_BLOCK], q.scales);
    return this.op(
      'GatherBlockQuantized',
      nodeName,
      [`${weightName}_Q4`, indices, `${weightName}_scales`],
      { bits: 4, block_size: Q4_BLOCK, gather_axis: 0, quantize_axis: 1 },
      { domain: 'com.microsoft' },
    )[0];
  }

  model(graphName: string, opset: number, extraOpsets: { domain: string; version: number }[] = []): Model {
    const usesMs = this.nodes.some((n) => n.domain === 'com.microsoft');
    const opsets = [{ domain: '', version: opset }, ...extraOpsets];
    if (usesMs && !opsets.some((o) => o.domain === 'com.microsoft')) opsets.push({ domain: 'com.microsoft', version: 1 });
    return {
      irVersion: 8,
      opsetImport: opsets,
      producerName: 'traitlab-testmodels',
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: [],
      },
    };
  }
}
