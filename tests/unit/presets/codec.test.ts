/**
 * The share-link codec: exact round trip of every field and vector, compression, measured
 * sizes against the link budget, preset files, and a corpus of bad and hostile links.
 */
import { describe, expect, it } from 'vitest';
import { base64urlToBytes, bytesToBase64url, textToBase64url } from '../../../src/presets/base64url';
import { BUILTIN_PRESETS } from '../../../src/presets/builtins';
import { checksum } from '../../../src/presets/checksum';
import { decodePreset, decodePresetFile, encodePreset, encodePresetFile, HASH_KEY, type PresetErrorCode } from '../../../src/presets/codec';
import { deflateRaw, inflateRaw } from '../../../src/presets/deflate';
import { packInt8, unpackInt8 } from '../../../src/presets/int8-vector';
import { LIMITS, type Preset, type PresetVector } from '../../../src/presets/preset';
import { mulberry32 } from '../../../src/shared/rng';

const known = new Set(['openness', 'extraversion', 'impatience', 'skepticism', 'agreeableness', 'neuroticism', 'conscientiousness']);
const ctx = { knownTraitIds: known, siteModels: new Set(['/local-models/traitlab/planted-cheerful/']) };

/** Residual-like directions: Gaussian components plus a few large dimensions. */
function vec(hidden: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: hidden }, (_, i) => {
    const g = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
    return g * 0.05 * (i % 97 === 3 ? 30 : 1);
  });
}

function builtinVector(id: string, hidden: number, layer: number, seed: number): PresetVector {
  return {
    id,
    customLabel: null,
    hidden,
    precision: 'f32',
    layers: { [layer]: vec(hidden, seed) },
    calibration: { [layer]: { center: 0.125 * seed, scale: -0.75 } },
  };
}

const full: Preset = {
  model: 'HuggingFaceTB/SmolLM2-360M-Instruct',
  dtype: 'q4f16',
  cutLayers: [8, 16],
  traits: [
    { id: 'extraversion', strength: 0.63, mode: 'add', layer: 16, enabled: true },
    { id: 'impatience', strength: -0.25, mode: 'clamp', layer: null, enabled: false },
    { id: 'openness', strength: 0, mode: 'ablate', layer: 8, enabled: true },
    { id: 'my-pirate', strength: 1, mode: 'add', layer: 8, enabled: true },
    { id: 'lurker', strength: 0, mode: 'add', layer: null, enabled: true },
  ],
  vectors: [
    builtinVector('extraversion', 960, 16, 1),
    builtinVector('openness', 960, 8, 2),
    { id: 'my-pirate', customLabel: 'Pirate ☠ talk', hidden: 960, precision: 'f32', layers: { 8: vec(960, 3) }, calibration: {} },
    {
      id: 'lurker',
      customLabel: 'Lurker',
      hidden: 960,
      precision: 'i8',
      layers: { 8: vec(960, 4), 16: vec(960, 5) },
      calibration: { 8: { center: 1, scale: 2 } },
    },
  ],
  systemPrompt: 'Tu es un assistant « joyeux ». 🎉\nLine two.',
  sampling: { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.15, seed: 123456789 },
  maxNewTokens: 200,
};

/** A link holding the given JSON and vector bytes with a correct checksum (to test field validation). */
async function linkOf(json: unknown, bytes = new Uint8Array(0), version = 2): Promise<string> {
  const text = new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json));
  const env = new Uint8Array(4 + text.length + bytes.length);
  new DataView(env.buffer).setUint32(0, text.length, true);
  env.set(text, 4);
  env.set(bytes, 4 + text.length);
  const payload = bytesToBase64url(await deflateRaw(env));
  return `#${HASH_KEY}${version}.${payload}.${checksum(payload)}`;
}

function wire(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'a/b',
    dtype: 'q4',
    cut: [],
    traits: [{ id: 'openness', s: 0.5, m: 'add', l: null, e: true }],
    vec: [],
    system: '',
    sampling: { t: 0, k: 0, p: 1, r: 1.1, seed: 1 },
    max: 64,
    ...patch,
  };
}

const f32 = (n: number, v = 0.5) => new Uint8Array(new Float32Array(n).fill(v).buffer);

