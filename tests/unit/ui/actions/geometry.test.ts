/**
 * Trait geometry and orthogonalised steering as actions: the cosine matrix in the store (per row
 * at the row trait's layer, demo directions left out), the orthogonalised direction registered
 * beside the raw one (the trait's own slot reads out only), the share link carrying the exact
 * direction, and a raw/orthogonalised sweep pair.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScoreOptionsRequest, ScoreProgress } from '../../../../src/protocol/psychometrics';
import { cosine, norm } from '../../../../src/steering/vector';
import { readControlVector } from '../../../../src/traits/gguf';
import type { WireVector } from '../../../../src/protocol/messages';
import { orthoId, orthogonalSteering, traitGeometry } from '../../../../src/ui/actions/geometry';
import { INFO, loaded, setup, vectorFileBytes } from '../../../support/fake-engine';

const H = INFO.hidden; // 8
const e = (i: number, s = 1) => Float32Array.from({ length: H }, (_, k) => (k === i ? s : 0));
const sum = (a: Float32Array, b: Float32Array, x: number, y: number) => a.map((v, i) => x * v + y * b[i]);
/** Openness: 0.6 e0 + 0.8 e1 (cosine 0.6 with Extraversion = e0) at layers 1 and 2; Extraversion at layer 1 only. */
const OPEN = { 1: sum(e(0), e(1), 0.6, 0.8), 2: sum(e(0), e(2), 0.6, 0.8) };
const EXTRA = { 1: e(0, 2) };

async function withVectors() {
  const t = await loaded();
  const file = (id: string, label: string, layers: Record<number, Float32Array>) =>
    vectorFileBytes({ vector: { model: INFO.model, hidden: H, layers }, trait: { id, label } });
  await t.actions.vectors.importFile(file('openness', 'Openness', OPEN), 'o.json');
  await t.actions.vectors.importFile(file('extraversion', 'Extraversion', EXTRA), 'e.json');
  return t;
}

const lastVectors = (t: Awaited<ReturnType<typeof loaded>>) => t.engine.of('setVectors').at(-1)!.vectors;
const lastSettings = (t: Awaited<ReturnType<typeof loaded>>) => t.engine.of('setSteering').at(-1)!.settings;

