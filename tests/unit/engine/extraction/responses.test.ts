/**
 * Response-token extraction (positions 'response') without a GPU: the reply positions, the
 * decode-loop responder (greedy, EOS excluded, stoppable between tokens), and a whole
 * extractWithSession run over a scripted tapped session whose residual rows hold their token
 * id — so the vector must be exactly mean(high reply ids) − mean(low reply ids) — plus the
 * cache key telling the methods apart.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractWithSession, prepareTrait, runExtraction, type ExtractionHost } from '../../../../src/engine/extraction/run';
import { decodeResponder, repliedSide, type Responder } from '../../../../src/engine/extraction/responses';
import { TappedSession, type TappedSource } from '../../../../src/engine/extraction/tapped-session';
import type { ChatTokenizer } from '../../../../src/engine/hub/tokenizer';
import type { ForwardModel } from '../../../../src/engine/runtime/decode-loop';
import type { KvCache } from '../../../../src/engine/runtime/kv-cache';
import type { OrtTensor } from '../../../../src/engine/runtime/ort';
import { validateQuestions, validateTraitFile } from '../../../../src/traits/dataset';
import { responsePositions, extractionPositions } from '../../../../src/traits/prompts';
import type { VectorCacheKey, VectorStore } from '../../../../src/traits/vector-cache';
import type { ChatMessage } from '../../../../src/shared/chat';

const HIDDEN = 3;
const LAYERS = [0, 1];
const HIGH_PROMPT = 100;
const LOW_PROMPT = 200;

const questions = validateQuestions(JSON.parse(readFileSync('public/traits/questions.json', 'utf8')));
const trait = validateTraitFile(JSON.parse(readFileSync('public/traits/extraversion.json', 'utf8')));
if (!questions.ok || !trait.ok) throw new Error('built-in dataset invalid');
const prepared = prepareTrait(trait.trait, questions.value, { maxPairs: 2, maxQuestions: { extraction: 2, evaluation: 1 } });
const highPersonas = new Set(trait.trait.pairs.map((p) => p.high));

/** A chat's tokens end with 100 under a high persona, 200 under a low one. */
const tokenizer = {
  encodeChat: (m: ChatMessage[]) => [1, 2, highPersonas.has(m[0].content) ? HIGH_PROMPT : LOW_PROMPT],
  decode: (ids: readonly number[]) => ids.map((i) => `w${i}`).join(' '),
} as unknown as ChatTokenizer;

/** Replies: high → [11, 13] (mean 12), low → [3]. */
function fakeResponder(): Responder & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    calls,
    async reply(prompt) {
      calls.push(prompt);
      return { tokens: prompt.at(-1) === HIGH_PROMPT ? [11, 13] : [3], stopped: false };
    },
    dispose() {},
  };
}

/** A tapped session whose residual row i of every layer is tokens[i] in each component. */
function echoSession() {
  const runs: number[][] = [];
  const session = {
    layers: LAYERS,
    run: async (tokens: number[]) => {
      runs.push(tokens);
      const data = new Float32Array(tokens.length * HIDDEN); // [tokens, hidden]
      tokens.forEach((t, i) => data.fill(t, i * HIDDEN, (i + 1) * HIDDEN));
      return LAYERS.map(() => ({ data, dispose() {} }) as unknown as OrtTensor);
    },
    release: async () => undefined,
  } as unknown as TappedSession;
  return { session, runs };
}

function host(responder?: () => Promise<Responder>): ExtractionHost {
  return {
    tokenizer,
    loadSource: async () => ({}) as TappedSource,
    model: 'org/fake',
    revision: 'main',
    dtype: 'fp32',
    numLayers: LAYERS.length,
    hidden: HIDDEN,
    device: null,
    responder,
  };
}

afterEach(() => vi.restoreAllMocks());

describe('response positions', () => {
  it('are the reply tokens after the prompt; an empty reply reads the last prompt token', () => {
    expect(responsePositions(5, 3)).toEqual([5, 6, 7]);
    expect(responsePositions(5, 0)).toEqual([4]);
    expect(repliedSide([1, 2], [7, 8])).toEqual({ tokens: [1, 2, 7, 8], first: 2, count: 2, reply: [7, 8] });
    expect(() => responsePositions(0, 2)).toThrow(/prompt token/);
    expect(() => extractionPositions(5, 'response')).toThrow(/responsePositions/);
  });
});

describe('decodeResponder', () => {
  /** Greedy picks token (last input + 1) until 9, which is EOS. */
  function counting() {
    let passes = 0;
    const cache = { length: 0, clear() {}, truncate() {}, reusable: () => 0 } as unknown as KvCache;
    const model: ForwardModel & { destroy(): void } = {
      cache,
      async forward(tokens) {
        passes++;
        const logits = new Float32Array(12);
        logits[Math.min(tokens.at(-1)! + 1, 9)] = 5;
        return logits;
      },
      destroy() {},
    };
    return { model, passes: () => passes };
  }

  it('replies greedily up to the budget, without the EOS token', async () => {
    const { model } = counting();
    const r = decodeResponder(model, [9], 100);
    await expect(r.reply([1, 4], 3, () => false)).resolves.toEqual({ tokens: [5, 6, 7], stopped: false });
    await expect(r.reply([1, 6], 10, () => false)).resolves.toEqual({ tokens: [7, 8], stopped: false });
  });

  it('a stop between reply tokens ends the reply after one more forward pass at most', async () => {
    const { model, passes } = counting();
    let stop = false;
    const r = decodeResponder(model, [9], 100);
    const out = await r.reply([0], 8, () => {
      if (passes() >= 2) stop = true;
      return stop;
    });
    expect(out.stopped).toBe(true);
    expect(passes()).toBe(2);
  });
});