describe('base64url, int8 and deflate', () => {
  it('round-trips bytes of every length and rejects impossible lengths and alphabets', () => {
    for (let n = 0; n < 20; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) & 255);
      const s = bytesToBase64url(b);
      expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(base64urlToBytes(s)).toEqual(b);
    }
    expect(base64urlToBytes('abcde')).toBeNull(); // length 5 ≡ 1 (mod 4)
    expect(base64urlToBytes('ab+/')).toBeNull();
    expect(base64urlToBytes('ab==')).toBeNull();
  });

  it('packs a layer to int8 with a per-layer scale, within half a step of the original', () => {
    const x = vec(576, 3);
    const { scale, q } = packInt8(x);
    const y = unpackInt8(q, scale);
    const max = Math.max(...x.map(Math.abs));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(max / 127 / 2 + 1e-6);
    expect(Array.from(unpackInt8(packInt8(new Float32Array(4)).q, 1))).toEqual([0, 0, 0, 0]);
  });

  it('deflate-raw round-trips, shrinks repetitive data and stops a decompression bomb', async () => {
    const zeros = new Uint8Array(1 << 20);
    const small = await deflateRaw(zeros);
    expect(small.length).toBeLessThan(2000);
    const back = await inflateRaw(small, 1 << 20);
    expect(back.length).toBe(zeros.length);
    expect(back.every((b) => b === 0)).toBe(true);
    await expect(inflateRaw(small, 1000)).rejects.toThrow(/more than 1000 bytes/);
    await expect(inflateRaw(Uint8Array.from([0xff, 0xff, 0xff, 0x00, 0x12]), 1000)).rejects.toThrow();
  });
});

