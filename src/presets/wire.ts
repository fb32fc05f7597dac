/**
 * The preset's wire form: a JSON object plus one block of vector bytes (see codec.ts for the
 * envelope). fromWire checks every field and throws PresetInvalid with a message naming what
 * failed; vectors are read from the byte block in the order the JSON lists them.
 *
 *   { model, dtype, cut, traits: [{ id, s, m, l, e }], system, sampling: { t, k, p, r, seed }, max,
 *     vec: [{ id, label?, hidden, enc: 'f32' | 'i8', layers: [L…], scales?: [s…], cal?: { L: [center, scale] }, steer?: [L…] }],
 *     orth?: true }
 *   bytes: per vec, per layer: f32 → hidden × 4 bytes little-endian, i8 → hidden bytes; then per
 *   steer layer (the orthogonalised direction it steers with) hidden × 4 bytes (f32).
 */
import { validateSampling } from '../shared/sampling';
import { MODES } from '../steering/mode';
import { MAX_TYPED_STRENGTH } from '../steering/strength';
import { packInt8, unpackInt8 } from './int8-vector';
import { checkModelRef } from './model-ref';
import { DTYPE_CHOICES, LIMITS, type Preset, type PresetTrait, type PresetVector } from './preset';

export type PresetErrorCode =
  | 'empty'
  | 'too-large'
  | 'not-a-preset'
  | 'wrong-version'
  | 'truncated'
  | 'bad-encoding'
  | 'bad-checksum'
  | 'bad-json'
  | 'bad-model'
  | 'invalid-field'
  | 'not-finite'
  | 'out-of-range'
  | 'unknown-trait';

export class PresetInvalid extends Error {
  constructor(
    readonly code: PresetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: PresetErrorCode, message: string): never {
  throw new PresetInvalid(code, message);
}

export interface DecodeContext {
  /** Ids of the built-in traits; any other trait id must be a custom trait of the same link. */
  knownTraitIds: ReadonlySet<string>;
  /** Model ids this site serves itself (offline demos), allowed besides hub ids and http(s) URLs. */
  siteModels?: ReadonlySet<string>;
}

const CUSTOM_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Ids that would alias Object.prototype members where ids index plain objects. */
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype).map((n) => n.toLowerCase()));

// ---- encode --------------------------------------------------------------------------------

function f32Bytes(x: Float32Array): Uint8Array {
  const b = new Uint8Array(x.length * 4);
  const dv = new DataView(b.buffer);
  x.forEach((e, i) => dv.setFloat32(4 * i, e, true));
  return b;
}

function readF32(reader: ByteReader, hidden: number, what: string): Float32Array {
  const b = reader.take(hidden * 4, what);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const v = new Float32Array(hidden);
  for (let j = 0; j < hidden; j++) v[j] = dv.getFloat32(4 * j, true);
  if (!v.every(Number.isFinite)) fail('not-finite', `${what} has non-finite values`);
  return v;
}

export function toWire(p: Preset): { json: Record<string, unknown>; bytes: Uint8Array } {
  const parts: Uint8Array[] = [];
  const vec = p.vectors.map((v) => {
    const layers = Object.keys(v.layers)
      .map(Number)
      .sort((a, b) => a - b);
    const scales: number[] = [];
    for (const l of layers) {
      const x = v.layers[l];
      if (v.precision === 'f32') parts.push(f32Bytes(x));
      else {
        const { scale, q } = packInt8(x);
        scales.push(scale);
        parts.push(new Uint8Array(q.buffer));
      }
    }
    const steer = Object.keys(v.steer ?? {})
      .map(Number)
      .sort((a, b) => a - b);
    for (const l of steer) parts.push(f32Bytes(v.steer![l]));
    const cal = Object.fromEntries(Object.entries(v.calibration).map(([l, c]) => [l, [c.center, c.scale]]));
    return {
      id: v.id,
      ...(v.customLabel !== null ? { label: v.customLabel } : {}),
      hidden: v.hidden,
      enc: v.precision,
      layers,
      ...(v.precision === 'i8' ? { scales } : {}),
      ...(Object.keys(cal).length ? { cal } : {}),
      ...(steer.length ? { steer } : {}),
    };
  });
  const json = {
    model: p.model,
    dtype: p.dtype,
    cut: p.cutLayers,
    traits: p.traits.map((t) => ({ id: t.id, s: t.strength, m: t.mode, l: t.layer, e: t.enabled })),
    vec,
    system: p.systemPrompt,
    sampling: { t: p.sampling.temperature, k: p.sampling.topK, p: p.sampling.topP, r: p.sampling.repetitionPenalty, seed: p.sampling.seed },
    max: p.maxNewTokens,
    ...(p.orthogonal ? { orth: true } : {}),
  };
  const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    bytes.set(b, at);
    at += b.length;
  }
  return { json, bytes };
}