describe('extractWithSession, positions response', () => {
  it('averages exactly the reply rows: vector = mean(high replies) − mean(low replies); replies and progress recorded', async () => {
    const { session, runs } = echoSession();
    const responder = fakeResponder();
    const phases: string[] = [];
    const r = await extractWithSession(
      host(),
      session,
      prepared,
      { traits: ['extraversion'], positions: 'response', responseTokens: 4 },
      (phase, done, total) => phases.push(`${phase}:${done}/${total}`),
      () => false,
      responder,
    );
    // 2 pairs × (2 extraction + 1 evaluation) questions, high and low: 12 replies, then 12 reads.
    expect(responder.calls).toHaveLength(12);
    expect(phases.filter((p) => p.startsWith('generation:') && !p.includes(':0/'))).toHaveLength(12);
    expect(phases.indexOf('generation:12/12')).toBeLessThan(phases.indexOf('extraction:0/8'));
    expect(runs).toHaveLength(12);
    expect(runs[0]).toEqual([1, 2, HIGH_PROMPT, 11, 13]);
    expect(runs[1]).toEqual([1, 2, LOW_PROMPT, 3]);
    for (const l of LAYERS) expect(Array.from(r.layers[l])).toEqual([9, 9, 9]); // 12 − 3
    expect(r.positions).toBe('response');
    expect(r.responseTokens).toBe(4);
    expect(r.responses).toHaveLength(6);
    expect(r.responses![0]).toMatchObject({ split: 'extraction', pair: 0, high: [11, 13], low: [3], highText: 'w11 w13', lowText: 'w3' });
    expect(r.responses!.filter((x) => x.split === 'evaluation')).toHaveLength(2);
    // Held-out projections on the unit vector: high 12·√3, low 3·√3 → separated.
    expect(r.separation.every((s) => s.accuracy === 1)).toBe(true);
  });

  it('a stop during generation ends the run before the next reply and reads nothing', async () => {
    const { session, runs } = echoSession();
    const responder = fakeResponder();
    let stop = false;
    const inner = responder.reply.bind(responder);
    responder.reply = async (...a) => {
      const out = await inner(...a);
      if (responder.calls.length === 3) stop = true;
      return out;
    };
    const run = extractWithSession(
      host(),
      session,
      prepared,
      { traits: ['extraversion'], positions: 'response' },
      () => undefined,
      () => stop,
      responder,
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(responder.calls).toHaveLength(3);
    expect(runs).toHaveLength(0);
  });
});

describe('runExtraction, positions response', () => {
  const fetchTraits = (async (url: string | URL | Request) => new Response(readFileSync(`public/traits/${String(url).split('/').at(-1)}`))) as typeof fetch;
  const req = { traits: ['extraversion'], traitsBaseUrl: 'http://site/traits/', maxPairs: 1, maxQuestions: { extraction: 1, evaluation: 1 } };

  it('cache keys tell prompt-token and response vectors (and reply budgets) apart; the responder is disposed', async () => {
    vi.spyOn(TappedSession, 'create').mockImplementation(async () => echoSession().session);
    const keys: VectorCacheKey[] = [];
    const cache: VectorStore = { get: async () => null, put: async (k) => void keys.push(k), clear: async () => undefined };
    let disposed = 0;
    const make = async () => ({ ...fakeResponder(), dispose: () => void disposed++ });
    const h = host(make);
    await runExtraction(h, { ...req, positions: 'last' }, { cache, fetchFn: fetchTraits });
    await runExtraction(h, { ...req, positions: 'response' }, { cache, fetchFn: fetchTraits });
    await runExtraction(h, { ...req, positions: 'response', responseTokens: 8 }, { cache, fetchFn: fetchTraits });
    expect(keys.map((k) => `${k.positions}|${k.options}`)).toEqual(['last|', 'response|response=16,greedy', 'response|response=8,greedy']);
    expect(disposed).toBe(2);
  });

  it('bad reply budgets and hosts that cannot generate get clear messages', async () => {
    await expect(
      runExtraction(
        host(async () => fakeResponder()),
        { ...req, positions: 'response', responseTokens: 0 },
        { fetchFn: fetchTraits },
      ),
    ).rejects.toThrow(/responseTokens must be a whole number from 1 to 64/);
    await expect(runExtraction(host(), { ...req, positions: 'response' }, { fetchFn: fetchTraits })).rejects.toThrow(/cannot generate replies/);
    await expect(runExtraction(host(), { ...req, positions: 'middle' as never }, { fetchFn: fetchTraits })).rejects.toThrow(/unknown positions "middle"/);
  });
});