describe('preset codec: round trip', () => {
  it('restores every field; f32 vectors bit for bit, i8 vectors to int8 precision; calibration exact', async () => {
    const hash = await encodePreset(full);
    expect(hash.startsWith(`${HASH_KEY}2.`)).toBe(true);
    const r = await decodePreset('#' + hash, ctx);
    if (!r.ok) throw new Error(r.error.message);
    const p = r.preset;
    expect({ ...p, vectors: [] }).toEqual({ ...full, vectors: [] });
    expect(p.vectors.map((v) => [v.id, v.customLabel, v.precision, Object.keys(v.layers)])).toEqual([
      ['extraversion', null, 'f32', ['16']],
      ['openness', null, 'f32', ['8']],
      ['my-pirate', 'Pirate ☠ talk', 'f32', ['8']],
      ['lurker', 'Lurker', 'i8', ['8', '16']],
    ]);
    for (const [i, v] of p.vectors.entries()) {
      expect(v.calibration).toEqual(full.vectors[i].calibration);
      for (const [l, x] of Object.entries(full.vectors[i].layers)) {
        const y = v.layers[Number(l)];
        if (v.precision === 'f32') expect(new Uint8Array(y.buffer)).toEqual(new Uint8Array(x.buffer));
        else {
          const max = Math.max(...x.map(Math.abs));
          y.forEach((e, j) => expect(Math.abs(e - x[j])).toBeLessThanOrEqual(max / 254 + 1e-6));
        }
      }
    }
  });

  it('round-trips the orthogonalised-steering flag and the exact orthogonalised directions', async () => {
    const steer = vec(960, 9);
    const p: Preset = { ...full, orthogonal: true, vectors: full.vectors.map((v) => (v.id === 'extraversion' ? { ...v, steer: { 16: steer } } : v)) };
    const r = await decodePreset('#' + (await encodePreset(p)), ctx);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.preset.orthogonal).toBe(true);
    const got = r.preset.vectors.find((v) => v.id === 'extraversion')!;
    expect(new Uint8Array(got.steer![16].buffer)).toEqual(new Uint8Array(steer.buffer));
    expect(r.preset.vectors.filter((v) => v.steer).map((v) => v.id)).toEqual(['extraversion']);
    const plain = await decodePreset('#' + (await encodePreset(full)), ctx);
    expect(plain.ok && plain.preset.orthogonal).toBe(undefined);
  });

  it("round-trips each dtype, mode and boundary value, and the site's own demo model", async () => {
    for (const dtype of ['auto', 'q4', 'q4f16', 'fp16', 'fp32'] as const) {
      for (const mode of ['add', 'clamp', 'ablate'] as const) {
        const p: Preset = { ...full, dtype, vectors: [], traits: [{ id: 'openness', strength: -1, mode, layer: 255, enabled: true }], maxNewTokens: 1 };
        const r = await decodePreset(await encodePreset(p), ctx);
        expect(r.ok && r.preset).toEqual(p);
      }
    }
    const demo = { ...full, model: '/local-models/traitlab/planted-cheerful/', vectors: [], traits: [] };
    expect(await decodePreset(await encodePreset(demo), ctx)).toEqual({ ok: true, preset: demo });
  });

  it('a preset file holds the same preset, without the link size limit', async () => {
    const big: Preset = { ...full, vectors: [0, 1, 2, 3, 4].map((i) => builtinVector([...known][i], 2048, 16, i + 1)), traits: [] };
    const text = await encodePresetFile(big);
    expect(JSON.parse(text)).toMatchObject({ format: 'traitlab-preset/2' });
    expect(text.length).toBeGreaterThan(LIMITS.linkChars);
    const r = await decodePresetFile(text, ctx);
    if (!r.ok) throw new Error(r.error.message);
    expect(new Uint8Array(r.preset.vectors[4].layers[16].buffer)).toEqual(new Uint8Array(big.vectors[4].layers[16].buffer));
    expect((await decodePresetFile('{"format":"other"}', ctx)).ok).toBe(false);
    const notJson = await decodePresetFile('GGUF\u0003', ctx);
    expect(!notJson.ok && notJson.error.code).toBe('bad-json');
  });

  it('measures the link size of 5 traits at one layer (exact float32) against the 32 KiB budget', async () => {
    const sizes: Record<number, number> = {};
    for (const hidden of [576, 960, 2048]) {
      const ids = [...known].slice(0, 5);
      const p: Preset = {
        ...full,
        vectors: ids.map((id, i) => builtinVector(id, hidden, 12, 10 * hidden + i)),
        traits: ids.map((id) => ({ id, strength: 0.5, mode: 'add', layer: 12, enabled: true })),
      };
      sizes[hidden] = (await encodePreset(p)).length;
      // Compressed: smaller than the float32 bytes written as base64url.
      expect(sizes[hidden]).toBeLessThan(Math.ceil((5 * hidden * 4 * 4) / 3));
    }
    console.log(`share link characters, 5 traits x 1 layer, float32: ${JSON.stringify(sizes)} (budget ${LIMITS.linkChars})`);
    expect(sizes[576]).toBeLessThan(LIMITS.linkChars);
    expect(sizes[960]).toBeLessThan(LIMITS.linkChars);
    expect(sizes[2048]).toBeGreaterThan(LIMITS.linkChars); // → offered as a preset file
  });

  it('built-in presets only name known traits with strengths in range', () => {
    const all = new Set([...known, 'incoherence']);
    expect(BUILTIN_PRESETS.map((p) => p.label)).toEqual(['Party host', 'Anxious helper', 'Skeptical customer', 'Impatient user']);
    for (const p of BUILTIN_PRESETS) {
      for (const [id, s] of Object.entries(p.strengths)) {
        expect(all.has(id)).toBe(true);
        expect(Math.abs(s)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('preset codec: bad and hostile links', async () => {
  const good = '#' + (await encodePreset(full));
  const [, payload, sum] = good.slice(1 + HASH_KEY.length).split('.');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const custom = (patch: Record<string, unknown>, bytes = f32(4)) =>
    linkOf(wire({ vec: [{ id: 'c', label: 'C', hidden: 4, enc: 'f32', layers: [3], ...patch }], traits: [] }), bytes);
  const bombText = new TextEncoder().encode(JSON.stringify(wire()));
  const bomb = new Uint8Array(4 + bombText.length + LIMITS.inflatedBytes);
  new DataView(bomb.buffer).setUint32(0, bombText.length, true);
  bomb.set(bombText, 4);
  const bombPayload = bytesToBase64url(await deflateRaw(bomb));
  const corpus: [string, string, PresetErrorCode][] = [
    ['empty', '', 'empty'],
    ['only a hash sign', '#', 'empty'],
    ['garbage', '#hello world', 'not-a-preset'],
    ['no version', `#${HASH_KEY}x.${payload}.${sum}`, 'not-a-preset'],
    ['old version 1', `#${HASH_KEY}1.${payload}.${sum}`, 'wrong-version'],
    ['future version', `#${HASH_KEY}3.${payload}.${sum}`, 'wrong-version'],
    ['cut in the payload', good.slice(0, 60), 'truncated'],
    ['cut in the checksum', good.slice(0, -3), 'truncated'],
    ['truncated base64 (length ≡ 1 mod 4)', `#${HASH_KEY}2.${payload.slice(0, 41)}.${checksum(payload.slice(0, 41))}`, 'truncated'],
    ['cut payload with a matching checksum', `#${HASH_KEY}2.${payload.slice(0, 400)}.${checksum(payload.slice(0, 400))}`, 'bad-encoding'],
    ['flipped payload byte', `#${HASH_KEY}2.${flip(payload, 30)}.${sum}`, 'bad-checksum'],
    ['flipped checksum byte', `#${HASH_KEY}2.${payload}.${sum.slice(0, 7)}${sum[7] === '0' ? '1' : '0'}`, 'bad-checksum'],
    ['non-base64 characters', `#${HASH_KEY}2.${payload.slice(0, 20)}%%${payload.slice(22)}.${sum}`, 'bad-encoding'],
    ['extra parts', `${good}.ffffffff`, 'bad-encoding'],
    ['huge', `#${HASH_KEY}2.${'A'.repeat(40_000)}.00000000`, 'too-large'],
    ['decompression bomb', `#${HASH_KEY}2.${bombPayload}.${checksum(bombPayload)}`, 'too-large'],
    ['not deflate data', `#${HASH_KEY}2.${textToBase64url('{"model":1}')}.${checksum(textToBase64url('{"model":1}'))}`, 'bad-encoding'],
    ['not JSON', await linkOf('{nope'), 'bad-json'],
    ['not an object', await linkOf([1, 2, 3]), 'invalid-field'],
    ['NaN strength (null in JSON)', await linkOf(wire({ traits: [{ id: 'openness', s: null, m: 'add', l: null, e: true }] })), 'not-finite'],
    ['strength beyond the typed ±10', await linkOf(wire({ traits: [{ id: 'openness', s: 10.5, m: 'add', l: null, e: true }] })), 'out-of-range'],
    ['unknown trait id', await linkOf(wire({ traits: [{ id: 'charisma', s: 0.1, m: 'add', l: null, e: true }] })), 'unknown-trait'],
    ['unknown mode', await linkOf(wire({ traits: [{ id: 'openness', s: 0.1, m: 'boost', l: null, e: true }] })), 'invalid-field'],
    ['fractional layer', await linkOf(wire({ traits: [{ id: 'openness', s: 0.1, m: 'add', l: 2.5, e: true }] })), 'out-of-range'],
    ['negative layer', await linkOf(wire({ cut: [-1] })), 'out-of-range'],
    ['unknown dtype', await linkOf(wire({ dtype: 'int3' })), 'invalid-field'],
    ['temperature out of range', await linkOf(wire({ sampling: { t: 99, k: 0, p: 1, r: 1, seed: 1 } })), 'out-of-range'],
    ['max tokens 0', await linkOf(wire({ max: 0 })), 'out-of-range'],
    ['system prompt too long', await linkOf(wire({ system: 'x'.repeat(LIMITS.systemChars + 1) })), 'out-of-range'],
    ['trait listed twice', await linkOf(wire({ traits: [0, 1].map(() => ({ id: 'openness', s: 0, m: 'add', l: null, e: true })) })), 'invalid-field'],
    // Model references: hub ids and http(s) URLs only.
    ['empty model', await linkOf(wire({ model: '' })), 'invalid-field'],
    ['javascript: model', await linkOf(wire({ model: 'javascript:alert(1)' })), 'bad-model'],
    ['data: model', await linkOf(wire({ model: 'data:text/html,<script>alert(1)</script>' })), 'bad-model'],
    ['file: model', await linkOf(wire({ model: 'file:///etc/passwd' })), 'bad-model'],
    ['relative path model', await linkOf(wire({ model: '../../etc/passwd' })), 'bad-model'],
    ['site path it does not serve', await linkOf(wire({ model: '/etc/passwd' })), 'bad-model'],
    ['protocol-relative model', await linkOf(wire({ model: '//evil.example/m/' })), 'bad-model'],
    ['model URL with credentials', await linkOf(wire({ model: 'https://user:pw@evil.example/m/' })), 'bad-model'],
    ['hub id with ..', await linkOf(wire({ model: 'a/..' })), 'bad-model'],
    ['model with a newline', await linkOf(wire({ model: 'a/b\nc' })), 'bad-model'],
    // Vectors and hostile trait ids.
    ['f32 vector bytes missing', await custom({}, new Uint8Array(15)), 'truncated'],
    ['extra vector bytes', await custom({}, new Uint8Array(17)), 'invalid-field'],
    ['non-finite f32 value', await custom({}, new Uint8Array(new Float32Array([1, NaN, 0, 0]).buffer)), 'not-finite'],
    ['i8 vector with a bad scale', await custom({ enc: 'i8', scales: [-1] }, new Uint8Array(4)), 'out-of-range'],
    ['i8 vector without scales', await custom({ enc: 'i8' }, new Uint8Array(4)), 'invalid-field'],
    ['unknown encoding', await custom({ enc: 'f64' }), 'invalid-field'],
    ['layer listed twice', await custom({ layers: [3, 3] }, f32(8)), 'invalid-field'],
    ['calibration for a layer not carried', await custom({ cal: { 4: [0, 1] } }), 'invalid-field'],
    ['calibration scale 0', await custom({ cal: { 3: [0, 0] } }), 'out-of-range'],
    ['custom trait shadowing a built-in', await custom({ id: 'openness' }), 'invalid-field'],
    ['custom id __proto__', await custom({ id: '__proto__' }), 'invalid-field'],
    ['custom id constructor', await custom({ id: 'constructor' }), 'invalid-field'],
    ['custom id with markup', await custom({ id: '<img src=x onerror=alert(1)>' }), 'invalid-field'],
    ['custom id too long', await custom({ id: 'a'.repeat(65) }), 'out-of-range'],
    ['built-in vector of an unknown trait', await linkOf(wire({ vec: [{ id: 'charisma', hidden: 4, enc: 'f32', layers: [3] }] }), f32(4)), 'unknown-trait'],
    ['hidden size too large', await custom({ hidden: 100_000 }), 'out-of-range'],
    ['missing fields', await linkOf({ model: 'a/b' }), 'invalid-field'],
    // Orthogonalised steering directions and flag.
    ['orthogonalised direction bytes missing', await custom({ steer: [3] }, f32(4)), 'truncated'],
    ['orthogonalised direction at a layer not carried', await custom({ steer: [4] }, f32(8)), 'invalid-field'],
    ['orthogonalised layer listed twice', await custom({ steer: [3, 3] }, f32(12)), 'invalid-field'],
    ['non-finite orthogonalised value', await custom({ steer: [3] }, new Uint8Array(new Float32Array([1, 0, 0, 0, 0, Infinity, 0, 0]).buffer)), 'not-finite'],
    ['orthogonalised flag not true', await linkOf(wire({ orth: 1 })), 'invalid-field'],
  ];

  it.each(corpus)('%s → a specific error, no throw', async (_name, link, code) => {
    const r = await decodePreset(link, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(10);
    }
  });

  it('names the refused model reference and what is allowed', async () => {
    const r = await decodePreset(await linkOf(wire({ model: 'javascript:alert(1)' })), ctx);
    expect(!r.ok && r.error.message).toMatch(/"javascript:alert\(1\)" uses "javascript:"; only hub ids \(owner\/name\) and http\(s\) URLs are allowed/);
  });

  it('never throws on random mutations of a good link', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 150; i++) {
      const chars = [...good];
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(32 + Math.floor(rand() * 95));
      const r = await decodePreset(chars.join(''), ctx);
      expect(typeof r.ok).toBe('boolean');
    }
  });
});
