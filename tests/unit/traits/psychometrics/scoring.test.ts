/** Scoring, templates, export round trip and the sweep / illusion math. */
import { describe, expect, it } from 'vitest';
import { parseResultsCsv, parseResultsJson, toCsv, toJson, type ResultRow } from '../../../../src/traits/psychometrics/export';
import { expectedValue, keyedScore, renormalise, traitScores } from '../../../../src/traits/psychometrics/scoring';
import { illusionReading, ranks, slope, spearman, strengthGrid } from '../../../../src/traits/psychometrics/sweep';
import { INVENTORY_TEMPLATES, inventoryCells, judgeCells, JUDGE_TEMPLATES, listedOptions, templatesFor } from '../../../../src/traits/psychometrics/templates';

describe('scoring', () => {
  it('renormalises, takes the expected value and mirrors reverse keys', () => {
    const q = renormalise([0.1, 0.1, 0, 0, 0.3]);
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const v = expectedValue(q, [5, 4, 3, 2, 1]);
    expect(v).toBeCloseTo(0.2 * 5 + 0.2 * 4 + 0.6 * 1, 12);
    expect(keyedScore(v, -1)).toBeCloseTo(6 - v, 12);
    expect(renormalise([0, 0])).toEqual([0.5, 0.5]);
  });
  it('aggregates per trait: mean over conditions and the spread across them', () => {
    const cell = (template: string, order: string, score: number) => ({ trait: 'x', template, order, key: 1 as const, mass: 0.5, score });
    const [t] = traitScores([cell('a', 'normal', 4), cell('a', 'normal', 2), cell('a', 'reversed', 1), cell('b', 'normal', 5)]);
    expect(t.conditions).toEqual({ 'a/normal': 3, 'a/reversed': 1, 'b/normal': 5 });
    expect(t.mean).toBeCloseTo(3, 12);
    expect([t.min, t.max]).toEqual([1, 5]);
    expect(t.sd).toBeCloseTo(2, 12);
    expect(t.items).toBe(2);
  });
});

describe('templates', () => {
  it('position-bound labels move with the order, meaning-bound ones stay with their meaning', () => {
    const letters = INVENTORY_TEMPLATES.find((t) => t.id === 'mpi-letters')!;
    expect(listedOptions(letters, 'normal').map((o) => [o.label, o.value])[0]).toEqual(['A', 5]);
    expect(listedOptions(letters, 'reversed').map((o) => [o.label, o.value])[0]).toEqual(['A', 1]);
    const mood = INVENTORY_TEMPLATES.find((t) => t.id === 'planted-mood')!;
    expect(listedOptions(mood, 'reversed')[0]).toMatchObject({ label: 'grim', value: 1 });
    expect(templatesFor(INVENTORY_TEMPLATES, 'other/model').map((t) => t.id)).toEqual(['mpi-letters', 'likert-numbers']);
    expect(templatesFor(INVENTORY_TEMPLATES, 'traitlab/planted-cheerful')).toHaveLength(3);
  });
  it('builds cells grouped by template and order, item last so prompts share a prefix', () => {
    const items = [
      { text: 'I like parties.', trait: 'extraversion', key: 1 as const },
      { text: 'I hate parties.', trait: 'extraversion', key: -1 as const },
    ];
    const cells = inventoryCells(items, INVENTORY_TEMPLATES.slice(0, 2), ['normal', 'reversed'], 'You are calm.');
    expect(cells.map((c) => `${c.template}/${c.order}/${c.item}`)).toEqual([
      'mpi-letters/normal/0',
      'mpi-letters/normal/1',
      'mpi-letters/reversed/0',
      'mpi-letters/reversed/1',
      'likert-numbers/normal/0',
      'likert-numbers/normal/1',
      'likert-numbers/reversed/0',
      'likert-numbers/reversed/1',
    ]);
    const [a, b] = cells;
    expect(a.prompt.messages[0]).toEqual({ role: 'system', content: 'You are calm.' });
    const ua = a.prompt.messages[1].content;
    const ub = b.prompt.messages[1].content;
    expect(ua.endsWith('Statement: "I like parties."')).toBe(true);
    expect(ua.slice(0, ua.indexOf('I like'))).toBe(ub.slice(0, ub.indexOf('I hate')));
    expect(a.values).toEqual([5, 4, 3, 2, 1]);
    expect(cells[6].values).toEqual([5, 4, 3, 2, 1]); // likert reversed: "1" = strongly agree
  });
  it('judge prompts put the text first and ask about each trait', () => {
    const cells = judgeCells(
      'Hello!',
      [
        { traitId: 'e', high: 'outgoing' },
        { traitId: 'c', high: 'careful' },
      ],
      JUDGE_TEMPLATES.slice(0, 1),
      ['normal'],
    );
    expect(cells.map((c) => c.traitId)).toEqual(['e', 'c']);
    expect(cells[0].prompt.messages[0].content).toMatch(/^Here is a text:\n"""\nHello!\n"""\n\nHow outgoing is the writer/);
    expect(cells[0].values).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('export', () => {
  const row: ResultRow = {
    model: 'traitlab/planted-cheerful',
    dtype: 'fp32',
    step: 3,
    strengths: { 'planted-cheerful': 0.25 },
    persona: 'You are "gloomy",\nsad.',
    template: 'planted-mood',
    order: 'reversed',
    item: 2,
    trait: 'planted-cheerful',
    key: -1,
    facet: '',
    text: 'I am, "happy".',
    prompt: '<|im_start|>user\nHow much, "really"?\r\n<|im_end|>\n<|im_start|>assistant\nAnswer:',
    labels: [' grim', ' sad'],
    labelTokenIds: [301, 299],
    probs: [0.1234567890123, 1e-9],
    renormalised: [0.9999999918, 8.1e-9],
    values: [1, 2],
    score: 4.999999991899999,
  };
  it('CSV and JSON round-trip every field exactly', () => {
    const csv = parseResultsCsv(toCsv([row, { ...row, step: 4 }]));
    expect(csv.ok, csv.ok ? '' : csv.error).toBe(true);
    if (csv.ok) expect(csv.rows).toEqual([row, { ...row, step: 4 }]);
    const json = parseResultsJson(toJson([row]));
    expect(json.ok && json.rows).toEqual([row]);
  });
  it('rejects foreign files with a message', () => {
    const r = parseResultsCsv('a,b\n1,2\n');
    expect(r.ok).toBe(false);
    expect(parseResultsJson('{"format":"x"}')).toMatchObject({ ok: false });
  });
});

describe('sweep math', () => {
  it('strength grid, slope, ranks and Spearman', () => {
    expect(strengthGrid(-1, 1, 9)).toEqual([-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1]);
    expect(strengthGrid(1, 1, 3)).toMatch(/larger/);
    expect(strengthGrid(0, 1, 1)).toMatch(/2 to 41/);
    expect(slope([0, 1, 2], [1, 3, 5])).toBeCloseTo(2, 12);
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
  });
  it('reads the illusion in one sentence', () => {
    expect(illusionReading('extraversion', 0.9, 0.1, 1)).toBe('extraversion: self-report and the inside readout follow steering; behaviour does not.');
    expect(illusionReading('x', -0.8, NaN, 0.95)).toBe('x: the inside readout follows steering; self-report moves against it.');
  });
});
