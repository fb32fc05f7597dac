/**
 * Re-encoding a model without re-encoding its weights.
 *
 * Parts keep most of the original initializers unchanged, and copying them through protobufjs
 * (object → message → growing writer → finished buffer) costs several passes over every weight
 * byte. Instead we locate each initializer's encoded TensorProto in the original bytes (a walk
 * over the wire format of ModelProto.graph that skips payloads by length) and emit parts as
 *
 *   encodeModel(part without those initializers) ++ [field 7 (graph) { field 5 (initializer) {…} … }]
 *
 * Protobuf parsers merge repeated occurrences of an embedded message field, so the trailing
 * graph record appends the initializers to the graph. Weight bytes are copied exactly once.
 */
import { encodeModel, type Model, type Tensor } from '../onnx/proto';

export interface ByteRange {
  start: number;
  end: number;
}

class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('bad varint');
  }
  /** Skip a field's payload of the given wire type; returns the LEN payload range for type 2. */
  skip(wire: number): ByteRange | undefined {
    switch (wire) {
      case 0:
        this.varint();
        return undefined;
      case 1:
        this.pos += 8;
        return undefined;
      case 5:
        this.pos += 4;
        return undefined;
      case 2: {
        const len = this.varint();
        const start = this.pos;
        this.pos += len;
        if (this.pos > this.end) throw new Error('truncated field');
        return { start, end: this.pos };
      }
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

/** Name (field 8) of an encoded TensorProto. */
function tensorName(buf: Uint8Array, r: ByteRange): string {
  const c = new Cursor(buf, r.start, r.end);
  while (c.pos < c.end) {
    const key = c.varint();
    const range = c.skip(key % 8);
    if (Math.floor(key / 8) === 8 && range) return new TextDecoder().decode(buf.subarray(range.start, range.end));
  }
  return '';
}

/**
 * The encoded byte range of each top-level graph initializer, in file order, matched to the
 * decoded tensors (same order, checked by name). Returns undefined when the layout is unexpected.
 */
export function locateInitializers(bytes: Uint8Array, decoded: Tensor[]): Map<Tensor, ByteRange> | undefined {
  try {
    const ranges: ByteRange[] = [];
    const top = new Cursor(bytes, 0, bytes.length);
    while (top.pos < top.end) {
      const key = top.varint();
      const r = top.skip(key % 8);
      if (Math.floor(key / 8) !== 7 || !r) continue;
      const g = new Cursor(bytes, r.start, r.end);
      while (g.pos < g.end) {
        const k = g.varint();
        const gr = g.skip(k % 8);
        if (Math.floor(k / 8) === 5 && gr) ranges.push(gr);
      }
    }
    if (ranges.length !== decoded.length) return undefined;
    const map = new Map<Tensor, ByteRange>();
    for (let i = 0; i < ranges.length; i++) {
      if (tensorName(bytes, ranges[i]) !== decoded[i].name) return undefined;
      map.set(decoded[i], ranges[i]);
    }
    return map;
  } catch {
    return undefined;
  }
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

const GRAPH_TAG = (7 << 3) | 2;
const INITIALIZER_TAG = (5 << 3) | 2;

/**
 * Encode `model`, copying initializers found in `raw` straight from `source` (see above);
 * tensors not in `raw` (new ones) go through the normal encoder.
 */
export function encodeWithRawInitializers(model: Model, source: Uint8Array | undefined, raw: Map<Tensor, ByteRange> | undefined): Uint8Array {
  if (!source || !raw) return encodeModel(model);
  const copied = model.graph.initializer.filter((t) => raw.has(t));
  if (copied.length === 0) return encodeModel(model);
  const rest = model.graph.initializer.filter((t) => !raw.has(t));
  const head = encodeModel({ ...model, graph: { ...model.graph, initializer: rest } });
  let body = 0;
  for (const t of copied) {
    const r = raw.get(t)!;
    const len = r.end - r.start;
    body += 1 + varintLength(len) + len;
  }
  const out = new Uint8Array(head.length + 1 + varintLength(body) + body);
  out.set(head, 0);
  let pos = head.length;
  out[pos++] = GRAPH_TAG;
  pos = writeVarint(out, pos, body);
  for (const t of copied) {
    const r = raw.get(t)!;
    out[pos++] = INITIALIZER_TAG;
    pos = writeVarint(out, pos, r.end - r.start);
    out.set(source.subarray(r.start, r.end), pos);
    pos += r.end - r.start;
  }
  return out;
}
