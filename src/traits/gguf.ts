/**
 * llama.cpp control vectors (GGUF) ⇄ TraitVector.
 *
 * File layout (GGUF v3, little-endian): "GGUF", version u32, tensor_count u64, kv_count u64;
 * kv_count metadata entries (key: u64 length + UTF-8, value type u32, value); tensor_count
 * tensor infos (name, n_dims u32, dims u64[n_dims], ggml type u32, offset u64 relative to the
 * data section); padding up to `general.alignment` (default 32); the data section.
 * A control vector has general.architecture = "controlvector", controlvector.model_hint
 * (string), controlvector.layer_count (u32), and one F32 tensor of shape [n_embd] per layer,
 * named `direction.N`. Our writer emits exactly that (keys in that order, alignment 32, each
 * tensor padded to 32 bytes), which is what gguf-py's GGUFWriter produces for such a file.
 *
 * LAYER MAPPING — our layer L (the residual after 0-based decoder layer L, i.e. Hugging Face
 * `hidden_states[L + 1]`, the output of `model.layers[L]`) ⇄ tensor `direction.L`.
 * Reasoning, from llama.cpp's loader and graph:
 *   - the loader rejects `direction.0` and stores `direction.N` at offset (N − 1)·n_embd of its
 *     buffer ("layer 0 is never used");
 *   - llama_adapter_cvec::apply copies buffer offset (il − 1)·n_embd into tensors[il] for
 *     il = 1 … n_layer − 1 (tensors[0] is always null);
 *   - every architecture's graph does `cur = build_cvec(cur, il)` (apply_to(…, il) adds
 *     tensors[il]) right after block il's FFN residual add, with il the 0-based block index.
 *   So `direction.N` is added to the output of 0-based block N, which is our layer N. (repeng
 *   writes `direction.{i}` for the vector its ControlModel adds to `model.layers[i]`'s output —
 *   the same convention.) Consequences: our layer 0 cannot be expressed (llama.cpp never steers
 *   the first block's output), so writing it is an error; valid layers are 1 … n_layer − 1.
 */
import type { TraitVector } from '../steering/vector';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGML_TYPE_F32 = 0;

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  /** Offset relative to the data section. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, { type: GgufType; value: GgufValue }>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute byte offset of the data section. */
  dataStart: number;
}

const MAX_ARRAY_DEPTH = 8;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private view: DataView;
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }
  private need(n: number, what: string): void {
    if (n > this.remaining) throw new Error(`GGUF: file is truncated (reading ${what} at byte ${this.pos} needs ${n} bytes, ${this.remaining} left)`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** u64 as a number; values beyond 2^53 are rejected (no real file has them). */
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`GGUF: ${what} is implausibly large (${v})`);
    return Number(v);
  }
  scalar(type: GgufType, what: string): GgufValue {
    const size = scalarSize(type);
    this.need(size, what);
    const p = this.pos;
    this.pos += size;
    const v = this.view;
    switch (type) {
      case GgufType.UINT8:
        return v.getUint8(p);
      case GgufType.INT8:
        return v.getInt8(p);
      case GgufType.UINT16:
        return v.getUint16(p, true);
      case GgufType.INT16:
        return v.getInt16(p, true);
      case GgufType.UINT32:
        return v.getUint32(p, true);
      case GgufType.INT32:
        return v.getInt32(p, true);
      case GgufType.FLOAT32:
        return v.getFloat32(p, true);
      case GgufType.BOOL: {
        const b = v.getUint8(p);
        if (b > 1) throw new Error(`GGUF: ${what} is a bool with value ${b}`);
        return b === 1;
      }
      case GgufType.UINT64:
        return v.getBigUint64(p, true);
      case GgufType.INT64:
        return v.getBigInt64(p, true);
      case GgufType.FLOAT64:
        return v.getFloat64(p, true);
      default:
        throw new Error(`GGUF: ${what} has unknown value type ${type}`);
    }
  }
  string(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return utf8.decode(s);
    } catch {
      throw new Error(`GGUF: ${what} is not valid UTF-8`);
    }
  }
  value(type: number, what: string, depth = 0): GgufValue {
    if (type === GgufType.STRING) return this.string(what);
    if (type === GgufType.ARRAY) {
      if (depth >= MAX_ARRAY_DEPTH) throw new Error(`GGUF: ${what} nests arrays too deeply`);
      const elemType = this.u32(`${what} element type`);
      const count = this.u64(`${what} element count`);
      // Every element takes at least one byte (strings at least 8): bound the count by what is left.
      const minSize = elemType === GgufType.STRING || elemType === GgufType.ARRAY ? 8 : isScalar(elemType) ? scalarSize(elemType) : 1;
      if (count * minSize > this.remaining) throw new Error(`GGUF: file is truncated (${what} claims ${count} elements)`);
      const out: GgufValue[] = [];
      for (let i = 0; i < count; i++) out.push(this.value(elemType, `${what}[${i}]`, depth + 1));
      return out;
    }
    if (!isScalar(type)) throw new Error(`GGUF: ${what} has unknown value type ${type}`);
    return this.scalar(type, what);
  }
}

