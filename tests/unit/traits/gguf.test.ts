/** llama.cpp control-vector GGUF read/write and the JSON vector format. */
import { describe, expect, it } from 'vitest';
import { randomUnit, type TraitVector } from '../../../src/steering/vector';
import { GgufType, parseGguf, readControlVector, writeControlVector } from '../../../src/traits/gguf';
import { base64ToFloats, floatsToBase64, vectorFromJson, vectorToJson } from '../../../src/traits/vector-json';
import { mulberry32 } from '../../../src/shared/rng';

/** A byte builder mirroring how gguf-py's GGUFWriter lays out a file (little-endian). */
class Bytes {
  private out: number[] = [];
  u8(v: number) {
    this.out.push(v & 0xff);
    return this;
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.out.push(...b);
    return this;
  }
  i32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.out.push(...b);
    return this;
  }
  u64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.out.push(...b);
    return this;
  }
  f32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.out.push(...b);
    return this;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.out.push(...b);
    return this;
  }
  pad(a = 32) {
    while (this.out.length % a) this.out.push(0);
    return this;
  }
  get length() {
    return this.out.length;
  }
  bytes() {
    return Uint8Array.from(this.out);
  }
}

/** A control vector exactly as llama.cpp's python writer produces it, with optional extra metadata. */
function handBuilt(
  dirs: Record<number, number[]>,
  opts: { hint?: string; extraKv?: (b: Bytes) => number; layerCountI32?: boolean; version?: number } = {},
): Uint8Array {
  const b = new Bytes();
  const layers = Object.keys(dirs).map(Number);
  const n = dirs[layers[0]].length;
  b.u32(0x46554747)
    .u32(opts.version ?? 3)
    .u64(layers.length);
  const kvAt = b.length;
  b.u64(3);
  b.str('general.architecture').u32(GgufType.STRING).str('controlvector');
  b.str('controlvector.model_hint')
    .u32(GgufType.STRING)
    .str(opts.hint ?? 'llama');
  b.str('controlvector.layer_count');
  if (opts.layerCountI32) b.u32(GgufType.INT32).i32(layers.length);
  else b.u32(GgufType.UINT32).u32(layers.length);
  let extra = 0;
  if (opts.extraKv) extra = opts.extraKv(b);
  let off = 0;
  for (const l of layers) {
    b.str(`direction.${l}`).u32(1).u64(n).u32(0).u64(off);
    off += Math.ceil((n * 4) / 32) * 32;
  }
  b.pad();
  for (const l of layers) {
    for (const v of dirs[l]) b.f32(v);
    b.pad();
  }
  const out = b.bytes();
  new DataView(out.buffer).setBigUint64(kvAt, BigInt(3 + extra), true);
  return out;
}

const vec = (hidden: number, layers: number[], seed: number): TraitVector => randomUnit('HuggingFaceTB/SmolLM2-135M-Instruct', hidden, layers, seed);

