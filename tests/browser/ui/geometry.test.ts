/**
 * Trait geometry and orthogonalised steering end to end in the app on the planted model: two
 * vectors imported as JSON (the planted direction d, and a custom "Mixed" trait w with
 * cos(d, w) = 0.6 by construction), the geometry table's cosine against the value computed
 * here, the readouts with raw and orthogonalised steering (raw pushes Mixed by 0.6 of the push,
 * orthogonalised by 0), the orthogonalised reply reproduced from a share link in a fresh browser
 * context, a raw/orthogonalised sweep pair with both cross-trait matrices, and the orthogonalised
 * reply reproduced by steering with the orthogonalised vector imported as JSON. On the built site.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANTED } from '../../../src/testmodels';
import { cosine, dot, norm, randomUnit } from '../../../src/steering/vector';
import { vectorToJson, type TraitVectorFile } from '../../../src/traits/vector-json';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { startSite, type Site } from '../../support/site';

const C = PLANTED.config;
const L = PLANTED.layer;
const LABEL = 'Cheerful (planted test trait)';
const TRAIT = 'planted-cheerful';
const S = 0.6; // strength used for the chat checks

let site: Site;
let browser: BrowserHandle;
let page: Page;

type Win = { traitlab: { store: { getState(): Record<string, unknown> } } };
type Point = { projections: Record<string, { pre: number; post: number }> };
const state = <T>(key: string) => page.evaluate((k) => (window as unknown as Win).traitlab.store.getState()[k], key) as Promise<T>;
const idle = (timeout = 600_000) =>
  page.waitForFunction(() => (window as unknown as Win).traitlab.store.getState().psychStatus !== 'running', null, { timeout });

/** Unit vector of x in float64. */
const unit = (x: ArrayLike<number>) => Float64Array.from(x as ArrayLike<number>, (e) => e / norm(x));
/** x minus its components along each (orthonormal) q. */
function minus(x: Float64Array, qs: Float64Array[]): Float64Array {
  const w = Float64Array.from(x);
  for (const q of qs) {
    const c = dot(w, q);
    for (let i = 0; i < w.length; i++) w[i] -= c * q[i];
  }
  return w;
}

// d: the planted direction. r: a random direction orthogonal to d and to the model's word channel u.
const d = PLANTED.direction;
const dHat = unit(d);
const uHat = unit(PLANTED.wordChannel);
const rHat = unit(minus(minus(Float64Array.from(randomUnit('t', C.hiddenSize, [0], 77).layers[0]), [dHat]), [uHat, dHat]));
// w = 0.6 d̂ + 0.8 r̂: cos(d, w) = 0.6, and d orthogonalised against w has cos 0.8 with d.
const w = Float32Array.from(dHat, (e, i) => 0.6 * e + 0.8 * rHat[i]);
const wHat = unit(w);
const dOrth = (() => {
  const x = minus(Float64Array.from(d), [wHat]);
  const n = norm(x);
  return Float32Array.from(x, (e) => (e / n) * norm(d));
})();

function jsonFile(id: string, label: string, v: Float32Array): Buffer {
  const file: TraitVectorFile = { vector: { model: PLANTED.modelId, hidden: C.hiddenSize, layers: { [L]: v } }, trait: { id, label } };
  return Buffer.from(JSON.stringify(vectorToJson(file)));
}

async function importJson(id: string, label: string, v: Float32Array, kind: string) {
  await page
    .getByLabel('Import trait vector (llama.cpp GGUF or traitlab JSON)')
    .setInputFiles({ name: `${id}.json`, mimeType: 'application/json', buffer: jsonFile(id, label, v) });
  await page.waitForFunction(([i, k]) => ((window as unknown as Win).traitlab.store.getState().vectorKind as Record<string, string>)[i] === k, [id, kind], {
    timeout: 30_000,
  });
}

/** Clear the chat, send one message, and return the reply with its token readouts. */
async function reply(): Promise<{ text: string; points: Point[] }> {
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await page.getByLabel('Message').fill('Hi there');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(
    () => {
      const s = (window as unknown as Win).traitlab.store.getState() as { messages: unknown[]; streaming: unknown };
      return s.messages.length === 2 && s.streaming === null;
    },
    null,
    { timeout: 300_000 },
  );
  const messages = await state<{ content: string }[]>('messages');
  return { text: messages[1].content, points: await state<Point[]>('points') };
}

/** How far steering moved a trait's readout at the first reply token (post − pre), in typical norms. */
const push = (r: { points: Point[] }, id: string, typical: number) => (r.points[0].projections[id].post - r.points[0].projections[id].pre) / typical;

