/**
 * The measurement actions over the scripted fake engine: item import messages, the inventory
 * (cells → scoreOptions under the current steering → rows and per-trait spread → CSV), the
 * reply measures (re-read and judge with steering off), and a sweep that steps one trait,
 * records every measure and hands the sliders' steering back.
 */
import { describe, expect, it } from 'vitest';
import type { OptionPrompt, RereadRequest, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from '../../../../src/protocol/psychometrics';
import { parseResultsCsv } from '../../../../src/traits/psychometrics/export';
import { INFO, loaded } from '../../../support/fake-engine';

/** Every prompt: 0.6 on the first listed label, 0.1 on each other one. */
function fakeScores(prompts: OptionPrompt[]): ScoreOptionsResult {
  return {
    scores: prompts.map((p, i) => ({
      promptText: `prompt ${i}: ${p.messages.at(-1)!.content.slice(-20)}`,
      promptTokens: 10,
      reusedTokens: i ? 6 : 0,
      labelTexts: p.labels.map((l) => ' ' + l),
      labelTokenIds: p.labels.map((_, k) => 100 + k),
      probs: p.labels.map((_, k) => (k === 0 ? 0.6 : 0.1)),
    })),
    elapsedMs: 5,
    forwardMs: 4,
    tokensRun: 10 + 4 * (prompts.length - 1),
  };
}

async function measured() {
  const t = await loaded();
  const steering: string[] = [];
  const rereads: RereadRequest[] = [];
  Object.assign(t.engine, {
    scoreOptions: async (r: ScoreOptionsRequest, onProgress?: (p: ScoreProgress) => void) => {
      steering.push(r.steering);
      onProgress?.({ done: r.prompts.length, total: r.prompts.length });
      return fakeScores(r.prompts);
    },
    reread: async (r: RereadRequest) => {
      rereads.push(r);
      return { projections: { openness: [2, 4] }, replyTokens: 2 };
    },
  });
  t.actions.psych.importItems('text,trait,key\nI like new ideas.,openness,1\nI enjoy art.,openness,+\n', 'two.csv');
  return { ...t, steering, rereads };
}

describe('measurement actions', () => {
  it('imports item files; a malformed one leaves the items and says why', async () => {
    const t = await measured();
    expect(t.state().itemsSource).toBe('two.csv');
    t.actions.psych.importItems('text,trait\nHi,openness\n', 'bad.csv');
    expect(t.state().itemsMessage).toMatch(/^Could not import: bad\.csv: the header row must name the columns text, trait and key/);
    expect(t.state().items?.items).toHaveLength(2);
  });

  it('runs the inventory under the current steering: rows per item × template × order, spread across conditions, CSV export', async () => {
    const t = await measured();
    await t.actions.psych.runInventory();
    const s = t.state();
    expect(s.psychStatus, s.psychMessage ?? '').toBe('done');
    expect(t.steering).toEqual(['current']);
    const run = s.inventory!;
    expect(run.rows).toHaveLength(2 * 2 * 2); // items × general templates × orders
    const [o] = run.traits;
    // letters: A = 5 in normal order, 1 reversed; numbers: "1" = 1 in normal order, 5 reversed.
    const want = { 'mpi-letters/normal': 4, 'mpi-letters/reversed': 2, 'likert-numbers/normal': 2, 'likert-numbers/reversed': 4 };
    expect(Object.keys(o.conditions)).toEqual(Object.keys(want));
    for (const [k, v] of Object.entries(want)) expect(o.conditions[k], k).toBeCloseTo(v, 12);
    [o.mean, o.min, o.max].forEach((x, i) => expect(x).toBeCloseTo([3, 2, 4][i], 12));
    expect(o.mass).toBeCloseTo(1, 12);
    const csv = t.actions.psych.exportInventory('csv')!;
    expect(csv.name).toBe('traitlab-inventory-org-fake.csv');
    const back = parseResultsCsv(new TextDecoder().decode(csv.bytes));
    expect(back.ok && back.rows).toEqual(run.rows);
    expect(run.rows[0]).toMatchObject({ model: INFO.model, dtype: 'q4', labelTokenIds: [100, 101, 102, 103, 104], labels: [' A', ' B', ' C', ' D', ' E'] });
  });

  it('measures a reply with steering off: re-read calibrated like the inside score, judge from option probabilities', async () => {
    const t = await measured();
    await t.actions.chat.send('Hello');
    await t.actions.psych.measureReply(1);
    const m = t.state().replyMeasures[1];
    expect(m.status, m.error).toBe('done');
    expect(t.steering).toEqual(['off']);
    expect(t.rereads[0]).toEqual({
      messages: [
        { role: 'system', content: t.state().systemPrompt },
        { role: 'user', content: 'Hello' },
      ],
      reply: 'Hi there',
    });
    // Demo directions: score = projection / typical norm of the layer (2).
    expect(m.reread!.openness).toBeCloseTo(1.5, 12);
    expect(m.judge!.openness.mean).toBeCloseTo(3, 12); // 2 in normal order, 4 reversed
    expect(m.inside!.openness).toBeCloseTo(0.5, 12); // post = 0.5, 1.5 over norm 2
  });

  it('sweeps one trait: every strength once, all measures per step, then the sliders steer again', async () => {
    const t = await measured();
    t.state().setStrength('openness', 0.3);
    t.state().setSweepSettings({ traits: ['openness'], min: -1, max: 1, steps: 3, personas: false });
    await t.actions.psych.runSweep();
    expect(t.state().psychStatus, t.state().psychMessage ?? '').toBe('done');
    const sweep = t.state().sweeps[INFO.model].at(-1)!;
    expect(sweep.partial).toBe(false);
    expect(sweep.steps.map((s) => s.strength)).toEqual([-1, 0, 1]);
    const first = sweep.steps[0];
    expect(first.trait).toBe('openness');
    expect(first.inventory.openness.min).toBeCloseTo(2, 12);
    expect(first.inventory.openness.max).toBeCloseTo(4, 12);
    expect(first.reread.openness).toBeCloseTo(1.5, 12);
    expect(first.judge.openness.mean).toBeCloseTo(3, 12);
    expect(first.replies).toEqual(['Hi there']);
    const stepped = t.engine.of('setSteering').map((c) => c.settings.find((x) => x.traitId === 'openness')!.strength);
    expect(stepped.slice(-4)).toEqual([-1, 0, 1, 0.3]);
    expect(t.actions.psych.exportInventory('csv', 'sweep')).not.toBeNull();
  });
});