describe('GGUF control vectors', () => {
  it('round-trips floats exactly (direction.L ⇄ layer L)', () => {
    const v = vec(72, [1, 5, 9], 3); // 72·4 = 288 bytes: not a multiple of 32, so padding is exercised
    const bytes = writeControlVector(v, 'llama');
    const back = readControlVector(bytes, 72);
    expect(back.model).toBe('llama');
    expect(back.hidden).toBe(72);
    expect(Object.keys(back.layers).map(Number)).toEqual([1, 5, 9]);
    for (const l of [1, 5, 9]) expect(Array.from(back.layers[l])).toEqual(Array.from(v.layers[l]));
    const f = parseGguf(bytes);
    expect(f.tensors.map((t) => t.name)).toEqual(['direction.1', 'direction.5', 'direction.9']);
    expect(f.tensors.map((t) => t.offset)).toEqual([0, 288, 576]);
    expect(f.dataStart % 32).toBe(0);
    expect(bytes.length).toBe(f.dataStart + 3 * 288);
  });

  it('writes the same bytes as the reference layout (key order, types, alignment, padding)', () => {
    const dirs = { 2: Array.from({ length: 10 }, (_, i) => i / 7 - 0.5), 3: Array.from({ length: 10 }, (_, i) => -i / 3) };
    const ref = handBuilt(dirs, { hint: 'qwen2' });
    const v: TraitVector = { model: 'x', hidden: 10, layers: { 3: Float32Array.from(dirs[3]), 2: Float32Array.from(dirs[2]) } };
    expect(Buffer.from(writeControlVector(v, 'qwen2')).equals(Buffer.from(ref))).toBe(true);
    const f = parseGguf(ref);
    expect([...f.metadata.keys()]).toEqual(['general.architecture', 'controlvector.model_hint', 'controlvector.layer_count']);
    expect(f.metadata.get('controlvector.layer_count')).toEqual({ type: GgufType.UINT32, value: 2 });
  });

  it('reads files with an i32 layer_count and unknown metadata of every type', () => {
    const dirs = { 4: [1, 2, 3, 4, 5, 6, 7, 8] };
    const bytes = handBuilt(dirs, {
      layerCountI32: true,
      extraKv: (b) => {
        b.str('x.u8').u32(GgufType.UINT8).u8(7);
        b.str('x.i8').u32(GgufType.INT8).u8(0xff);
        b.str('x.u16').u32(GgufType.UINT16).u8(1).u8(2);
        b.str('x.i16').u32(GgufType.INT16).u8(0xfe).u8(0xff);
        b.str('x.f32').u32(GgufType.FLOAT32).f32(1.5);
        b.str('x.bool').u32(GgufType.BOOL).u8(1);
        b.str('x.u64')
          .u32(GgufType.UINT64)
          .u64(2 ** 40);
        b.str('x.i64').u32(GgufType.INT64).u64(5);
        b.str('x.f64').u32(GgufType.FLOAT64).u32(0).u32(0x3ff00000);
        b.str('x.arr').u32(GgufType.ARRAY).u32(GgufType.STRING).u64(2).str('a').str('bc');
        b.str('x.nested').u32(GgufType.ARRAY).u32(GgufType.ARRAY).u64(1).u32(GgufType.INT32).u64(2).i32(-1).i32(2);
        b.str('general.alignment').u32(GgufType.UINT32).u32(32);
        return 12;
      },
    });
    const f = parseGguf(bytes);
    expect(f.metadata.get('x.i8')?.value).toBe(-1);
    expect(f.metadata.get('x.u16')?.value).toBe(0x0201);
    expect(f.metadata.get('x.i16')?.value).toBe(-2);
    expect(f.metadata.get('x.f32')?.value).toBe(1.5);
    expect(f.metadata.get('x.bool')?.value).toBe(true);
    expect(f.metadata.get('x.u64')?.value).toBe(2n ** 40n);
    expect(f.metadata.get('x.f64')?.value).toBe(1);
    expect(f.metadata.get('x.arr')?.value).toEqual(['a', 'bc']);
    expect(f.metadata.get('x.nested')?.value).toEqual([[-1, 2]]);
    expect(f.metadata.get('controlvector.layer_count')).toEqual({ type: GgufType.INT32, value: 1 });
    const v = readControlVector(bytes);
    expect(Array.from(v.layers[4])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('honours a non-default general.alignment', () => {
    const b = new Bytes();
    b.u32(0x46554747).u32(3).u64(1).u64(2);
    b.str('general.architecture').u32(GgufType.STRING).str('controlvector');
    b.str('general.alignment').u32(GgufType.UINT32).u32(64);
    b.str('direction.1').u32(1).u64(4).u32(0).u64(0);
    b.pad(64);
    [0.25, -1, 2, 8].forEach((x) => b.f32(x));
    expect(Array.from(readControlVector(b.bytes()).layers[1])).toEqual([0.25, -1, 2, 8]);
  });

  it('rejects layer 0 on write and bad vectors', () => {
    expect(() => writeControlVector(vec(8, [0, 1], 1))).toThrow(/layer 0/);
    expect(() => writeControlVector({ model: 'm', hidden: 8, layers: {} })).toThrow(/no layers/);
    expect(() => writeControlVector({ model: 'm', hidden: 8, layers: { 1: new Float32Array(7) } })).toThrow(/7 values/);
    expect(() => writeControlVector({ model: 'm', hidden: 2, layers: { 1: Float32Array.of(1, NaN) } })).toThrow(/non-finite/);
  });

  it('rejects wrong hidden size, bad names, types, dims, magic and version with clear errors', () => {
    const good = { 1: [1, 2, 3, 4] };
    expect(() => readControlVector(handBuilt(good), 8)).toThrow(/hidden size 4, the model has 8/);
    const rename = (from: string, to: string) => {
      const bytes = handBuilt(good);
      const s = Buffer.from(bytes).toString('latin1').replace(from, to);
      return new Uint8Array(Buffer.from(s, 'latin1'));
    };
    expect(() => readControlVector(rename('direction.1', 'direction.0'))).toThrow(/direction\.1/);
    expect(() => readControlVector(rename('direction.1', 'directionX1'))).toThrow(/unexpected tensor "directionX1"/);
    const flip = (at: (b: Uint8Array) => number, value: number) => {
      const bytes = handBuilt(good);
      bytes[at(bytes)] = value;
      return bytes;
    };
    expect(() => readControlVector(flip(() => 0, 0x41))).toThrow(/bad magic/);
    expect(() => readControlVector(flip(() => 4, 1))).toThrow(/unsupported version 1/);
    expect(() => readControlVector(handBuilt(good, { version: 0x03000000 }))).toThrow(/big-endian/);
    // Tensor type: the u32 after the dims of direction.1.
    const typeAt = (b: Uint8Array) => Buffer.from(b).indexOf('direction.1') + 'direction.1'.length + 4 + 8;
    expect(() => readControlVector(flip(typeAt, 1))).toThrow(/only F32/);
    const dimsAt = (b: Uint8Array) => Buffer.from(b).indexOf('direction.1') + 'direction.1'.length;
    expect(() => readControlVector(flip(dimsAt, 2))).toThrow(/shape|truncated/);
    // Mixed sizes.
    const b = new Bytes();
    b.u32(0x46554747).u32(3).u64(2).u64(0);
    b.str('direction.1').u32(1).u64(4).u32(0).u64(0);
    b.str('direction.2').u32(1).u64(8).u32(0).u64(32);
    b.pad();
    for (let i = 0; i < 16; i++) b.f32(i);
    expect(() => readControlVector(b.bytes())).toThrow(/8 values, other directions have 4/);
    // Another architecture (same length, so the layout stays valid).
    expect(() => readControlVector(rename('controlvector\u0018', 'llamaxxxxxxxx\u0018'))).toThrow(/"llamaxxxxxxxx" file, not a control vector/);
  });

  it('never reads past the buffer: every truncation and random corruption throws a clean Error', () => {
    const bytes = writeControlVector(vec(16, [1, 2, 3], 9), 'llama');
    for (let n = 0; n < bytes.length; n++) {
      const cut = bytes.slice(0, n);
      let err: unknown;
      try {
        readControlVector(cut, 16);
      } catch (e) {
        err = e;
      }
      // The only prefix that may parse is one that still holds all the data (none here: data ends the file).
      expect(err, `truncated to ${n}`).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(/^GGUF: /);
    }
    const rand = mulberry32(42);
    let threw = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const c = bytes.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) c[Math.floor(rand() * c.length)] = Math.floor(rand() * 256);
      try {
        const v = readControlVector(c, 16);
        expect(v.hidden).toBe(16);
      } catch (e) {
        threw++;
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(RangeError);
        expect(e).not.toBeInstanceOf(TypeError);
        expect((e as Error).message).toMatch(/^GGUF: /);
      }
    }
    expect(threw).toBeGreaterThan(100);
    // Huge counts and lengths are rejected without allocating or looping.
    const huge = new Bytes()
      .u32(0x46554747)
      .u32(3)
      .u64(1)
      .u64(2 ** 40)
      .bytes();
    expect(() => readControlVector(huge)).toThrow(/truncated/);
    const hugeStr = new Bytes()
      .u32(0x46554747)
      .u32(3)
      .u64(0)
      .u64(1)
      .u64(2 ** 50)
      .bytes();
    expect(() => readControlVector(hugeStr)).toThrow(/truncated/);
    const hugeArr = new Bytes()
      .u32(0x46554747)
      .u32(3)
      .u64(0)
      .u64(1)
      .str('a')
      .u32(GgufType.ARRAY)
      .u32(GgufType.UINT8)
      .u64(2 ** 45)
      .bytes();
    expect(() => readControlVector(hugeArr)).toThrow(/truncated/);
    expect(() => readControlVector(new Uint8Array(0))).toThrow(/too short/);
  });
});

describe('vector JSON', () => {
  it('round-trips vectors, calibration and separation exactly', () => {
    const v = vec(24, [0, 3, 7], 5);
    const file = {
      vector: v,
      calibration: { 3: { center: 0.25, scale: -1.5 } },
      separation: { 3: { effectSize: 4.5, accuracy: 0.975 }, 7: { effectSize: Infinity, accuracy: 1 } },
      bestLayer: 3,
      trait: { id: 'openness', label: 'Openness', high: 'curious', low: 'conventional' },
      datasetVersion: 'fnv1a64:0123456789abcdef',
    };
    const text = JSON.stringify(vectorToJson(file));
    const back = vectorFromJson(text, 24);
    expect(back.vector.model).toBe(v.model);
    for (const l of [0, 3, 7]) expect(Array.from(back.vector.layers[l])).toEqual(Array.from(v.layers[l]));
    expect(back.calibration).toEqual(file.calibration);
    expect(back.separation).toEqual(file.separation);
    expect(back.bestLayer).toBe(3);
    expect(back.trait).toEqual(file.trait);
    expect(back.datasetVersion).toBe(file.datasetVersion);
    expect(JSON.parse(text).format).toBe('traitlab-vector/1');
  });

  it('base64 of float32 is little-endian and exact', () => {
    const x = Float32Array.of(1, -2.5, 3.4028234663852886e38, 1e-45);
    expect(Array.from(base64ToFloats(floatsToBase64(x)))).toEqual(Array.from(x));
    expect(floatsToBase64(Float32Array.of(1))).toBe('AACAPw==');
    const big = new Float32Array(100_000).map((_, i) => i * 0.5);
    expect(base64ToFloats(floatsToBase64(big))).toEqual(big);
  });

  it('rejects malformed input with clear errors', () => {
    const ok = vectorToJson({ vector: vec(4, [1], 1) });
    expect(() => vectorFromJson('{', 4)).toThrow(/not valid JSON/);
    expect(() => vectorFromJson({ ...ok, format: 'x' })).toThrow(/wrong format tag/);
    expect(() => vectorFromJson(ok, 8)).toThrow(/hidden size 4, the model has 8/);
    expect(() => vectorFromJson({ ...ok, layers: { 1: 'AACAPw==' } })).toThrow(/1 values, expected 4/);
    expect(() => vectorFromJson({ ...ok, layers: { x: 'AACAPw==' } })).toThrow(/not a layer index/);
    expect(() => vectorFromJson({ ...ok, layers: { 1: '!!!' } })).toThrow(/base64/);
    expect(() => vectorFromJson({ ...ok, layers: {} })).toThrow(/no layers/);
    expect(() => vectorFromJson({ ...ok, calibration: { 1: { center: 0, scale: 0 } } })).toThrow(/scale is 0/);
  });
});