describe('trait geometry', () => {
  it('puts the cosine matrix of the real vectors in the store, at the steering layer, with the random baseline', async () => {
    const t = await withVectors();
    const g = t.state().geometry!;
    expect(g.ids).toEqual(['openness', 'extraversion']);
    expect(g.leftOut).toEqual(['neuroticism']); // a demo direction
    expect(g.rows.map((r) => r.layer)).toEqual([1, 1]);
    expect(g.rows[0].cos[0]).toBe(1);
    expect(g.rows[0].cos[1]).toBeCloseTo(0.6, 6);
    expect(g.rows[1].cos[0]).toBe(g.rows[0].cos[1]);
    expect(g.rows[0].kept).toBeCloseTo(0.8, 6);
    expect(g.randomScale).toBeCloseTo(1 / Math.sqrt(8), 12);
    expect(g.reading).toMatch(
      /^Most entangled: Openness and Extraversion, cosine 0\.600 at layer 1 — no more than random directions would be \(two random directions in 8 dimensions: about ±0\.354/,
    );
  });

  it('compares each row at its own trait’s layer: n/a where the other trait has no vector there', async () => {
    const t = await withVectors();
    t.state().setLayer('openness', 2);
    await t.actions.steering.push();
    const g = t.state().geometry!;
    expect(g.oneLayer).toBe(false);
    expect(g.rows[0].layer).toBe(2);
    expect(g.rows[0].cos).toEqual([1, null]);
    expect(g.rows[0].kept).toBeNull();
    expect(g.rows[1].cos[0]).toBeCloseTo(0.6, 6);
  });

  it('says what to do with fewer than two vectors', () => {
    const g = traitGeometry(INFO, [], [], {});
    expect(g.rows).toEqual([]);
    expect(g.reading).toMatch(/at least two trait vectors/);
  });
});

describe('orthogonalised steering', () => {
  it('registers the orthogonalised direction beside the raw one; it carries the strength, the trait’s own slot only reads out', async () => {
    const t = await withVectors();
    t.state().setStrength('openness', 0.7);
    await t.actions.steering.setOrthogonal(true);
    const ghost = lastVectors(t).find((v) => v.traitId === orthoId('openness'))!;
    expect(Object.keys(ghost.layers)).toEqual(['1']);
    expect(Math.abs(cosine(ghost.layers[1], EXTRA[1]))).toBeLessThan(1e-7);
    expect(norm(ghost.layers[1])).toBeCloseTo(norm(OPEN[1]), 6);
    expect(Array.from(ghost.layers[1])).toEqual(Array.from(e(1))); // 0.6 e0 + 0.8 e1 minus its e0 part, at norm 1
    expect(lastVectors(t).find((v) => v.traitId === 'openness')!.layers[1]).toEqual(OPEN[1]); // readout keeps the raw direction
    const s = lastSettings(t);
    expect(s.find((x) => x.traitId === 'openness')).toMatchObject({ enabled: false, layer: 1 });
    expect(s.find((x) => x.traitId === orthoId('openness'))).toEqual({ traitId: orthoId('openness'), strength: 0.7, mode: 'add', layer: 1, enabled: true });
    // Sliders re-send the directions (they follow the traits' layers); off again = raw steering, no extra direction.
    t.state().setStrength('openness', -0.2);
    await t.actions.steering.push();
    expect(lastSettings(t).find((x) => x.traitId === orthoId('openness'))!.strength).toBe(-0.2);
    await t.actions.steering.setOrthogonal(false);
    expect(lastVectors(t).some((v) => v.traitId.endsWith('~orthogonal'))).toBe(false);
    expect(lastSettings(t).find((x) => x.traitId === 'openness')).toMatchObject({ enabled: true, strength: -0.2 });
  });

  it('leaves demo directions and traits with no other vector at their layer as they are', () => {
    const wires: WireVector[] = [
      { traitId: 'a', model: 'm', hidden: H, layers: { 1: e(0) } },
      { traitId: 'b', model: 'm', hidden: H, layers: { 1: e(1), 2: e(2) } },
      { traitId: 'demo', model: 'm', hidden: H, layers: { 1: sum(e(0), e(3), 1, 1) } },
    ];
    const kinds = { a: 'extracted', b: 'custom', demo: 'demo' } as const;
    const set = (traitId: string, layer: number) => ({ traitId, strength: 0.5, mode: 'add' as const, layer, enabled: true });
    const plan = orthogonalSteering(wires, kinds, [set('a', 1), set('b', 2), set('demo', 1), { ...set('b', 1), traitId: 'c', strength: 0 }]);
    expect(Object.keys(plan.steer)).toEqual(['a']);
    expect(plan.settings.map((s) => [s.traitId, s.enabled])).toEqual([
      ['a', false],
      ['b', true],
      ['demo', true],
      ['c', true],
      ['a~orthogonal', true],
    ]);
    // Only traits in use get an extra direction.
    expect(orthogonalSteering(wires, kinds, [{ ...set('a', 1), strength: 0 }]).vectors).toHaveLength(3);
    expect(plan.overfull).toEqual([]);
    // An exact direction from a link is used while the trait's vector is the link's, even with no other vector there.
    const link = { b: { layer: 2, raw: e(2), vector: e(5) } };
    expect(orthogonalSteering(wires, kinds, [set('b', 2)], link).steer.b).toMatchObject({ vector: e(5), fromLink: true });
    expect(orthogonalSteering(wires, kinds, [set('b', 2)], { b: { ...link.b, raw: e(3) } }).steer.b).toBeUndefined();
  });

  it('exports the orthogonalised steering as the combined control vector', async () => {
    const t = await withVectors();
    t.state().setStrength('openness', 1);
    await t.actions.steering.setOrthogonal(true);
    const layer1 = () => readControlVector(t.actions.vectors.exportFile('steering')!.bytes).layers[1];
    expect(cosine(layer1(), EXTRA[1])).toBeCloseTo(0, 7);
    expect(cosine(layer1(), e(1))).toBeCloseTo(1, 6);
    expect(norm(layer1())).toBeCloseTo(INFO.typicalNorm[1], 5); // strength 1 = one typical norm
    await t.actions.steering.setOrthogonal(false);
    expect(cosine(layer1(), OPEN[1])).toBeCloseTo(1, 6);
  });
});

describe('orthogonalised steering travels in a share link', () => {
  beforeEach(() => {
    vi.stubGlobal('location', { origin: 'http://app.test', pathname: '/', search: '', hash: '' });
    vi.stubGlobal('history', { replaceState: vi.fn() });
    vi.stubGlobal('navigator', {});
  });
  afterEach(() => vi.unstubAllGlobals());

  it('the recipient steers with the exact same directions and settings', async () => {
    const from = await withVectors();
    from.state().setStrength('openness', 0.7);
    await from.actions.steering.setOrthogonal(true);
    const url = (await from.actions.links.share())!;
    expect(from.state().shareNote).toMatch(/orthogonalised steering directions of openness/);
    const to = setup();
    await to.actions.links.open(url.slice(url.indexOf('#')));
    await to.actions.links.confirmPendingLoad();
    expect(to.state().orthogonal).toBe(true);
    const ghost = (t: typeof to) => lastVectors(t).find((v) => v.traitId === orthoId('openness'))!.layers[1];
    expect(new Uint8Array(ghost(to).buffer)).toEqual(new Uint8Array(ghost(from).buffer));
    // Extraversion was not in use, so it did not travel: the recipient uses the link's direction, not a recomputed one.
    expect(to.state().vectorKind.extraversion).toBe('demo');
    expect(lastSettings(to)).toEqual(lastSettings(from));
  });
});

describe('sweeps on raw and orthogonalised vectors', () => {
  it('"both" runs the sweep twice, steering the orthogonalised direction in the second, and keeps the pair', async () => {
    const t = await withVectors();
    Object.assign(t.engine, {
      scoreOptions: async (r: ScoreOptionsRequest, onProgress?: (p: ScoreProgress) => void) => {
        onProgress?.({ done: r.prompts.length, total: r.prompts.length });
        return {
          scores: r.prompts.map((p) => ({
            promptText: 'p',
            promptTokens: 3,
            reusedTokens: 0,
            labelTexts: p.labels,
            labelTokenIds: p.labels.map((_, k) => k),
            probs: p.labels.map(() => 0.2),
          })),
          elapsedMs: 1,
          forwardMs: 1,
          tokensRun: 3,
        };
      },
      reread: async () => ({ projections: { openness: [1] }, replyTokens: 1 }),
    });
    t.actions.psych.importItems('text,trait,key\nI like new ideas.,openness,1\n', 'one.csv');
    t.state().setSweepSettings({ traits: ['openness'], min: -1, max: 1, steps: 2, personas: false, vectors: 'both' });
    const before = t.engine.of('setSteering').length;
    await t.actions.psych.runSweep();
    expect(t.state().psychStatus, t.state().psychMessage ?? '').toBe('done');
    const [raw, orth] = t.state().sweeps[INFO.model].slice(-2);
    expect([raw.vectors, orth.vectors]).toEqual(['raw', 'orthogonal']);
    expect(raw.pair).toBe(orth.startedAt);
    expect(orth.pair).toBe(raw.startedAt);
    expect(orth.steps.map((s) => s.strength)).toEqual([-1, 1]);
    const steered = t.engine.of('setSteering').map((c) => c.settings.filter((s) => s.enabled && s.strength !== 0).map((s) => `${s.traitId}:${s.strength}`));
    expect(steered.slice(before, before + 4)).toEqual([['openness:-1'], ['openness:1'], ['openness~orthogonal:-1'], ['openness~orthogonal:1']]);
    // The sliders' own (raw) steering is back afterwards, without the extra direction.
    expect(lastVectors(t).some((v) => v.traitId.endsWith('~orthogonal'))).toBe(false);
  });
});
