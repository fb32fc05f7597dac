/** The share-link codec: round trip of every field, and a corpus of bad links. */
import { describe, expect, it } from 'vitest';
import { base64urlToBytes, bytesToBase64url, textToBase64url } from '../../../src/presets/base64url';
import { BUILTIN_PRESETS } from '../../../src/presets/builtins';
import { checksum } from '../../../src/presets/checksum';
import { decodePreset, encodePreset, HASH_KEY, validatePreset, type PresetErrorCode } from '../../../src/presets/codec';
import { packLayer, unpackLayer } from '../../../src/presets/int8-vector';
import { LIMITS, type Preset } from '../../../src/presets/preset';

const known = new Set(['openness', 'extraversion', 'impatience', 'skepticism', 'agreeableness', 'neuroticism', 'conscientiousness']);
const ctx = { knownTraitIds: known };

function vec(hidden: number, seed: number): Float32Array {
  return Float32Array.from({ length: hidden }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * (1 + (i % 5)));
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
  ],
  custom: [{ id: 'my-pirate', label: 'Pirate ☠ talk', hidden: 960, layers: { 8: vec(960, 1), 16: vec(960, 2) } }],
  systemPrompt: 'Tu es un assistant « joyeux ». 🎉\nLine two.',
  sampling: { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.15, seed: 123456789 },
  maxNewTokens: 200,
};

/** A link whose payload is the given JSON with a correct checksum (to test field validation). */
function linkOf(json: unknown, version = 1): string {
  const payload = textToBase64url(JSON.stringify(json));
  return `#${HASH_KEY}${version}.${payload}.${checksum(payload)}`;
}

function wire(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'a/b',
    dtype: 'q4',
    cut: [],
    traits: [{ id: 'openness', s: 0.5, m: 'add', l: null, e: true }],
    custom: [],
    system: '',
    sampling: { t: 0, k: 0, p: 1, r: 1.1, seed: 1 },
    max: 64,
    ...patch,
  };
}

describe('base64url and int8 vectors', () => {
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
    const p = packLayer(x);
    expect(p.q.length).toBe(768); // 576 bytes as base64url
    const y = unpackLayer(p, 576) as Float32Array;
    const max = Math.max(...x.map(Math.abs));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(max / 127 / 2 + 1e-6);
    expect(unpackLayer(p, 575)).toMatch(/576 values, expected 575/);
    expect(unpackLayer({ s: 0, q: p.q }, 576)).toMatch(/scale/);
    expect(unpackLayer(packLayer(new Float32Array(4)), 4)).toEqual(new Float32Array(4));
  });
});

