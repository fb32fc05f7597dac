/** The built-in trait datasets, their validation, custom traits, versions, and prompt building. */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  customTrait,
  datasetVersion,
  defaultSplit,
  fnv1a64,
  indexVersion,
  MIN_PAIRS,
  validateIndex,
  validateQuestions,
  validateTraitFile,
  validateTraitFiles,
  type QuestionSet,
  type TraitDataset,
} from '../../../src/traits/dataset';
import { contrastivePrompts, DEFAULT_REPLY_PROMPT_TOKENS, extractionPositions, personaChat, poolPositions } from '../../../src/traits/prompts';

const DIR = 'public/traits/';
const load = (f: string): unknown => JSON.parse(readFileSync(DIR + f, 'utf8'));
const BIG_FIVE = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];
const USER = ['impatience', 'skepticism', 'incoherence'];

function trait(id: string): TraitDataset {
  const r = validateTraitFile(load(`${id}.json`));
  if (!r.ok) throw new Error(r.error);
  return r.trait;
}
function questions(): QuestionSet {
  const r = validateQuestions(load('questions.json'));
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('built-in datasets', () => {
  it('every trait file is valid, has ≥ 5 distinct contrasting pairs and matches its id', () => {
    for (const id of [...BIG_FIVE, ...USER, 'planted-cheerful']) {
      const t = trait(id);
      expect(t.id).toBe(id);
      expect(t.pairs.length).toBeGreaterThanOrEqual(MIN_PAIRS);
      for (const p of t.pairs) {
        expect(p.high).not.toBe(p.low);
        expect(p.high.length).toBeGreaterThan(20);
      }
    }
  });

  it('the questions file has ≥ 40 questions split half/half, deterministically, covering all', () => {
    const q = questions();
    expect(q.questions.length).toBeGreaterThanOrEqual(40);
    expect(q.split.extraction.length).toBe(q.questions.length / 2);
    expect(q.split).toEqual(defaultSplit(q.questions.length));
    expect([...q.split.extraction, ...q.split.evaluation].sort((a, b) => a - b)).toEqual(q.questions.map((_, i) => i));
  });

  it('the index lists every trait file, and its version matches the contents', () => {
    const r = validateIndex(load('index.json'));
    if (!r.ok) throw new Error(r.error);
    const idx = r.value;
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json' && f !== 'questions.json');
    expect(idx.traits.map((t) => t.file).sort()).toEqual(files.sort());
    for (const e of idx.traits) expect(trait(e.id).label).toBe(e.label);
    expect(idx.traits.find((t) => t.id === 'planted-cheerful')?.onlyForModel).toBe('traitlab/planted-cheerful');
    const version = indexVersion(
      load(idx.questions),
      idx.traits.map((t) => load(t.file)),
    );
    expect(idx.version, 'public/traits/index.json is stale: recompute its version with indexVersion()').toBe(version);
    const all = validateTraitFiles(idx.traits.map((t) => load(t.file)));
    expect(all.ok).toBe(true);
  });
});

describe('validation', () => {
  const base = (): Record<string, unknown> => JSON.parse(JSON.stringify(load('openness.json')));
  const err = (j: unknown): string => {
    const r = validateTraitFile(j);
    return r.ok ? 'OK' : r.error;
  };
  it('reports what is wrong', () => {
    expect(err({ ...base(), format: 'traitlab-trait/2' })).toMatch(/wrong format tag "traitlab-trait\/2"/);
    expect(err({ ...base(), pairs: (base().pairs as unknown[]).slice(0, 4) })).toMatch(/has 4 persona pairs, at least 5/);
    const b = base();
    (b.pairs as { high: string }[])[2].high = '   ';
    expect(err(b)).toMatch(/pair 2: "high" is empty/);
    const c = base();
    (c.pairs as { low: string }[])[1].low = 'x'.repeat(2001);
    expect(err(c)).toMatch(/pair 1: "low" is too long \(2001 characters, at most 2000\)/);
    const d = base();
    (d.pairs as { high: string }[])[3].high = (d.pairs as { high: string }[])[0].high;
    expect(err(d)).toMatch(/pair 3: duplicate prompt/);
    expect(err({ ...base(), id: 'Bad Id' })).toMatch(/lower-case/);
    expect(err({ ...base(), label: 7 })).toMatch(/"label" must be a string, got number/);
    expect(err({ ...base(), high: 'same', low: 'same' })).toMatch(/pole labels are the same/);
    expect(err([])).toMatch(/expected a JSON object/);
    expect(err({ ...base(), pairs: [1, 2, 3, 4, 5] })).toMatch(/pair 0: expected an object/);
    const dup = validateTraitFiles([base(), base()]);
    expect(dup.ok ? '' : dup.error).toMatch(/duplicate trait id "openness"/);
  });

  it('checks question files', () => {
    const q = load('questions.json') as Record<string, unknown>;
    const e = (j: unknown): string => {
      const r = validateQuestions(j);
      return r.ok ? 'OK' : r.error;
    };
    expect(e(q)).toBe('OK');
    expect(e({ ...q, format: 'x' })).toMatch(/wrong format tag/);
    expect(e({ ...q, split: { extraction: [0, 1], evaluation: [1] } })).toMatch(/index 1 appears twice/);
    expect(e({ ...q, split: { extraction: [999], evaluation: [1] } })).toMatch(/invalid index 999/);
    expect(e({ ...q, questions: ['a', 'b'] })).toMatch(/at least 10/);
    expect(e({ ...q, questions: [...(q.questions as string[]).slice(1), (q.questions as string[])[1]] })).toMatch(/duplicate question/);
  });
});

describe('custom traits and versions', () => {
  it('builds a valid trait with ≥ 5 matched pairs from two descriptions', () => {
    const t = customTrait('Formality', 'very formal and polite.', 'casual and blunt');
    expect(validateTraitFile(t).ok).toBe(true);
    expect(t.id).toBe('custom-formality');
    expect(t.pairs.length).toBeGreaterThanOrEqual(5);
    for (const p of t.pairs) {
      expect(p.high).toContain('very formal and polite');
      expect(p.low).toContain('casual and blunt');
      expect(p.high.replace('very formal and polite', '').replace('casual and blunt', '')).toBe(
        p.low.replace('casual and blunt', '').replace('very formal and polite', ''),
      );
    }
    expect(() => customTrait('', 'a', 'b')).toThrow(/name/);
    expect(() => customTrait('X', ' ', 'b')).toThrow(/high description is empty/);
    expect(() => customTrait('X', 'same', 'Same')).toThrow(/same/);
    expect(() => customTrait('X', 'a', 'b', { ...questions(), questions: [] })).toThrow(/questions/);
    expect(customTrait('Über Cool!', 'cool', 'uncool').id).toBe('custom-uber-cool');
  });

  it('datasetVersion ignores key order and formatting, not content', () => {
    const t = load('openness.json') as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(t).reverse());
    expect(canonicalJson(reordered)).toBe(canonicalJson(t));
    expect(datasetVersion(t, load('questions.json'))).toBe(datasetVersion(reordered, load('questions.json')));
    expect(datasetVersion(t)).not.toBe(datasetVersion({ ...t, label: 'Openness!' }));
    expect(datasetVersion(t)).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
  });
});