beforeAll(async () => {
  site = await startSite();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(site.url);
  await page.getByTestId('device').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Model catalog').selectOption({ label: 'Planted-trait demo (offline, tiny) · fp32 ≈ 1.3 MB' });
  await page.getByLabel('Steering layers').fill(String(L));
  await page.getByText('Sampling', { exact: true }).click();
  await page.getByLabel('Temperature').fill('0');
  await page.getByLabel('Max new tokens').fill('4');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await page.getByTestId('model-info').waitFor({ timeout: 400_000 });
  await page.locator('details.vector-files').evaluate((x) => ((x as HTMLDetailsElement).open = true));
  await importJson(TRAIT, LABEL, d, 'extracted');
  await importJson('mixed', 'Mixed', w, 'custom');
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('trait geometry and orthogonalised steering (planted model)', () => {
  let typical = 1;
  let orth: { text: string; points: Point[] };

  it('shows the cosine of the two vectors at the steering layer, with the random-direction baseline', async () => {
    const expected = cosine(d, w);
    expect(expected).toBeCloseTo(0.6, 6);
    const cell = page.getByTestId('geometry-matrix').locator(`tr[data-trait="${TRAIT}"] td[data-trait="mixed"]`);
    await expect(cell.textContent()).resolves.toBe(expected.toFixed(3));
    expect(Number(await cell.getAttribute('data-cos'))).toBeCloseTo(expected, 6);
    const mirror = page.getByTestId('geometry-matrix').locator(`tr[data-trait="mixed"] td[data-trait="${TRAIT}"]`);
    expect(Number(await mirror.getAttribute('data-cos'))).toBe(Number(await cell.getAttribute('data-cos')));
    const kept = page.getByTestId('geometry-matrix').locator(`tr[data-trait="${TRAIT}"] td[data-kept]`);
    expect(Number(await kept.getAttribute('data-kept'))).toBeCloseTo(0.8, 5);
    await expect(page.getByTestId('geometry-reading').textContent()).resolves.toMatch(
      new RegExp(
        `^Most entangled: (${LABEL.replace(/[()]/g, '\\$&')} and Mixed|Mixed and ${LABEL.replace(/[()]/g, '\\$&')}), cosine 0\\.600 at layer ${L} .*1/√${C.hiddenSize}`,
      ),
    );
    console.log(
      `geometry on the planted model: cos(planted, mixed) = ${expected.toFixed(6)}; 1/sqrt(${C.hiddenSize}) = ${(1 / Math.sqrt(C.hiddenSize)).toFixed(3)}`,
    );
  });

  it('orthogonalised steering stops pushing the entangled trait; raw steering pushes it by the cosine', { timeout: 600_000 }, async () => {
    typical = (await state<{ typicalNorm: Record<number, number> }>('info')).typicalNorm[L];
    await page.getByLabel(`${LABEL} strength value`, { exact: true }).fill(String(S));
    const raw = await reply();
    expect(push(raw, TRAIT, typical)).toBeCloseTo(S, 4);
    expect(push(raw, 'mixed', typical)).toBeCloseTo(0.6 * S, 4);
    await page.getByLabel('Steer orthogonalised').check();
    orth = await reply();
    expect(push(orth, TRAIT, typical)).toBeCloseTo(0.8 * S, 4);
    expect(Math.abs(push(orth, 'mixed', typical))).toBeLessThan(1e-4);
    console.log(
      `readout push at the first token (typical norms), raw → orthogonalised: planted ${push(raw, TRAIT, typical).toFixed(4)} → ${push(orth, TRAIT, typical).toFixed(4)}, ` +
        `mixed ${push(raw, 'mixed', typical).toFixed(4)} → ${push(orth, 'mixed', typical).toExponential(2)}; replies "${raw.text}" / "${orth.text}"`,
    );
  });

  it('a share link carries the orthogonalised steering: a fresh browser context replies exactly the same', { timeout: 600_000 }, async () => {
    await page.getByRole('button', { name: 'Share link' }).click();
    const link = await page.getByTestId('share-link').inputValue();
    await expect(page.getByTestId('share-note').textContent()).resolves.toMatch(/orthogonalised steering directions of planted-cheerful/);
    const fresh = await browser.browser.newContext();
    try {
      const p = await fresh.newPage();
      p.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
      await p.setViewportSize({ width: 1400, height: 1000 });
      await p.goto(link);
      await p.getByTestId('pending-load').waitFor({ timeout: 60_000 });
      await p.getByRole('button', { name: 'Start download' }).click();
      await p.getByTestId('model-info').waitFor({ timeout: 300_000 });
      await expect(p.getByLabel('Steer orthogonalised').isChecked()).resolves.toBe(true);
      await p.getByLabel('Message').fill('Hi there');
      await p.getByRole('button', { name: 'Send' }).click();
      await p.waitForFunction(
        () => {
          const s = (window as unknown as Win).traitlab.store.getState() as { messages: unknown[]; streaming: unknown };
          return s.messages.length === 2 && s.streaming === null;
        },
        null,
        { timeout: 300_000 },
      );
      const got = (await p.evaluate(() => {
        const s = (window as unknown as Win).traitlab.store.getState() as { messages: { content: string }[]; points: Point[] };
        return { text: s.messages[1].content, points: s.points };
      })) as { text: string; points: Point[] };
      expect(got.text).toBe(orth.text);
      // The steered trait's readout and its orthogonalised direction's, bit for bit (Mixed, not in use, travelled as int8).
      const pick = (r: { points: Point[] }) => r.points.map((x) => [x.projections[TRAIT], x.projections[`${TRAIT}~orthogonal`]]);
      expect(pick(got)).toEqual(pick(orth));
    } finally {
      await fresh.close();
    }
    await page.getByLabel('Steer orthogonalised').uncheck();
    await page.getByLabel(`${LABEL} strength value`, { exact: true }).fill('0');
  });

  it('sweeps with raw and orthogonalised vectors and shows both cross-trait matrices', { timeout: 900_000 }, async () => {
    await page.getByLabel('Import item file (CSV or JSON: text, trait, key, optional facet)').setInputFiles({
      name: 'one.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('text,trait,key\n"I feel cheerful and happy most days.",planted-cheerful,+1\n'),
    });
    await page
      .getByTestId('items-source')
      .filter({ hasText: /^1 items? \(one\.csv\)/ })
      .waitFor({ timeout: 30_000 });
    await page.getByLabel('Accuracy, letters (A–E)').uncheck();
    await page.getByLabel('Agreement, numbers (1–5)').uncheck();
    await page.getByLabel(`Sweep ${LABEL}`).check();
    await page.getByLabel('Sweep steps').fill('2');
    await page.getByLabel('persona reference points').uncheck();
    await page.getByLabel('judge only the swept traits').check();
    await page.getByLabel('Sweep vectors').selectOption('both');
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await idle(850_000);
    expect(await state<string>('psychStatus'), (await state<string>('psychMessage')) ?? '').toBe('done');
    await page.getByLabel('Cross-trait matrix of').selectOption('inside');
    const cell = (id: string, trait: string) => page.getByTestId(id).locator(`td[data-trait="${trait}"]`).textContent();
    await expect(page.getByTestId('cross-trait-matrix').getAttribute('data-vectors')).resolves.toBe('raw');
    await expect(page.getByTestId('cross-trait-matrix-orthogonal').getAttribute('data-vectors')).resolves.toBe('orthogonal');
    const rawMixed = Number(await cell('cross-trait-matrix', 'mixed'));
    const orthMixed = Number(await cell('cross-trait-matrix-orthogonal', 'mixed'));
    const rawSelf = Number(await cell('cross-trait-matrix', TRAIT));
    const orthSelf = Number(await cell('cross-trait-matrix-orthogonal', TRAIT));
    console.log(`inside slopes (per unit strength), raw → orthogonalised: planted ${rawSelf} → ${orthSelf}, mixed ${rawMixed} → ${orthMixed}`);
    expect(Math.abs(orthMixed)).toBeLessThan(Math.abs(rawMixed));
    expect(rawSelf).toBeGreaterThan(0);
    expect(orthSelf).toBeGreaterThan(0);
    await expect(page.getByTestId('cross-trait-comparison').textContent()).resolves.toMatch(/raw \d\.\d{3}, orthogonalised \d\.\d{3}/);
    const sweeps = Object.values(await state<Record<string, { vectors: string; pair?: string; steps: unknown[] }[]>>('sweeps'))[0];
    expect(sweeps.slice(-2).map((r) => [r.vectors, r.steps.length])).toEqual([
      ['raw', 2],
      ['orthogonal', 2],
    ]);
    await page.screenshot({ path: 'test-artifacts/geometry.png', fullPage: true });
  });

  it('steering with the orthogonalised vector imported as JSON gives the same reply and readouts', { timeout: 600_000 }, async () => {
    await importJson('ortho-ref', 'Ortho ref', dOrth, 'custom');
    await page.getByLabel('Ortho ref strength value', { exact: true }).fill(String(S));
    const ref = await reply();
    expect(ref.text).toBe(orth.text);
    expect(ref.points).toHaveLength(orth.points.length);
    ref.points.forEach((p, k) => {
      for (const id of [TRAIT, 'mixed'])
        for (const side of ['pre', 'post'] as const) expect(p.projections[id][side]).toBeCloseTo(orth.points[k].projections[id][side], 3);
    });
  });
});
