/** The one trait-data loader: index, trait files by id or inline, and questions, all validated. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TraitFileError, TraitFiles } from '../../../src/traits/trait-files';
import { resolveTraits } from '../../../src/engine/extraction/run';

const BASE = 'http://test.local/traits/';

/** A fetch serving public/traits/, with files overridden (string = body, number = HTTP status). */
function fakeFetch(over: Record<string, string | number> = {}) {
  const requested: string[] = [];
  const fn = (async (input: RequestInfo | URL) => {
    const url = String(input);
    requested.push(url);
    const file = url.slice(BASE.length);
    const o = over[file];
    if (typeof o === 'number') return new Response('nope', { status: o });
    if (typeof o === 'string') return new Response(o, { status: 200 });
    try {
      return new Response(readFileSync(`public/traits/${file}`, 'utf8'), { status: 200 });
    } catch {
      return new Response('missing', { status: 404 });
    }
  }) as typeof fetch;
  return { fn, requested };
}

const load = (f: string) => JSON.parse(readFileSync(`public/traits/${f}`, 'utf8')) as Record<string, unknown>;

describe('TraitFiles', () => {
  it('resolves built-in ids through the index (fetched once) and the questions it names', async () => {
    const f = fakeFetch();
    const r = await new TraitFiles(BASE, f.fn).resolve({ traits: ['openness', 'extraversion'] });
    expect(r.traits.map((t) => t.id)).toEqual(['openness', 'extraversion']);
    expect(r.questions.questions.length).toBeGreaterThanOrEqual(10);
    expect(f.requested.filter((u) => u.endsWith('index.json'))).toHaveLength(1);
    expect(f.requested).toContain(`${BASE}questions.json`);
  });

  it('takes inline trait datasets and questions without fetching anything', async () => {
    const f = fakeFetch();
    const r = await new TraitFiles(BASE, f.fn).resolve({ traits: [load('openness.json')], questions: load('questions.json') });
    expect(r.traits[0].id).toBe('openness');
    expect(f.requested).toEqual([]);
  });

  it('validates the index: a bad one is rejected with the file named', async () => {
    const f = fakeFetch({ 'index.json': JSON.stringify({ format: 'other', traits: [] }) });
    const err = await new TraitFiles(BASE, f.fn).resolve({ traits: ['openness'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TraitFileError);
    expect((err as Error).message).toMatch(/index\.json: trait index: wrong format tag/);
  });

  it('names what failed: unknown id, HTTP error, invalid trait, invalid questions, bad JSON', async () => {
    const files = (over: Record<string, string | number>) => new TraitFiles(BASE, fakeFetch(over).fn);
    await expect(files({}).resolve({ traits: ['no-such-trait'] })).rejects.toThrow('there is no built-in trait "no-such-trait"');
    await expect(files({ 'openness.json': 404 }).resolve({ traits: ['openness'] })).rejects.toThrow(`Could not load ${BASE}openness.json (HTTP 404).`);
    await expect(files({}).resolve({ traits: [{ format: 'nope' }] })).rejects.toThrow(/wrong format tag|format/);
    await expect(files({}).resolve({ traits: ['openness'], questions: { format: 'x' } })).rejects.toThrow(/questions file/);
    await expect(files({ 'questions.json': '{not json' }).resolve({ traits: ['openness'] })).rejects.toThrow(`${BASE}questions.json is not valid JSON.`);
  });
});

describe('extraction resolveTraits over TraitFiles', () => {
  it('prefixes loader errors with "extract:" and rejects an empty request', async () => {
    const f = fakeFetch();
    await expect(resolveTraits({ traits: [] }, f.fn)).rejects.toThrow('extract: no traits requested');
    await expect(resolveTraits({ traits: ['missing'], traitsBaseUrl: BASE }, f.fn)).rejects.toThrow('extract: there is no built-in trait "missing"');
    const ok = await resolveTraits({ traits: ['neuroticism'], traitsBaseUrl: BASE }, f.fn);
    expect(ok.traits[0].id).toBe('neuroticism');
  });
});
