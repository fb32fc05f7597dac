/**
 * Stop extraction takes effect within one forward pass: a stop asked for during a prompt's
 * forward pass means no further pass runs, and a stop while the model bytes are read (or the
 * tapped session is created) ends the run before any session exists. CPU statistics and a
 * scripted tapped session stand in for the GPU.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractWithSession, prepareTrait, runExtraction, type ExtractionHost } from '../../../../src/engine/extraction/run';
import { TappedSession, type TappedSource } from '../../../../src/engine/extraction/tapped-session';
import type { ChatTokenizer } from '../../../../src/engine/hub/tokenizer';
import type { OrtTensor } from '../../../../src/engine/runtime/ort';
import { validateQuestions, validateTraitFile } from '../../../../src/traits/dataset';

const HIDDEN = 4;
const LAYERS = [0, 1];

/** Five tokens for any chat. */
const tokenizer = { encodeChat: () => [1, 2, 3, 4, 5] } as unknown as ChatTokenizer;

/** A tapped session whose forward passes are counted; `during(n)` runs inside the n-th pass (1-based). */
function scriptedSession(during: (pass: number) => void) {
  let passes = 0;
  const session = {
    layers: LAYERS,
    run: async (tokens: number[]) => {
      passes++;
      during(passes);
      // [1, tokens, hidden] per tapped layer
      return LAYERS.map(() => ({ data: new Float32Array(tokens.length * HIDDEN).fill(passes), dispose() {} }) as unknown as OrtTensor);
    },
  } as unknown as TappedSession;
  return { session, passes: () => passes };
}

function host(loadSource: () => Promise<TappedSource>): ExtractionHost {
  return { tokenizer, loadSource, model: 'org/fake', revision: 'main', dtype: 'q4', numLayers: LAYERS.length, hidden: HIDDEN, device: null };
}

const questions = validateQuestions(JSON.parse(readFileSync('public/traits/questions.json', 'utf8')));
const trait = validateTraitFile(JSON.parse(readFileSync('public/traits/extraversion.json', 'utf8')));
if (!questions.ok || !trait.ok) throw new Error('built-in dataset invalid');
const prepared = prepareTrait(trait.trait, questions.value, { maxPairs: 2, maxQuestions: { extraction: 2, evaluation: 2 } });

/** Serves public/traits/ for runExtraction's trait files. */
const fetchTraits = (async (url: string | URL | Request) => new Response(readFileSync(`public/traits/${String(url).split('/').at(-1)}`))) as typeof fetch;

afterEach(() => vi.restoreAllMocks());

describe('stop extraction', () => {
  it('runs every forward pass when nobody stops (2 pairs × 2 questions, high and low, train + held out)', async () => {
    const { session, passes } = scriptedSession(() => undefined);
    const r = await extractWithSession(
      host(async () => ({}) as TappedSource),
      session,
      prepared,
      { traits: ['extraversion'] },
      () => undefined,
      () => false,
    );
    expect(passes()).toBe(2 * 4 + 2 * 4);
    expect(Object.keys(r.layers)).toEqual(['0', '1']);
  });

  for (const at of [1, 3, 8, 9, 12]) {
    it(`a stop asked for during forward pass ${at} ends the run before pass ${at + 1}`, async () => {
      let stop = false;
      const { session, passes } = scriptedSession((n) => {
        if (n === at) stop = true;
      });
      const run = extractWithSession(
        host(async () => ({}) as TappedSource),
        session,
        prepared,
        { traits: ['extraversion'] },
        () => undefined,
        () => stop,
      );
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      expect(passes()).toBe(at);
    });
  }

  it('a stop while the model bytes are read ends the run before the tapped session is created', async () => {
    let stop = false;
    const create = vi.spyOn(TappedSession, 'create');
    const loadSource = async () => {
      stop = true;
      return {} as TappedSource;
    };
    const run = runExtraction(
      host(loadSource),
      { traits: ['extraversion'], traitsBaseUrl: 'http://site/traits/', cache: false },
      { shouldStop: () => stop, fetchFn: fetchTraits },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(create).not.toHaveBeenCalled();
  });

  it('a stop while the tapped session is created ends the run before the first forward pass, and releases the session', async () => {
    let stop = false;
    const { session, passes } = scriptedSession(() => undefined);
    const release = vi.fn(async () => undefined);
    Object.assign(session, { release });
    vi.spyOn(TappedSession, 'create').mockImplementation(async () => {
      stop = true;
      return session;
    });
    const run = runExtraction(
      host(async () => ({}) as TappedSource),
      { traits: ['extraversion'], traitsBaseUrl: 'http://site/traits/', cache: false },
      { shouldStop: () => stop, fetchFn: fetchTraits },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(passes()).toBe(0);
    expect(release).toHaveBeenCalledOnce();
  });
});
