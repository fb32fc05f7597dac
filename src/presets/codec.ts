/**
 * Share-link codec. A link's hash is `#preset=<version>.<payload>.<checksum>`:
 *   payload  = base64url(UTF-8 JSON of the wire object below)
 *   checksum = FNV-1a 32 of the payload text (8 hex digits), so edits and cut-off links are caught.
 * decodePreset never throws: every problem is a specific error code with a readable message.
 */
import { MAX_TYPED_STRENGTH } from '../steering/strength';
import { validateSampling } from '../shared/sampling';
import { base64urlToText, textToBase64url } from './base64url';
import { checksum } from './checksum';
import { packLayer, unpackLayer, type PackedLayer } from './int8-vector';
import { MODES } from '../steering/mode';
import { DTYPE_CHOICES, LIMITS, PRESET_VERSION, type Preset, type PresetCustomTrait, type PresetTrait } from './preset';

export const HASH_KEY = 'preset=';

export type PresetErrorCode =
  | 'empty'
  | 'too-large'
  | 'not-a-preset'
  | 'wrong-version'
  | 'truncated'
  | 'bad-encoding'
  | 'bad-checksum'
  | 'bad-json'
  | 'invalid-field'
  | 'not-finite'
  | 'out-of-range'
  | 'unknown-trait';

export interface PresetError {
  code: PresetErrorCode;
  message: string;
}

export type DecodeResult = { ok: true; preset: Preset } | { ok: false; error: PresetError };

export interface DecodeContext {
  /** Ids of the built-in traits; any other trait id must be a custom trait of the same link. */
  knownTraitIds: ReadonlySet<string>;
}

interface WireTrait {
  id: string;
  s: number;
  m: string;
  l: number | null;
  e: boolean;
}
interface WireCustom {
  id: string;
  label: string;
  hidden: number;
  layers: Record<string, PackedLayer>;
}
interface WirePreset {
  model: string;
  dtype: string;
  cut: number[];
  traits: WireTrait[];
  custom: WireCustom[];
  system: string;
  sampling: { t: number; k: number; p: number; r: number; seed: number };
  max: number;
}

function toWire(p: Preset): WirePreset {
  return {
    model: p.model,
    dtype: p.dtype,
    cut: p.cutLayers,
    traits: p.traits.map((t) => ({ id: t.id, s: t.strength, m: t.mode, l: t.layer, e: t.enabled })),
    custom: p.custom.map((c) => ({
      id: c.id,
      label: c.label,
      hidden: c.hidden,
      layers: Object.fromEntries(Object.entries(c.layers).map(([k, x]) => [k, packLayer(x)])),
    })),
    system: p.systemPrompt,
    sampling: { t: p.sampling.temperature, k: p.sampling.topK, p: p.sampling.topP, r: p.sampling.repetitionPenalty, seed: p.sampling.seed },
    max: p.maxNewTokens,
  };
}

/** The hash body (without '#'). */
export function encodePreset(p: Preset): string {
  const payload = textToBase64url(JSON.stringify(toWire(p)));
  return `${HASH_KEY}${PRESET_VERSION}.${payload}.${checksum(payload)}`;
}

class Invalid extends Error {
  constructor(
    readonly code: PresetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: PresetErrorCode, message: string): never {
  throw new Invalid(code, message);
}

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

function layerKey(k: string, what: string): number {
  if (!/^\d{1,3}$/.test(k)) fail('invalid-field', `${what}: "${k}" is not a layer number`);
  return num(Number(k), what, 0, LIMITS.layer, true);
}

function customFromWire(x: unknown, i: number): PresetCustomTrait {
  const what = `custom trait ${i + 1}`;
  if (!isObject(x)) fail('invalid-field', `${what} must be an object`);
  const id = str(x.id, `${what} id`, 64, 1);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) fail('invalid-field', `${what} id "${id}" must be lower-case letters, digits and dashes`);
  const label = str(x.label, `${what} label`, LIMITS.labelChars, 1);
  const hidden = num(x.hidden, `${what} hidden size`, 1, LIMITS.hidden, true);
  if (!isObject(x.layers)) fail('invalid-field', `${what} layers must be an object`);
  const entries = Object.entries(x.layers);
  if (entries.length === 0) fail('invalid-field', `${what} has no layers`);
  if (entries.length > LIMITS.cutLayers) fail('out-of-range', `${what} has ${entries.length} layers, at most ${LIMITS.cutLayers}`);
  const layers: Record<number, Float32Array> = {};
  for (const [k, v] of entries) {
    const layer = layerKey(k, `${what} layer`);
    if (!isObject(v)) fail('invalid-field', `${what} layer ${k} must be an object`);
    const x2 = unpackLayer(v as unknown as PackedLayer, hidden);
    if (typeof x2 === 'string') fail('invalid-field', `${what} layer ${k} ${x2}`);
    layers[layer] = x2;
  }
  return { id, label, hidden, layers };
}

