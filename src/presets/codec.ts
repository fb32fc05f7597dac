/**
 * Share-link codec. A link's hash is `#preset=<version>.<payload>.<checksum>`:
 *   payload  = base64url(deflate-raw(envelope)),  envelope = u32le(n) ‖ n bytes of UTF-8 JSON ‖ vector bytes
 *   checksum = FNV-1a 32 of the payload text (8 hex digits), so edits and cut-off links are caught.
 * The JSON and the vector bytes are described in wire.ts. A preset file is the same hash body in
 * a small JSON document (for setups too large for a link). Decoding never throws: every
 * problem is a specific error code with a readable message.
 */
import { base64urlToBytes, bytesToBase64url } from './base64url';
import { checksum } from './checksum';
import { deflateRaw, inflateRaw } from './deflate';
import { LIMITS, PRESET_VERSION, type Preset } from './preset';
import { fail, fromWire, PresetInvalid, toWire, type DecodeContext, type PresetErrorCode } from './wire';

export type { DecodeContext, PresetErrorCode } from './wire';

export const HASH_KEY = 'preset=';
export const PRESET_FILE_FORMAT = 'traitlab-preset/2';

export interface PresetError {
  code: PresetErrorCode;
  message: string;
}

export type DecodeResult = { ok: true; preset: Preset } | { ok: false; error: PresetError };

/** The hash body (without '#'). */
export async function encodePreset(p: Preset): Promise<string> {
  const { json, bytes } = toWire(p);
  const text = new TextEncoder().encode(JSON.stringify(json));
  const envelope = new Uint8Array(4 + text.length + bytes.length);
  new DataView(envelope.buffer).setUint32(0, text.length, true);
  envelope.set(text, 4);
  envelope.set(bytes, 4 + text.length);
  const payload = bytesToBase64url(await deflateRaw(envelope));
  return `${HASH_KEY}${PRESET_VERSION}.${payload}.${checksum(payload)}`;
}

async function unpack(payload: string, ctx: DecodeContext): Promise<Preset> {
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) fail('bad-encoding', 'The preset holds characters that are not base64url.');
  if (payload.length % 4 === 1) fail('truncated', 'The preset data is cut off (incomplete base64).');
  const packed = base64urlToBytes(payload);
  if (!packed) fail('bad-encoding', 'The preset data is not valid base64url.');
  let envelope: Uint8Array;
  try {
    envelope = await inflateRaw(packed, LIMITS.inflatedBytes);
  } catch (err) {
    if (err instanceof RangeError) fail('too-large', `The preset data ${err.message}.`);
    fail('bad-encoding', 'The preset data is damaged (it does not decompress).');
  }
  if (envelope.length < 4) fail('truncated', 'The preset data is cut off.');
  const n = new DataView(envelope.buffer, envelope.byteOffset, envelope.length).getUint32(0, true);
  if (4 + n > envelope.length) fail('truncated', 'The preset data is cut off (its settings are incomplete).');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(envelope.subarray(4, 4 + n)));
  } catch {
    fail('bad-json', 'The preset settings are not valid UTF-8 JSON.');
  }
  return fromWire(json, envelope.subarray(4 + n), ctx);
}

function caught(err: unknown): DecodeResult {
  if (err instanceof PresetInvalid) return { ok: false, error: { code: err.code, message: err.message } };
  return { ok: false, error: { code: 'invalid-field', message: `The preset could not be read (${err instanceof Error ? err.message : String(err)}).` } };
}

async function decodeBody(h: string, ctx: DecodeContext): Promise<Preset> {
  if (!h.startsWith(HASH_KEY)) fail('not-a-preset', 'The link does not hold a traitlab preset.');
  const body = h.slice(HASH_KEY.length);
  const dot = body.indexOf('.');
  const version = dot < 0 ? body : body.slice(0, dot);
  if (!/^\d+$/.test(version)) fail('not-a-preset', 'The preset has no version number.');
  if (Number(version) !== PRESET_VERSION)
    fail(
      'wrong-version',
      `The preset is version ${version}; this page reads version ${PRESET_VERSION}${Number(version) < PRESET_VERSION ? ' (ask for a new link)' : ''}.`,
    );
  const parts = body.split('.');
  if (parts.length < 3 || !/^[0-9a-f]{8}$/.test(parts[2])) fail('truncated', 'The link is cut off (its checksum is missing): copy the whole link.');
  if (parts.length > 3) fail('bad-encoding', 'The preset has extra parts after its checksum.');
  if (!/^[A-Za-z0-9_-]*$/.test(parts[1])) fail('bad-encoding', 'The preset holds characters that are not base64url.');
  if (checksum(parts[1]) !== parts[2]) fail('bad-checksum', 'The preset was changed or damaged (checksum mismatch).');
  return unpack(parts[1], ctx);
}

/** Decodes a location hash (with or without '#'). Never throws. */
export async function decodePreset(hash: string, ctx: DecodeContext): Promise<DecodeResult> {
  try {
    const h = hash.startsWith('#') ? hash.slice(1) : hash;
    if (!h.trim()) fail('empty', 'The link has no preset in it.');
    if (h.length > LIMITS.linkChars)
      fail('too-large', `The link is ${h.length} characters long; links are at most ${LIMITS.linkChars} (larger setups travel as a preset file).`);
    return { ok: true, preset: await decodeBody(h, ctx) };
  } catch (err) {
    return caught(err);
  }
}

/** A preset file: `{ "format": "traitlab-preset/2", "preset": "<hash body>" }`. */
export async function encodePresetFile(p: Preset): Promise<string> {
  return JSON.stringify({ format: PRESET_FILE_FORMAT, preset: await encodePreset(p) }, null, 1) + '\n';
}

/** Reads a preset file's text. Never throws. */
export async function decodePresetFile(text: string, ctx: DecodeContext): Promise<DecodeResult> {
  try {
    if (text.length > LIMITS.fileChars) fail('too-large', `The file is ${text.length} characters long; preset files are at most ${LIMITS.fileChars}.`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      fail('bad-json', 'The file is not JSON (expected a traitlab preset file).');
    }
    const doc = json as { format?: unknown; preset?: unknown } | null;
    if (typeof doc !== 'object' || doc === null || doc.format !== PRESET_FILE_FORMAT || typeof doc.preset !== 'string')
      fail('not-a-preset', `The file is not a traitlab preset file (expected "format": "${PRESET_FILE_FORMAT}").`);
    return { ok: true, preset: await decodeBody(doc.preset, ctx) };
  } catch (err) {
    return caught(err);
  }
}
