/**
 * JSON export/import of trait vectors:
 *   { "format": "traitlab-vector/1", "model", "hidden",
 *     "layers": { "<L>": "<base64 of little-endian float32 × hidden>" },
 *     "calibration"?: { "<L>": { "center", "scale" } },
 *     "separation"?: { "<L>": { "effectSize", "accuracy" } },
 *     "bestLayer"?: L, "trait"?: { id, label, high?, low? }, "datasetVersion"?: string }
 * `trait` names the trait the vector belongs to (a built-in id restores that trait's slider on
 * import); `model` is the model it was made for.
 * Layer keys follow TraitVector: L = residual after 0-based decoder layer L.
 */
import type { TraitVector } from '../steering/vector';
import type { Calibration } from './calibration';
import type { LayerSeparation } from './extracted';

export const VECTOR_FORMAT = 'traitlab-vector/1';

/** What a vector file keeps of a layer's separation. */
export type SeparationSummary = Pick<LayerSeparation, 'effectSize' | 'accuracy'>;

export interface TraitVectorFile {
  vector: TraitVector;
  calibration?: Record<number, Calibration>;
  separation?: Record<number, SeparationSummary>;
  bestLayer?: number;
  trait?: { id: string; label: string; high?: string; low?: string };
  datasetVersion?: string;
}

export function floatsToBase64(x: Float32Array): string {
  const b = new Uint8Array(x.length * 4);
  const dv = new DataView(b.buffer);
  x.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToFloats(s: string, what = 'value'): Float32Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new Error(`vector JSON: ${what} is not valid base64`);
  }
  if (bin.length % 4 !== 0) throw new Error(`vector JSON: ${what} has ${bin.length} bytes, not a whole number of float32 values`);
  const dv = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) dv.setUint8(i, bin.charCodeAt(i));
  const out = new Float32Array(bin.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

function perLayer<T>(rec: Record<number, T> | undefined, f: (v: T) => unknown): Record<string, unknown> | undefined {
  if (!rec) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) out[k] = f(v as T);
  return out;
}

/** The JSON object (call JSON.stringify on it). */
export function vectorToJson(file: TraitVectorFile): Record<string, unknown> {
  const v = file.vector;
  const json: Record<string, unknown> = {
    format: VECTOR_FORMAT,
    model: v.model,
    hidden: v.hidden,
    layers: perLayer(v.layers, (x) => floatsToBase64(x)),
  };
  if (file.calibration) json.calibration = perLayer(file.calibration, (c) => ({ center: c.center, scale: c.scale }));
  if (file.separation) json.separation = perLayer(file.separation, (s) => ({ effectSize: s.effectSize, accuracy: s.accuracy }));
  if (file.bestLayer !== undefined) json.bestLayer = file.bestLayer;
  if (file.trait) json.trait = { ...file.trait };
  if (file.datasetVersion !== undefined) json.datasetVersion = file.datasetVersion;
  return json;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function layerKey(k: string, what: string): number {
  if (!/^\d+$/.test(k)) throw new Error(`vector JSON: ${what} key "${k}" is not a layer index`);
  return Number(k);
}

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`vector JSON: ${what} must be a finite number`);
  return x;
}

/** Parse and check a vector JSON object (or its text). `expectedHidden` rejects other sizes. */
export function vectorFromJson(input: unknown, expectedHidden?: number): TraitVectorFile {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new Error(`vector JSON: not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }
  if (!isObject(json)) throw new Error('vector JSON: expected an object');
  if (json.format !== VECTOR_FORMAT) throw new Error(`vector JSON: wrong format tag ${JSON.stringify(json.format)} (expected "${VECTOR_FORMAT}")`);
  if (typeof json.model !== 'string') throw new Error('vector JSON: "model" must be a string');
  const hidden = json.hidden;
  if (typeof hidden !== 'number' || !Number.isInteger(hidden) || hidden < 1) throw new Error('vector JSON: "hidden" must be a positive integer');
  if (expectedHidden !== undefined && hidden !== expectedHidden)
    throw new Error(`vector JSON: vector has hidden size ${hidden}, the model has ${expectedHidden}`);
  if (!isObject(json.layers)) throw new Error('vector JSON: "layers" must be an object of layer → base64');
  const layers: Record<number, Float32Array> = {};
  for (const [k, v] of Object.entries(json.layers)) {
    const l = layerKey(k, 'layers');
    if (typeof v !== 'string') throw new Error(`vector JSON: layer ${k} must be a base64 string`);
    const x = base64ToFloats(v, `layer ${k}`);
    if (x.length !== hidden) throw new Error(`vector JSON: layer ${k} has ${x.length} values, expected ${hidden}`);
    if (!x.every(Number.isFinite)) throw new Error(`vector JSON: layer ${k} has non-finite values`);
    layers[l] = x;
  }
  if (Object.keys(layers).length === 0) throw new Error('vector JSON: no layers');
  const out: TraitVectorFile = { vector: { model: json.model, hidden, layers } };
  if (json.calibration !== undefined) {
    if (!isObject(json.calibration)) throw new Error('vector JSON: "calibration" must be an object');
    out.calibration = {};
    for (const [k, c] of Object.entries(json.calibration)) {
      if (!isObject(c)) throw new Error(`vector JSON: calibration ${k} must be an object`);
      const scale = finite(c.scale, `calibration ${k}.scale`);
      if (scale === 0) throw new Error(`vector JSON: calibration ${k}.scale is 0`);
      out.calibration[layerKey(k, 'calibration')] = { center: finite(c.center, `calibration ${k}.center`), scale };
    }
  }
  if (json.separation !== undefined) {
    if (!isObject(json.separation)) throw new Error('vector JSON: "separation" must be an object');
    out.separation = {};
    for (const [k, s] of Object.entries(json.separation)) {
      if (!isObject(s)) throw new Error(`vector JSON: separation ${k} must be an object`);
      const e = s.effectSize;
      // Infinity is not JSON; a perfectly separated layer is stored as null → Infinity.
      const effectSize = e === null ? Infinity : finite(e, `separation ${k}.effectSize`);
      out.separation[layerKey(k, 'separation')] = { effectSize, accuracy: finite(s.accuracy, `separation ${k}.accuracy`) };
    }
  }
  if (json.bestLayer !== undefined) {
    const b = json.bestLayer;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0) throw new Error('vector JSON: "bestLayer" must be a layer index');
    out.bestLayer = b;
  }
  if (json.trait !== undefined) {
    const t = json.trait;
    if (!isObject(t) || [t.id, t.label].some((x) => typeof x !== 'string') || [t.high, t.low].some((x) => x !== undefined && typeof x !== 'string')) {
      throw new Error('vector JSON: "trait" must be { id, label, high?, low? } strings');
    }
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(t.id as string))
      throw new Error(`vector JSON: trait id ${JSON.stringify(t.id)} must be lower-case letters, digits and dashes`);
    out.trait = { id: t.id as string, label: t.label as string };
    if (typeof t.high === 'string') out.trait.high = t.high;
    if (typeof t.low === 'string') out.trait.low = t.low;
  }
  if (json.datasetVersion !== undefined) {
    if (typeof json.datasetVersion !== 'string') throw new Error('vector JSON: "datasetVersion" must be a string');
    out.datasetVersion = json.datasetVersion;
  }
  return out;
}