describe('preset codec: round trip', () => {
  it('restores every field (custom vectors to int8 precision)', () => {
    const hash = encodePreset(full);
    expect(hash.startsWith(`${HASH_KEY}1.`)).toBe(true);
    const r = decodePreset('#' + hash, ctx);
    if (!r.ok) throw new Error(r.error.message);
    const p = r.preset;
    expect({ ...p, custom: [] }).toEqual({ ...full, custom: [] });
    expect(p.custom).toHaveLength(1);
    const [c] = p.custom;
    expect({ id: c.id, label: c.label, hidden: c.hidden, layers: Object.keys(c.layers) }).toEqual({
      id: 'my-pirate',
      label: 'Pirate ☠ talk',
      hidden: 960,
      layers: ['8', '16'],
    });
    for (const l of [8, 16]) {
      const x = full.custom[0].layers[l];
      const max = Math.max(...x.map(Math.abs));
      c.layers[l].forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThanOrEqual(max / 254 + 1e-6));
    }
  });

  it('keeps a link with a custom trait of two 960-wide layers short (int8 + base64url)', () => {
    // 2 × 960 int8 values: base64url in JSON, base64url again: ≈ 1920 · 16/9 characters, plus the rest.
    const n = encodePreset(full).length;
    expect(n).toBeLessThan(1920 * (16 / 9) + 1000);
    expect(n).toBeLessThan(LIMITS.linkChars / 3);
  });

  it('round-trips each dtype, mode and boundary value', () => {
    for (const dtype of ['auto', 'q4', 'q4f16', 'fp16', 'fp32'] as const) {
      for (const mode of ['add', 'clamp', 'ablate'] as const) {
        const p: Preset = { ...full, dtype, custom: [], traits: [{ id: 'openness', strength: -1, mode, layer: 255, enabled: true }], maxNewTokens: 1 };
        const r = decodePreset(encodePreset(p), ctx);
        expect(r.ok && r.preset).toEqual(p);
      }
    }
  });

  it('validatePreset agrees with the decoder', () => {
    expect(validatePreset(full, ctx)).toBeNull();
    expect(validatePreset({ ...full, traits: [{ id: 'nope', strength: 0, mode: 'add', layer: null, enabled: true }] }, ctx)?.code).toBe('unknown-trait');
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

describe('preset codec: bad links', () => {
  const good = '#' + encodePreset(full);
  const [, payload, sum] = good.slice(1 + HASH_KEY.length).split('.');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const corpus: [string, string, PresetErrorCode][] = [
    ['empty', '', 'empty'],
    ['only a hash sign', '#', 'empty'],
    ['garbage', '#hello world', 'not-a-preset'],
    ['no version', `#${HASH_KEY}x.${payload}.${sum}`, 'not-a-preset'],
    ['wrong version', `#${HASH_KEY}2.${payload}.${sum}`, 'wrong-version'],
    ['version 0', `#${HASH_KEY}0.${payload}.${sum}`, 'wrong-version'],
    ['cut in the payload', good.slice(0, 60), 'truncated'],
    ['cut in the checksum', good.slice(0, -3), 'truncated'],
    ['truncated base64 (length ≡ 1 mod 4)', `#${HASH_KEY}1.${payload.slice(0, 4 * 10 + 1)}.${checksum(payload.slice(0, 41))}`, 'truncated'],
    ['flipped payload byte', `#${HASH_KEY}1.${flip(payload, 30)}.${sum}`, 'bad-checksum'],
    ['flipped checksum byte', `#${HASH_KEY}1.${payload}.${sum.slice(0, 7)}${sum[7] === '0' ? '1' : '0'}`, 'bad-checksum'],
    ['non-base64 characters', `#${HASH_KEY}1.${payload.slice(0, 20)}%%${payload.slice(22)}.${sum}`, 'bad-encoding'],
    ['extra parts', `${good}.ffffffff`, 'bad-encoding'],
    ['huge', `#${HASH_KEY}1.${'A'.repeat(20_000)}.00000000`, 'too-large'],
    ['not JSON', `#${HASH_KEY}1.${textToBase64url('{nope')}.${checksum(textToBase64url('{nope'))}`, 'bad-json'],
    ['not an object', linkOf([1, 2, 3]), 'invalid-field'],
    ['NaN strength (null in JSON)', linkOf(wire({ traits: [{ id: 'openness', s: null, m: 'add', l: null, e: true }] })), 'not-finite'],
    ['NaN strength (text)', linkOf(wire({ traits: [{ id: 'openness', s: 'NaN', m: 'add', l: null, e: true }] })), 'not-finite'],
    ['strength beyond the typed ±10', linkOf(wire({ traits: [{ id: 'openness', s: 10.5, m: 'add', l: null, e: true }] })), 'out-of-range'],
    ['unknown trait id', linkOf(wire({ traits: [{ id: 'charisma', s: 0.1, m: 'add', l: null, e: true }] })), 'unknown-trait'],
    ['unknown mode', linkOf(wire({ traits: [{ id: 'openness', s: 0.1, m: 'boost', l: null, e: true }] })), 'invalid-field'],
    ['fractional layer', linkOf(wire({ traits: [{ id: 'openness', s: 0.1, m: 'add', l: 2.5, e: true }] })), 'out-of-range'],
    ['negative layer', linkOf(wire({ cut: [-1] })), 'out-of-range'],
    ['unknown dtype', linkOf(wire({ dtype: 'int3' })), 'invalid-field'],
    ['empty model', linkOf(wire({ model: '' })), 'invalid-field'],
    ['temperature out of range', linkOf(wire({ sampling: { t: 99, k: 0, p: 1, r: 1, seed: 1 } })), 'out-of-range'],
    ['top-p 0', linkOf(wire({ sampling: { t: 1, k: 0, p: 0, r: 1, seed: 1 } })), 'out-of-range'],
    ['max tokens 0', linkOf(wire({ max: 0 })), 'out-of-range'],
    ['system prompt too long', linkOf(wire({ system: 'x'.repeat(LIMITS.systemChars + 1) })), 'out-of-range'],
    ['too many traits', linkOf(wire({ traits: Array.from({ length: 40 }, () => ({ id: 'openness', s: 0, m: 'add', l: null, e: true })) })), 'out-of-range'],
    ['trait listed twice', linkOf(wire({ traits: [0, 1].map(() => ({ id: 'openness', s: 0, m: 'add', l: null, e: true })) })), 'invalid-field'],
    [
      'custom vector of the wrong size',
      linkOf(wire({ custom: [{ id: 'c', label: 'C', hidden: 8, layers: { 3: { s: 0.1, q: bytesToBase64url(new Uint8Array(7)) } } }] })),
      'invalid-field',
    ],
    [
      'custom vector with a bad scale',
      linkOf(wire({ custom: [{ id: 'c', label: 'C', hidden: 4, layers: { 3: { s: -1, q: bytesToBase64url(new Uint8Array(4)) } } }] })),
      'invalid-field',
    ],
    [
      'custom trait shadowing a built-in',
      linkOf(wire({ custom: [{ id: 'openness', label: 'O', hidden: 4, layers: { 3: { s: 1, q: bytesToBase64url(new Uint8Array(4)) } } }] })),
      'invalid-field',
    ],
    ['missing fields', linkOf({ model: 'a/b' }), 'invalid-field'],
  ];

  it.each(corpus)('%s → a specific error, no throw', (_name, link, code) => {
    const r = decodePreset(link, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(10);
    }
  });

  it('never throws on random mutations of a good link', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 300; i++) {
      const chars = [...good];
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(32 + Math.floor(rand() * 95));
      expect(() => decodePreset(chars.join(''), ctx)).not.toThrow();
    }
  });
});