function traitFromWire(x: unknown, i: number, known: ReadonlySet<string>): PresetTrait {
  const what = `trait ${i + 1}`;
  if (!isObject(x)) fail('invalid-field', `${what} must be an object`);
  const id = str(x.id, `${what} id`, 64, 1);
  if (!known.has(id)) fail('unknown-trait', `unknown trait "${id}" (not built in, not a custom trait of this link)`);
  const strength = num(x.s, `strength of "${id}"`, -MAX_TYPED_STRENGTH, MAX_TYPED_STRENGTH);
  if (typeof x.m !== 'string' || !(MODES as readonly string[]).includes(x.m)) fail('invalid-field', `mode of "${id}" must be one of ${MODES.join(', ')}`);
  const layer = x.l === null ? null : num(x.l, `layer of "${id}"`, 0, LIMITS.layer, true);
  if (typeof x.e !== 'boolean') fail('invalid-field', `enabled flag of "${id}" must be true or false`);
  return { id, strength, mode: x.m as PresetTrait['mode'], layer, enabled: x.e };
}

function fromWire(w: unknown, ctx: DecodeContext): Preset {
  if (!isObject(w)) fail('invalid-field', 'the preset must be an object');
  const model = str(w.model, 'model', LIMITS.modelChars, 1);
  if (typeof w.dtype !== 'string' || !(DTYPE_CHOICES as readonly string[]).includes(w.dtype))
    fail('invalid-field', `weights must be one of ${DTYPE_CHOICES.join(', ')}`);
  const cutLayers = arr(w.cut, 'steering layers', LIMITS.cutLayers).map((l, i) => num(l, `steering layer ${i + 1}`, 0, LIMITS.layer, true));
  const custom = arr(w.custom, 'custom traits', LIMITS.custom).map(customFromWire);
  const customIds = new Set(custom.map((c) => c.id));
  if (customIds.size !== custom.length) fail('invalid-field', 'two custom traits have the same id');
  for (const id of customIds) if (ctx.knownTraitIds.has(id)) fail('invalid-field', `custom trait "${id}" has the id of a built-in trait`);
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
  return { model, dtype: w.dtype as Preset['dtype'], cutLayers, traits, custom, systemPrompt, sampling, maxNewTokens };
}

/** Decodes a location hash (with or without '#'). Never throws. */
export function decodePreset(hash: string, ctx: DecodeContext): DecodeResult {
  try {
    const h = hash.startsWith('#') ? hash.slice(1) : hash;
    if (!h.trim()) fail('empty', 'The link has no preset in it.');
    if (h.length > LIMITS.linkChars) fail('too-large', `The link is ${h.length} characters long; presets are at most ${LIMITS.linkChars}.`);
    if (!h.startsWith(HASH_KEY)) fail('not-a-preset', 'The link does not hold a traitlab preset.');
    const body = h.slice(HASH_KEY.length);
    const dot = body.indexOf('.');
    const version = dot < 0 ? body : body.slice(0, dot);
    if (!/^\d+$/.test(version)) fail('not-a-preset', 'The preset has no version number.');
    if (Number(version) !== PRESET_VERSION) fail('wrong-version', `The preset is version ${version}; this page reads version ${PRESET_VERSION}.`);
    const parts = body.split('.');
    if (parts.length < 3 || !/^[0-9a-f]{8}$/.test(parts[2])) fail('truncated', 'The link is cut off (its checksum is missing): copy the whole link.');
    if (parts.length > 3) fail('bad-encoding', 'The preset has extra parts after its checksum.');
    const payload = parts[1];
    if (!/^[A-Za-z0-9_-]*$/.test(payload)) fail('bad-encoding', 'The preset holds characters that are not base64url.');
    if (payload.length % 4 === 1) fail('truncated', 'The preset data is cut off (incomplete base64).');
    if (checksum(payload) !== parts[2]) fail('bad-checksum', 'The preset was changed or damaged (checksum mismatch).');
    const text = base64urlToText(payload);
    if (text === null) fail('bad-encoding', 'The preset data is not valid base64url UTF-8.');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      fail('bad-json', 'The preset data is not valid JSON.');
    }
    return { ok: true, preset: fromWire(json, ctx) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'invalid-field', message: `The preset could not be read (${err instanceof Error ? err.message : String(err)}).` } };
  }
}

/** Checks a preset the app is about to encode (same rules as decoding); null = fine. */
export function validatePreset(p: Preset, ctx: DecodeContext): PresetError | null {
  const r = decodePreset(encodePreset(p), ctx);
  return r.ok ? null : r.error;
}
