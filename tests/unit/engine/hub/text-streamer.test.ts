import { describe, expect, it } from 'vitest';
import { ChatTokenizer, TextStreamer } from '../../../../src/engine/hub/tokenizer';

/** A byte-level fake: token id = one UTF-8 byte, decoded with replacement characters like a real BPE decoder. */
const fake = {
  decode: (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids)),
  encode: (t: string) => Array.from(new TextEncoder().encode(t)),
} as unknown as ConstructorParameters<typeof ChatTokenizer>[0];

describe('TextStreamer', () => {
  it('streams the exact text, holding back incomplete UTF-8, for long outputs', () => {
    const tok = new ChatTokenizer(fake);
    const text = 'Héllo wörld — 😀 ünïcode! '.repeat(20);
    const ids = tok.encode(text);
    const s = new TextStreamer(tok);
    let out = '';
    for (let i = 1; i <= ids.length; i++) {
      const delta = s.push(ids.slice(0, i));
      expect(delta).not.toContain('\uFFFD');
      out += delta;
    }
    expect(out).toBe(text);
    expect(s.text).toBe(text);
  });
});
