/**
 * Small constructors for ONNX graph pieces as plain objects (see proto.ts), used by the test
 * model generator and by graph surgery when it adds nodes.
 */
import { AttrType, DataType, type Attribute, type Node, type Tensor, type ValueInfo } from './proto';

export type AttrValue = number | string | number[] | Float32Array | Tensor | { float: number } | { floats: number[] };

/** Attribute from a JS value: integers → INT, `{float}` → FLOAT, strings → STRING, number[] → INTS. */
export function attr(name: string, value: AttrValue): Attribute {
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if (value instanceof Float32Array) return { name, type: AttrType.FLOATS, floats: Array.from(value) };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: value.floats };
  return { name, type: AttrType.TENSOR, t: value };
}

export function node(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): Node {
  return {
    name,
    opType,
    domain,
    input: inputs,
    output: outputs,
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
  };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export function floatTensor(name: string, dims: number[], data: Float32Array): Tensor {
  return { name, dims, dataType: DataType.FLOAT, rawData: bytesOf(data) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): Tensor {
  return { name, dims, dataType: DataType.INT64, rawData: bytesOf(new BigInt64Array(data.map((x) => BigInt(x)))) };
}

export function int32Tensor(name: string, dims: number[], data: number[]): Tensor {
  return { name, dims, dataType: DataType.INT32, rawData: bytesOf(new Int32Array(data)) };
}

export function uint8Tensor(name: string, dims: number[], data: Uint8Array): Tensor {
  return { name, dims, dataType: DataType.UINT8, rawData: bytesOf(data) };
}

/** A tensor value-info; dims are numbers (fixed) or strings (symbolic); `undefined` dims = unknown shape. */
export function valueInfo(name: string, elemType: number, dims?: (number | string)[]): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  };
}