describe('contrastive prompts and positions', () => {
  it('builds pair × extraction-question chats that differ only in the system prompt', () => {
    const t = trait('extraversion');
    const q = questions();
    const ps = contrastivePrompts(t, q);
    expect(ps.length).toBe(t.pairs.length * q.split.extraction.length);
    const p = ps[q.split.extraction.length + 1]; // pair 1, second extraction question
    expect(p.pair).toBe(1);
    expect(p.question).toBe(q.split.extraction[1]);
    expect(p.high).toEqual([
      { role: 'system', content: t.pairs[1].high },
      { role: 'user', content: q.questions[q.split.extraction[1]] },
    ]);
    expect(p.low[1]).toEqual(p.high[1]);
    expect(p.low[0].content).toBe(t.pairs[1].low);
    const ev = contrastivePrompts(t, q, 'evaluation');
    expect(new Set(ev.map((x) => x.question))).toEqual(new Set(q.split.evaluation));
    expect(personaChat('a', 'b')).toEqual([
      { role: 'system', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
  });

  it('extractionPositions: last token, or the reply-prompt tokens at the end', () => {
    expect(extractionPositions(10)).toEqual([9]);
    expect(extractionPositions(1, 'last')).toEqual([0]);
    expect(extractionPositions(10, 'reply-prompt')).toEqual([7, 8, 9]);
    expect(DEFAULT_REPLY_PROMPT_TOKENS).toBe(3);
    expect(extractionPositions(10, 'reply-prompt', 5)).toEqual([5, 6, 7, 8, 9]);
    expect(extractionPositions(2, 'reply-prompt')).toEqual([0, 1]);
    expect(() => extractionPositions(0)).toThrow(/at least one token/);
    expect(() => extractionPositions(5, 'reply-prompt', 0)).toThrow(/positive integer/);
    expect(() => extractionPositions(5, 'middle' as 'last')).toThrow(/unknown mode/);
  });

  it('poolPositions averages the chosen rows', () => {
    const r = Float32Array.of(1, 2, 3, 4, 5, 6); // seq 3, hidden 2
    expect(Array.from(poolPositions(r, 2, [2]))).toEqual([5, 6]);
    expect(Array.from(poolPositions(r, 2, [1, 2]))).toEqual([4, 5]);
    expect(() => poolPositions(r, 2, [3])).toThrow(/out of range/);
    expect(() => poolPositions(r, 4, [0])).toThrow(/not a multiple/);
  });
});
