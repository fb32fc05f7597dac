/**
 * The f16 guard in the decode loop: a fake forward whose logits turn NaN (or Infinity) stops
 * generation with a NonFiniteError at that token, nothing sampled from the bad row; the engine's
 * advice offers q4 for f16 activations only.
 */
import { describe, expect, it } from 'vitest';
import { runDecodeLoop, type ForwardModel } from '../../../../src/engine/runtime/decode-loop';
import { firstNonFinite, NonFiniteError, withDtypeAdvice } from '../../../../src/engine/runtime/finite-guard';

/** A forward over a 4-token vocabulary: token 2 wins every step; from call `badFrom` on, logits hold `bad`. */
function fakeForward(badFrom: number, bad = NaN): ForwardModel & { calls: number } {
  const tokens: number[] = [];
  const cache = {
    get length() {
      return tokens.length;
    },
    reusable: () => 0,
    truncate: (n: number) => void tokens.splice(n),
  };
  const model = {
    calls: 0,
    cache: cache as never,
    async forward(t: number[]) {
      tokens.push(...t);
      const logits = Float32Array.from([0, 1, 5, 2]); // [vocab]
      if (model.calls++ >= badFrom) logits[1] = bad;
      return logits;
    },
  };
  return model;
}

const opts = (onToken: (id: number) => void) => ({
  sampling: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1 },
  maxNewTokens: 10,
  eos: [],
  contextLength: 100,
  reuseCache: false,
  shouldStop: () => false,
  onToken,
});

describe('f16 guard', () => {
  it('stops at the first non-finite logits row, having emitted only the tokens before it', async () => {
    const emitted: number[] = [];
    const err = await runDecodeLoop(
      fakeForward(3),
      [1, 1],
      opts((id) => void emitted.push(id)),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).tokenIndex).toBe(3);
    expect((err as Error).message).toBe('The model produced non-finite logits (NaN or Infinity) at generated token 3: generation stopped.');
    expect(emitted).toEqual([2, 2, 2]);
  });

  it('catches Infinity in the prefill logits too (no token emitted)', async () => {
    const emitted: number[] = [];
    await expect(
      runDecodeLoop(
        fakeForward(0, Infinity),
        [1],
        opts((id) => void emitted.push(id)),
      ),
    ).rejects.toThrow(/non-finite logits/);
    expect(emitted).toEqual([]);
  });

  it('a GPU choose() that raises NonFiniteError stops the loop at the right token index', async () => {
    const emitted: number[] = [];
    let calls = 0;
    const model = fakeForward(99);
    const gpu: ForwardModel = {
      cache: model.cache,
      forward: model.forward,
      async choose() {
        if (calls++ >= 2) throw new NonFiniteError('logits', -1); // what gpu-sampling.ts throws
        return 2;
      },
    };
    const err = await runDecodeLoop(
      gpu,
      [1],
      opts((id) => void emitted.push(id)),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).tokenIndex).toBe(2);
    expect((err as Error).message).toContain('at generated token 2');
    expect(emitted).toEqual([2, 2]);
  });

  it('runs to the token budget when every row is finite', async () => {
    const r = await runDecodeLoop(
      fakeForward(99),
      [1],
      opts(() => undefined),
    );
    expect(r.generated).toHaveLength(10);
    expect(r.finishReason).toBe('max-tokens');
  });

  it('advises q4 for f16 activations, and only for them', () => {
    const f16 = withDtypeAdvice(new NonFiniteError('logits', 0), 'q4f16', true);
    expect(f16.detail.offers).toEqual(['use-q4']);
    expect(f16.message).toContain('reload with q4');
    expect(withDtypeAdvice(new NonFiniteError('trait readouts', 2), 'q4', false).detail.offers).toEqual(['retry']);
    expect(firstNonFinite([1, 2, -Infinity])).toBe(2);
    expect(firstNonFinite(new Float32Array(3))).toBe(-1);
  });
});