function isScalar(t: number): t is GgufType {
  return t >= 0 && t <= 12 && t !== GgufType.STRING && t !== GgufType.ARRAY;
}

function scalarSize(t: GgufType): number {
  switch (t) {
    case GgufType.UINT8:
    case GgufType.INT8:
    case GgufType.BOOL:
      return 1;
    case GgufType.UINT16:
    case GgufType.INT16:
      return 2;
    case GgufType.UINT32:
    case GgufType.INT32:
    case GgufType.FLOAT32:
      return 4;
    default:
      return 8;
  }
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Parse any GGUF v2/v3 little-endian header (metadata of every type, tensor infos). */
export function parseGguf(bytes: Uint8Array): GgufFile {
  if (!(bytes instanceof Uint8Array)) throw new Error('GGUF: expected bytes (Uint8Array)');
  const r = new Reader(bytes);
  if (bytes.byteLength < 4) throw new Error('GGUF: file is too short to be GGUF');
  const magic = r.u32('magic');
  if (magic !== GGUF_MAGIC) throw new Error('GGUF: not a GGUF file (bad magic; expected "GGUF")');
  const version = r.u32('version');
  if (version !== 2 && version !== 3) {
    if (version === 0x03000000 || version === 0x02000000) throw new Error('GGUF: big-endian GGUF files are not supported');
    throw new Error(`GGUF: unsupported version ${version} (expected 3)`);
  }
  const tensorCount = r.u64('tensor count');
  const kvCount = r.u64('metadata count');
  // Each kv needs ≥ 12 bytes (key length + type), each tensor info ≥ 28: reject absurd counts early.
  if (kvCount * 12 + tensorCount * 28 > r.remaining)
    throw new Error(`GGUF: file is truncated (header claims ${kvCount} metadata entries and ${tensorCount} tensors)`);
  const metadata = new Map<string, { type: GgufType; value: GgufValue }>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key ${i}`);
    const type = r.u32(`type of ${key}`);
    const value = r.value(type, `metadata "${key}"`);
    if (metadata.has(key)) throw new Error(`GGUF: duplicate metadata key "${key}"`);
    metadata.set(key, { type: type as GgufType, value });
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al) {
    const a = typeof al.value === 'bigint' ? Number(al.value) : al.value;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 1 << 20 || (a & (a - 1)) !== 0) {
      throw new Error(`GGUF: general.alignment must be a power of two, got ${String(al.value)}`);
    }
    alignment = a;
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`tensor name ${i}`);
    const nDims = r.u32(`dims of ${name}`);
    if (nDims < 1 || nDims > 4) throw new Error(`GGUF: tensor "${name}" has ${nDims} dimensions (1..4 allowed)`);
    const dims: number[] = [];
    for (let k = 0; k < nDims; k++) dims.push(r.u64(`dim ${k} of ${name}`));
    const type = r.u32(`type of ${name}`);
    const offset = r.u64(`offset of ${name}`);
    tensors.push({ name, dims, type, offset });
  }
  const dataStart = alignUp(r.pos, alignment);
  if (dataStart > bytes.byteLength && tensors.length > 0) throw new Error('GGUF: file is truncated (no data section)');
  return { version, metadata, tensors, alignment, dataStart };
}

const DIRECTION_RE = /^direction\.(\d+)$/;

/** Read a llama.cpp control vector. `expectedHidden`: reject a vector for another hidden size. */
export function readControlVector(bytes: Uint8Array, expectedHidden?: number): TraitVector {
  const f = parseGguf(bytes);
  const arch = f.metadata.get('general.architecture');
  if (arch && arch.value !== 'controlvector') {
    throw new Error(`GGUF: this is a "${String(arch.value)}" file, not a control vector (general.architecture must be "controlvector")`);
  }
  const hint = f.metadata.get('controlvector.model_hint');
  const model = typeof hint?.value === 'string' ? hint.value : '';
  if (f.tensors.length === 0) throw new Error('GGUF: the control vector has no direction tensors');
  let hidden = -1;
  const layers: Record<number, Float32Array> = {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const t of f.tensors) {
    const m = DIRECTION_RE.exec(t.name);
    if (!m) throw new Error(`GGUF: unexpected tensor "${t.name}" (a control vector holds only direction.N tensors)`);
    const n = Number(m[1]);
    if (n < 1 || !Number.isSafeInteger(n)) throw new Error(`GGUF: invalid tensor "${t.name}": layer indices start at direction.1`);
    if (t.type !== GGML_TYPE_F32) throw new Error(`GGUF: tensor "${t.name}" has ggml type ${t.type}; only F32 (0) control vectors are supported`);
    if (t.dims.length !== 1) throw new Error(`GGUF: tensor "${t.name}" has shape [${t.dims.join(', ')}], expected one dimension [n_embd]`);
    const len = t.dims[0];
    if (len < 1) throw new Error(`GGUF: tensor "${t.name}" is empty`);
    if (hidden < 0) hidden = len;
    else if (len !== hidden) throw new Error(`GGUF: tensor "${t.name}" has ${len} values, other directions have ${hidden}`);
    if (expectedHidden !== undefined && len !== expectedHidden) {
      throw new Error(`GGUF: control vector has hidden size ${len}, the model has ${expectedHidden}`);
    }
    const layer = n; // direction.N ⇄ residual after 0-based block N (see the file header)
    if (layers[layer]) throw new Error(`GGUF: duplicate tensor "${t.name}"`);
    const start = f.dataStart + t.offset;
    if (t.offset % f.alignment !== 0) throw new Error(`GGUF: tensor "${t.name}" is not aligned to ${f.alignment} bytes`);
    if (start + len * 4 > bytes.byteLength) throw new Error(`GGUF: file is truncated (tensor "${t.name}" data ends past the end of the file)`);
    const x = new Float32Array(len);
    for (let i = 0; i < len; i++) x[i] = view.getFloat32(start + 4 * i, true);
    if (!x.every(Number.isFinite)) throw new Error(`GGUF: tensor "${t.name}" has non-finite values`);
    layers[layer] = x;
  }
  return { model, hidden, layers };
}

class Writer {
  private chunks: Uint8Array[] = [];
  size = 0;
  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.byteLength;
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  u64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.byteLength);
    this.push(b);
  }
  bytes(b: Uint8Array): void {
    this.push(b);
  }
  pad(alignment: number): void {
    const p = alignUp(this.size, alignment) - this.size;
    if (p) this.push(new Uint8Array(p));
  }
  result(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}

/**
 * A llama.cpp control vector for `vector` (layers ascending as direction.L, see the mapping in
 * the file header). Throws for layer 0, which llama.cpp cannot apply.
 */
export function writeControlVector(vector: TraitVector, modelHint: string = vector.model): Uint8Array {
  const layers = Object.keys(vector.layers)
    .map(Number)
    .sort((a, b) => a - b);
  if (layers.length === 0) throw new Error('writeControlVector: the vector has no layers');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0) throw new Error(`writeControlVector: invalid layer ${l}`);
    if (l === 0)
      throw new Error(
        "writeControlVector: layer 0 (the first block's output) cannot be steered by llama.cpp control vectors (direction.0 is invalid); drop it or use a later layer",
      );
    const x = vector.layers[l];
    if (x.length !== vector.hidden) throw new Error(`writeControlVector: layer ${l} has ${x.length} values, expected ${vector.hidden}`);
    if (!x.every(Number.isFinite)) throw new Error(`writeControlVector: layer ${l} has non-finite values`);
  }
  const w = new Writer();
  w.u32(GGUF_MAGIC);
  w.u32(3);
  w.u64(layers.length);
  w.u64(3);
  w.string('general.architecture');
  w.u32(GgufType.STRING);
  w.string('controlvector');
  w.string('controlvector.model_hint');
  w.u32(GgufType.STRING);
  w.string(modelHint);
  w.string('controlvector.layer_count');
  w.u32(GgufType.UINT32);
  w.u32(layers.length);
  const nbytes = vector.hidden * 4;
  let offset = 0;
  for (const l of layers) {
    w.string(`direction.${l}`);
    w.u32(1);
    w.u64(vector.hidden);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset += alignUp(nbytes, GGUF_DEFAULT_ALIGNMENT);
  }
  w.pad(GGUF_DEFAULT_ALIGNMENT);
  for (const l of layers) {
    const b = new Uint8Array(nbytes);
    const dv = new DataView(b.buffer);
    vector.layers[l].forEach((v, i) => dv.setFloat32(4 * i, v, true));
    w.bytes(b);
    w.pad(GGUF_DEFAULT_ALIGNMENT);
  }
  return w.result();
}
