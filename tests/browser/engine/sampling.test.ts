/**
 * The sampling kernels on headless Chromium WebGPU (SwiftShader), against their CPU twins, and
 * the GPU sampling path against the CPU sampler: for the same seed, exactly the same tokens.
 * argmax.wgsl does no arithmetic and topk.wgsl only correctly rounded f32 multiplies, so
 * kernel outputs are compared word for word (atol = rtol = 0). option-logits.wgsl sums exp() in
 * f32, so it is compared with its float64 twin within atol + rtol * |ref|, and the option
 * probabilities it gives (GpuOptionReader) with the CPU path (labelProbabilities).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmaxRef } from '../../../src/engine/kernels/argmax-ref';
import { optionLogitsRef, optionProbs } from '../../../src/engine/kernels/option-logits-ref';
import { SAMPLE_NONE } from '../../../src/engine/kernels/sample-common';
import { labelProbabilities } from '../../../src/engine/psychometrics/score-options';
import { topkOutputWords } from '../../../src/engine/kernels/topk-pass';
import { parseTopk, topkRef } from '../../../src/engine/kernels/topk-ref';
import type { SamplingOptions } from '../../../src/shared/sampling';
import { launchBrowser, type BrowserHandle } from '../../support/browser';
import { caseHistory, caseLogits, type LogitsCase } from '../../support/sampling-cases';
import type { Checked, KernelCase, OptionCase, SampleCase, SamplingApi, TopkCase } from '../pages/sampling-harness';

let browser: BrowserHandle;
let page: Page;

function call<K extends keyof Omit<SamplingApi, 'adapterInfo'>>(fn: K, arg: Parameters<SamplingApi[K]>[0]): Promise<Awaited<ReturnType<SamplingApi[K]>>> {
  return page.evaluate(([f, a]) => (window.sampling as unknown as Record<string, (x: unknown) => unknown>)[f](a), [fn, arg] as const) as Promise<
    Awaited<ReturnType<SamplingApi[K]>>
  >;
}

function ok<T>(r: Checked<T>): T {
  expect(r.error).toBeNull();
  expect(r.value).not.toBeNull();
  return r.value as T;
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.open('/tests/browser/pages/sampling.html');
  const err = await page.evaluate(() => window.harnessError ?? null);
  expect(err).toBeNull();
});
afterAll(async () => {
  await browser?.close();
});

const SHAPES: (LogitsCase & { row: number; name: string })[] = [
  { name: 'f32, vocab below one workgroup', seed: 1, vocab: 100, rows: 1, row: 0 },
  { name: 'f32, odd vocab, row 2 of 3', seed: 2, vocab: 4099, rows: 3, row: 2 },
  { name: 'f32, few levels (ties everywhere)', seed: 3, vocab: 5000, rows: 1, row: 0, levels: 6 },
  { name: 'f16, odd vocab, odd row start', seed: 4, vocab: 3001, rows: 2, row: 1, f16: true },
  { name: 'f16, ties', seed: 5, vocab: 2048, rows: 1, row: 0, f16: true, levels: 3 },
  { name: 'f32, Qwen-sized vocab', seed: 6, vocab: 151936, rows: 1, row: 0 },
];

describe('argmax.wgsl', () => {
  it.each(SHAPES)('equals the CPU argmax: $name', async (c) => {
    const token = ok(await call('argmax', c satisfies KernelCase));
    expect(token).toBe(argmaxRef(caseLogits(c).values, c.vocab, c.row));
  });
});

// The f16 guard at the kernels: a row holding NaN or ±Infinity anywhere gives SAMPLE_NONE.
const NON_FINITE: (LogitsCase & { row: number; name: string })[] = [
  { name: 'f32, all NaN', seed: 7, vocab: 3000, rows: 1, row: 0, nonFinite: { kind: 'nan', at: 'all' } },
  { name: 'f32, one NaN late in the row', seed: 8, vocab: 3000, rows: 1, row: 0, nonFinite: { kind: 'nan', at: [2999] } },
  { name: 'f32, one -Infinity, row 1 of 2', seed: 9, vocab: 1000, rows: 2, row: 1, nonFinite: { kind: '-inf', at: [1500] } },
  { name: 'f16, all NaN', seed: 10, vocab: 2049, rows: 1, row: 0, f16: true, nonFinite: { kind: 'nan', at: 'all' } },
  { name: 'f16, one +Infinity (overflow), odd index', seed: 11, vocab: 2049, rows: 1, row: 0, f16: true, nonFinite: { kind: 'inf', at: [777] } },
];

describe('argmax.wgsl on non-finite rows', () => {
  it.each(NON_FINITE)('writes SAMPLE_NONE, like its twin: $name', async (c) => {
    const token = ok(await call('argmax', c satisfies KernelCase));
    expect(argmaxRef(caseLogits(c).values, c.vocab, c.row)).toBe(SAMPLE_NONE);
    expect(token).toBe(SAMPLE_NONE);
  });
  it('a NaN in another row does not count', async () => {
    const c = { name: 'NaN in row 0, read row 1', seed: 12, vocab: 500, rows: 2, row: 1, nonFinite: { kind: 'nan' as const, at: [3] } };
    const token = ok(await call('argmax', c));
    expect(token).toBe(argmaxRef(caseLogits(c).values, c.vocab, c.row));
    expect(token).toBeLessThan(c.vocab);
  });
});

describe('topk.wgsl on non-finite rows', () => {
  it.each(NON_FINITE)('writes SAMPLE_NONE as the count, like its twin: $name', async (c) => {
    const words = ok(await call('topk', { ...c, k: 7, penalty: 1.3, seen: [1, 2, 3] }));
    expect(topkRef(caseLogits(c).values, c.vocab, { k: 7, penalty: 1.3, seen: new Set([1, 2, 3]), row: c.row }).nonFinite).toBe(true);
    expect(words[0]).toBe(SAMPLE_NONE);
    expect(parseTopk(Uint32Array.from(words)).nonFinite).toBe(true);
  });
});

describe('topk.wgsl', () => {
  const cases: (TopkCase & { name: string })[] = [];
  for (const s of SHAPES) {
    for (const k of [1, 7, 256]) {
      for (const penalty of [1, 1.3]) {
        cases.push({ ...s, name: `${s.name}, k ${k}, penalty ${penalty}`, k, penalty, seen: caseHistory(s.seed, s.vocab, 300) });
      }
    }
  }
  cases.push({ ...SHAPES[0], name: 'k above vocab: every token is a candidate', k: 200, penalty: 2, seen: [0, 5, 99] });

  it.each(cases)('equals topkRef word for word: $name', async (c) => {
    const words = ok(await call('topk', c));
    const ref = topkRef(caseLogits(c).values, c.vocab, { k: c.k, penalty: c.penalty, seen: new Set(c.seen), row: c.row });
    const got = parseTopk(Uint32Array.from(words));
    expect(words.length).toBe(topkOutputWords(Math.min(c.k, c.vocab)));
    expect(got.count).toBe(ref.count);
    expect(Object.is(got.bound, ref.bound)).toBe(true);
    expect(Array.from(got.ids)).toEqual(Array.from(ref.ids));
    expect(Array.from(got.raw)).toEqual(Array.from(ref.raw));
  });
});

describe('option-logits.wgsl', () => {
  // Logits on the scale of a real model's: a normal spread, a few large ones, a vocabulary of a Qwen.
  const ids = (vocab: number, k: number) => Array.from({ length: k }, (_, i) => Math.floor((((i * 2654435761) % 4294967296) / 4294967296) * vocab));
  const cases: (OptionCase & { name: string })[] = SHAPES.map((s, i) => ({ ...s, ids: ids(s.vocab, [5, 2, 7, 16, 1, 5][i]) }));
  cases.push({ ...SHAPES[0], name: 'repeated option ids, the last token of the row', ids: [99, 99, 0] });
  const close = (got: number, ref: number, atol: number, rtol: number) => Math.abs(got - ref) <= atol + rtol * Math.abs(ref);

  it.each(cases)('[max, lse, option logits] match the float64 twin: $name', async (c) => {
    const r = ok(await call('optionLogits', c));
    const ref = optionLogitsRef(caseLogits(c).values, c.vocab, c.ids, c.row);
    expect(r.words).toHaveLength(ref.length);
    expect(r.words[0]).toBe(Math.fround(ref[0])); // the max is an input value
    expect(close(r.words[1], ref[1], 1e-5, 1e-6), `lse ${r.words[1]} vs ${ref[1]}`).toBe(true);
    expect(r.words.slice(2)).toEqual(ref.slice(2).map(Math.fround)); // gathered, not computed
    expect(r.after).toEqual([-7.5, -7.5, -7.5, -7.5]); // nothing written past 2 + k
    const p = optionProbs(r.words);
    const pRef = optionProbs(ref);
    for (let k = 0; k < p.length; k++) expect(close(p[k], pRef[k], 1e-7, 1e-5), `p${k} ${p[k]} vs ${pRef[k]}`).toBe(true);
  });

  it.each(cases.filter((c) => c.rows === 1))("the GPU option reader gives the CPU path's probabilities: $name", async (c) => {
    const r = ok(await call('optionReader', c));
    const cpu = labelProbabilities(caseLogits(c).values, c.ids);
    expect(r.probs[1]).toEqual(r.probs[0]);
    for (let k = 0; k < cpu.length; k++) expect(close(r.probs[0][k], cpu[k], 1e-7, 1e-5), `p${k} ${r.probs[0][k]} vs ${cpu[k]}`).toBe(true);
    // Two passes, each reading back [m, lse, k logits]: a few dozen bytes, never the row.
    expect(r.passes).toBe(2);
    expect(r.readbackBytes).toBe(2 * 4 * (2 + c.ids.length));
  });
});

describe('GPU sampling = CPU sampler, token for token', () => {
  const opts = (o: Partial<SamplingOptions>): SamplingOptions => ({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 11, ...o });
  const runs: { name: string; c: SampleCase }[] = [
    { name: 'greedy', c: { seed: 21, vocab: 3000, rows: 1, options: opts({}), prompt: [], steps: 12 } },
    {
      name: 'greedy + repetition penalty 1.1 (the app default)',
      c: { seed: 22, vocab: 3000, rows: 1, options: opts({ repetitionPenalty: 1.1 }), prompt: [3, 4], steps: 24 },
    },
    {
      name: 'greedy + penalty on tied levels',
      c: { seed: 23, vocab: 3000, rows: 1, levels: 8, options: opts({ repetitionPenalty: 2 }), prompt: [], steps: 24 },
    },
    { name: 'temperature 0.8, top-k 40', c: { seed: 24, vocab: 3000, rows: 1, options: opts({ temperature: 0.8, topK: 40 }), prompt: [], steps: 40 } },
    {
      name: 'temperature 1, top-k 50, top-p 0.9, penalty 1.2',
      c: {
        seed: 25,
        vocab: 5000,
        rows: 1,
        options: opts({ temperature: 1, topK: 50, topP: 0.9, repetitionPenalty: 1.2, seed: 99 }),
        prompt: [1, 2, 3],
        steps: 40,
      },
    },
    {
      name: 'top-k 256, f16 logits',
      c: { seed: 26, vocab: 2049, rows: 1, f16: true, options: opts({ temperature: 1.5, topK: 256, seed: 5 }), prompt: [], steps: 30 },
    },
    {
      name: 'no top-k (the whole row comes back)',
      c: { seed: 27, vocab: 3000, rows: 1, options: opts({ temperature: 1, topP: 0.95, seed: 3 }), prompt: [], steps: 20 },
    },
  ];
  it.each(runs)('$name', async ({ c }) => {
    const r = ok(await call('sample', c));
    expect(r.gpu).toEqual(r.cpu);
    expect(r.gpu.length).toBe(c.steps);
  });

  const greedy = opts({});
  const guarded: { name: string; c: SampleCase }[] = [
    { name: 'greedy (argmax), all NaN', c: { ...NON_FINITE[0], options: greedy, prompt: [], steps: 1 } },
    { name: 'greedy (argmax), f16 +Infinity', c: { ...NON_FINITE[4], options: greedy, prompt: [], steps: 1 } },
    { name: 'greedy + penalty (top-k), one NaN', c: { ...NON_FINITE[1], options: opts({ repetitionPenalty: 1.1 }), prompt: [5], steps: 1 } },
    { name: 'top-k 40, f16 all NaN', c: { ...NON_FINITE[3], options: opts({ temperature: 0.8, topK: 40 }), prompt: [], steps: 1 } },
    {
      name: 'whole row (no top-k), -Infinity',
      c: { ...NON_FINITE[1], nonFinite: { kind: '-inf', at: [10] }, options: opts({ temperature: 1 }), prompt: [], steps: 1 },
    },
  ];
  it.each(guarded)('a non-finite row raises NonFiniteError, no token: $name', async ({ c }) => {
    const r = await call('sample', { ...c, rows: 1 });
    expect(r.value).toBeNull();
    expect(r.error).toMatch(/^NonFiniteError: The model produced non-finite logits/);
  });

  it('penalised near-ties fall back to the whole row and still match', async () => {
    // Levels 0.5 apart and penalty 2: a seen 1.0 becomes exactly 0.5, tying unseen 0.5s, so
    // the candidates cannot prove the choice and the row is read.
    const c: SampleCase = { seed: 28, vocab: 1000, rows: 1, levels: 4, options: opts({ repetitionPenalty: 2 }), prompt: [], steps: 16 };
    const r = ok(await call('sample', c));
    expect(r.gpu).toEqual(r.cpu);
    expect(r.fallbacks).toBeGreaterThan(0);
  });
});
