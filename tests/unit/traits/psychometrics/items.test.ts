/** Item files: the built-in set's structure, JSON and CSV import, and clear messages for bad files. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsvRows, parseItemFile, parseKey, traitsOf } from '../../../../src/traits/psychometrics/items';

const BIG_FIVE = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];

describe('built-in item set', () => {
  const r = parseItemFile(readFileSync('public/psychometrics/items.json', 'utf8'), 'items.json');
  it('parses, with >= 10 items per Big Five trait (half reverse-keyed) and the user and planted traits', () => {
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    const counts = Object.fromEntries(traitsOf(r.set.items).map((t) => [t.trait, t]));
    for (const t of BIG_FIVE) {
      expect(counts[t].forward + counts[t].reverse, t).toBeGreaterThanOrEqual(10);
      expect(counts[t].forward, t).toBe(counts[t].reverse);
    }
    for (const t of ['impatience', 'skepticism', 'incoherence']) {
      expect(counts[t].forward, t).toBeGreaterThanOrEqual(3);
      expect(counts[t].reverse, t).toBe(counts[t].forward);
    }
    expect(counts['planted-cheerful'].forward).toBeGreaterThanOrEqual(3);
  });
  it('uses trait ids that exist in public/traits', () => {
    if (!r.ok) return;
    const index = JSON.parse(readFileSync('public/traits/index.json', 'utf8')) as { traits: { id: string }[] };
    const ids = new Set(index.traits.map((t) => t.id));
    for (const t of traitsOf(r.set.items)) expect(ids.has(t.trait), t.trait).toBe(true);
  });
});

describe('item file import', () => {
  it('reads CSV with quotes, CRLF, a facet column and IPIP-style keys', () => {
    const csv = 'text,trait,key,facet\r\n"I am the life of the party.",Extraversion,+,friendliness\r\n"I say ""no"", often",E,-,\r\nI worry.,N,-1,anxiety\r\n';
    const r = parseItemFile(csv, 'ipip.csv');
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.set.items).toEqual([
      { text: 'I am the life of the party.', trait: 'extraversion', key: 1, facet: 'friendliness' },
      { text: 'I say "no", often', trait: 'extraversion', key: -1 },
      { text: 'I worry.', trait: 'neuroticism', key: -1, facet: 'anxiety' },
    ]);
  });
  it('reads a bare JSON list and the traitlab format; emotional stability is neuroticism reversed', () => {
    const r = parseItemFile(JSON.stringify([{ text: 'I stay calm.', trait: 'Emotional Stability', key: 1 }]), 'x.json');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.set.items[0]).toEqual({ text: 'I stay calm.', trait: 'neuroticism', key: -1 });
    expect(r.warnings[0]).toMatch(/neuroticism with the key reversed/);
  });
  it('reads tab-separated files', () => {
    const r = parseItemFile('text\ttrait\tkey\nI plan ahead.\tconscientiousness\t1\n', 'x.tsv');
    expect(r.ok && r.set.items[0].trait).toBe('conscientiousness');
  });
  it.each([
    ['', 'empty.csv', /empty/],
    ['{"items": [', 'bad.json', /not valid JSON/],
    ['{"format": "other/1", "items": []}', 'f.json', /unknown format "other\/1"/],
    ['{"items": {}}', 'f.json', /expected an "items" list/],
    ['[{"text": "I am calm.", "trait": "neuroticism"}]', 'k.json', /item 1: "key" is null; use 1 or \+1/],
    ['[{"text": "", "trait": "neuroticism", "key": 1}]', 't.json', /item 1: "text" is missing or empty/],
    ['[{"text": "Hi", "trait": "!!", "key": 1}]', 't.json', /trait "!!" is not a usable name/],
    ['statement,scale\nI am calm.,N\n', 'h.csv', /must name the columns text, trait and key.*missing key/],
    ['text,trait,key\nI am calm.,neuroticism,maybe\n', 'r.csv', /r\.csv, row 2: "key" is "maybe"/],
    ['text,trait,key\n"unclosed,neuroticism,1\n', 'q.csv', /never closed/],
    ['text,trait,key\n', 'n.csv', /no items/],
  ])('rejects %j with a clear message', (text, name, msg) => {
    const r = parseItemFile(text, name);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(msg);
      expect(r.error.startsWith(name)).toBe(true);
    }
  });
  it('parses keys and CSV rows', () => {
    expect(['+', '+1', '1', 'keyed'].map(parseKey)).toEqual([1, 1, 1, 1]);
    expect(['-', '-1', '\u22121', 'reverse', 'R'].map(parseKey)).toEqual([-1, -1, -1, -1, -1]);
    expect(parseKey('2')).toBeNull();
    expect(parseCsvRows('a,"b\nc",d\n\n')).toEqual([['a', 'b\nc', 'd']]);
  });
});
