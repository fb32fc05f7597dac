/**
 * Reading small constants out of a decoded graph (initializers or Constant nodes), for the
 * pattern-matching passes (fuse-norms.ts, rotate-half.ts): exponents, epsilons, Slice bounds,
 * reduce axes. Anything that is not a constant of the asked type reads as undefined.
 */
import { DataType, toNum, type Graph, type Tensor } from '../onnx/proto';
import { halfToFloat } from '../runtime/f16';
import type { GraphIndex } from './graph-index';

/** The constant tensor behind `name`: an initializer, or the value of the Constant node producing it. */
export function constTensor(g: Graph, idx: GraphIndex, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  const t = idx.initializers.get(name);
  if (t) return t;
  const p = idx.producer.get(name);
  const n = p === undefined ? undefined : g.node[p];
  return n?.opType === 'Constant' ? n.attribute.find((a) => a.name === 'value')?.t : undefined;
}

/** Values of an int64 constant (int64_data or raw little-endian bytes). */
export function constInt64s(g: Graph, idx: GraphIndex, name: string | undefined): number[] | undefined {
  const t = constTensor(g, idx, name);
  if (!t || t.dataType !== DataType.INT64) return undefined;
  if (t.int64Data?.length) return t.int64Data.map(toNum);
  const raw = t.rawData;
  if (!raw) return undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

/** Value of a one-element float32/float16 constant, also behind a Cast (float16 conversions cast constants). */
export function constScalar(g: Graph, idx: GraphIndex, name: string): number | undefined {
  const p = idx.producer.get(name);
  if (!idx.initializers.has(name) && p !== undefined && g.node[p].opType === 'Cast') return constScalar(g, idx, g.node[p].input[0]);
  const t = constTensor(g, idx, name);
  if (!t || t.dims.reduce<number>((a, d) => a * toNum(d), 1) !== 1) return undefined;
  const raw = t.rawData;
  if (t.dataType === DataType.FLOAT) {
    if (t.floatData?.length) return t.floatData[0];
    if (raw?.byteLength === 4) return new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true);
  }
  if (t.dataType === DataType.FLOAT16) {
    if (t.int32Data?.length) return halfToFloat(t.int32Data[0]);
    if (raw?.byteLength === 2) return halfToFloat(new DataView(raw.buffer, raw.byteOffset, 2).getUint16(0, true));
  }
  return undefined;
}