// ---- decode --------------------------------------------------------------------------------

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown, what: string, max: number, min = 0): string {
  if (typeof x !== 'string') fail('invalid-field', `${what} must be text`);
  if (x.length > max) fail('out-of-range', `${what} is longer than ${max} characters`);
  if (x.length < min) fail('invalid-field', `${what} is empty`);
  return x;
}

function num(x: unknown, what: string, lo: number, hi: number, integer = false): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail('not-finite', `${what} is not a finite number (${JSON.stringify(x) ?? String(x)})`);
  if (integer && !Number.isInteger(x)) fail('out-of-range', `${what} must be a whole number, got ${x}`);
  if (x < lo || x > hi) fail('out-of-range', `${what} is ${x}, outside ${lo}..${hi}`);
  return x;
}

function arr(x: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(x)) fail('invalid-field', `${what} must be a list`);
  if (x.length > max) fail('out-of-range', `${what} has ${x.length} entries, at most ${max} allowed`);
  return x;
}

/** Reads the vector bytes in order; throws when they run out. */
class ByteReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) fail('truncated', `the vector data ends inside ${what}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  left(): number {
    return this.bytes.length - this.at;
  }
}

function vectorFromWire(x: unknown, i: number, ctx: DecodeContext, reader: ByteReader): PresetVector {
  let what = `vector ${i + 1}`;
  if (!isObject(x)) fail('invalid-field', `${what} must be an object`);
  const id = str(x.id, `${what} id`, 64, 1);
  const builtin = ctx.knownTraitIds.has(id);
  what = `vector of "${id}"`;
  let customLabel: string | null = null;
  if (x.label === undefined) {
    if (!builtin) fail('unknown-trait', `${what}: unknown built-in trait (a custom trait needs a label)`);
  } else {
    if (builtin) fail('invalid-field', `custom trait "${id}" has the id of a built-in trait`);
    if (!CUSTOM_ID.test(id) || RESERVED.has(id))
      fail('invalid-field', `custom trait id ${JSON.stringify(id)} must be lower-case letters, digits and dashes (not a reserved name)`);
    customLabel = str(x.label, `${what} label`, LIMITS.labelChars, 1);
  }
  const hidden = num(x.hidden, `${what} hidden size`, 1, LIMITS.hidden, true);
  if (x.enc !== 'f32' && x.enc !== 'i8') fail('invalid-field', `${what} encoding must be "f32" or "i8"`);
  const precision = x.enc;
  const layers = arr(x.layers, `${what} layers`, LIMITS.cutLayers).map((l) => num(l, `${what} layer`, 0, LIMITS.layer, true));
  if (layers.length === 0) fail('invalid-field', `${what} has no layers`);
  if (new Set(layers).size !== layers.length) fail('invalid-field', `${what} lists a layer twice`);
  const scales = precision === 'i8' ? arr(x.scales, `${what} scales`, layers.length) : [];
  if (precision === 'i8' && scales.length !== layers.length) fail('invalid-field', `${what} has ${scales.length} scales for ${layers.length} layers`);
  const out: Record<number, Float32Array> = {};
  layers.forEach((l, k) => {
    if (precision === 'f32') out[l] = readF32(reader, hidden, `${what} layer ${l}`);
    else {
      const scale = num(scales[k], `${what} scale of layer ${l}`, Number.MIN_VALUE, Number.MAX_VALUE);
      const b = reader.take(hidden, `${what} layer ${l}`);
      out[l] = unpackInt8(new Int8Array(b.buffer, b.byteOffset, b.length), scale);
    }
  });
  let steer: Record<number, Float32Array> | undefined;
  if (x.steer !== undefined) {
    const ls = arr(x.steer, `${what} orthogonalised layers`, LIMITS.cutLayers).map((l) => num(l, `${what} orthogonalised layer`, 0, LIMITS.layer, true));
    if (new Set(ls).size !== ls.length) fail('invalid-field', `${what} lists an orthogonalised layer twice`);
    steer = {};
    for (const l of ls) {
      if (!layers.includes(l)) fail('invalid-field', `${what} has an orthogonalised direction at layer ${l} but no vector there`);
      steer[l] = readF32(reader, hidden, `${what} orthogonalised direction at layer ${l}`);
    }
  }
  const calibration: PresetVector['calibration'] = {};
  if (x.cal !== undefined) {
    if (!isObject(x.cal)) fail('invalid-field', `${what} calibration must be an object`);
    for (const [k, c] of Object.entries(x.cal)) {
      const l = /^\d{1,3}$/.test(k) ? Number(k) : -1;
      if (!layers.includes(l)) fail('invalid-field', `${what} calibration names layer "${k}", which it does not carry`);
      if (!Array.isArray(c) || c.length !== 2) fail('invalid-field', `${what} calibration of layer ${k} must be [center, scale]`);
      const center = num(c[0], `${what} calibration center`, -Number.MAX_VALUE, Number.MAX_VALUE);
      const scale = num(c[1], `${what} calibration scale`, -Number.MAX_VALUE, Number.MAX_VALUE);
      if (scale === 0) fail('out-of-range', `${what} calibration scale is 0`);
      calibration[l] = { center, scale };
    }
  }
  return { id, customLabel, hidden, precision, layers: out, calibration, ...(steer ? { steer } : {}) };
}

function traitFromWire(x: unknown, i: number, known: ReadonlySet<string>): PresetTrait {
  const what = `trait ${i + 1}`;
  if (!isObject(x)) fail('invalid-field', `${what} must be an object`);
  const id = str(x.id, `${what} id`, 64, 1);
  if (!known.has(id)) fail('unknown-trait', `unknown trait ${JSON.stringify(id)} (not built in, not a custom trait of this link)`);
  const strength = num(x.s, `strength of "${id}"`, -MAX_TYPED_STRENGTH, MAX_TYPED_STRENGTH);
  if (typeof x.m !== 'string' || !(MODES as readonly string[]).includes(x.m)) fail('invalid-field', `mode of "${id}" must be one of ${MODES.join(', ')}`);
  const layer = x.l === null ? null : num(x.l, `layer of "${id}"`, 0, LIMITS.layer, true);
  if (typeof x.e !== 'boolean') fail('invalid-field', `enabled flag of "${id}" must be true or false`);
  return { id, strength, mode: x.m as PresetTrait['mode'], layer, enabled: x.e };
}

export function fromWire(w: unknown, bytes: Uint8Array, ctx: DecodeContext): Preset {
  if (!isObject(w)) fail('invalid-field', 'the preset must be an object');
  const model = str(w.model, 'model', LIMITS.modelChars, 1);
  const ref = checkModelRef(model, ctx.siteModels);
  if (!ref.ok) fail('bad-model', ref.message);
  if (typeof w.dtype !== 'string' || !(DTYPE_CHOICES as readonly string[]).includes(w.dtype))
    fail('invalid-field', `weights must be one of ${DTYPE_CHOICES.join(', ')}`);
  const cutLayers = arr(w.cut, 'steering layers', LIMITS.cutLayers).map((l, i) => num(l, `steering layer ${i + 1}`, 0, LIMITS.layer, true));
  const reader = new ByteReader(bytes);
  const vectors = arr(w.vec, 'vectors', LIMITS.traits).map((v, i) => vectorFromWire(v, i, ctx, reader));
  if (reader.left() !== 0) fail('invalid-field', `the vector data has ${reader.left()} bytes more than the vectors listed`);
  if (new Set(vectors.map((v) => v.id)).size !== vectors.length) fail('invalid-field', 'two vectors have the same trait id');
  const customIds = vectors.filter((v) => v.customLabel !== null).map((v) => v.id);
  if (customIds.length > LIMITS.custom) fail('out-of-range', `the link has ${customIds.length} custom traits, at most ${LIMITS.custom}`);
  const known = new Set([...ctx.knownTraitIds, ...customIds]);
  const traits = arr(w.traits, 'traits', LIMITS.traits).map((t, i) => traitFromWire(t, i, known));
  if (new Set(traits.map((t) => t.id)).size !== traits.length) fail('invalid-field', 'a trait is listed twice');
  const systemPrompt = str(w.system, 'system prompt', LIMITS.systemChars);
  if (!isObject(w.sampling)) fail('invalid-field', 'sampling must be an object');
  const s = w.sampling;
  const sampling = {
    temperature: num(s.t, 'temperature', 0, 10),
    topK: num(s.k, 'top-k', 0, 1e6, true),
    topP: num(s.p, 'top-p', 0, 1),
    repetitionPenalty: num(s.r, 'repetition penalty', 1, 10),
    seed: num(s.seed, 'seed', 0, 2 ** 32 - 1, true),
  };
  const problem = validateSampling(sampling);
  if (problem) fail('out-of-range', problem);
  const maxNewTokens = num(w.max, 'max new tokens', 1, LIMITS.maxNewTokens, true);
  if (w.orth !== undefined && w.orth !== true) fail('invalid-field', 'the orthogonalised-steering flag must be true when present');
  const orthogonal = w.orth === true ? { orthogonal: true } : {};
  return { model, dtype: w.dtype as Preset['dtype'], cutLayers, traits, vectors, systemPrompt, sampling, maxNewTokens, ...orthogonal };
}
