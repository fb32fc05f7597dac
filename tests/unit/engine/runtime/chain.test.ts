/**
 * SessionChain wiring with two stand-in sessions (part 0 → residual.1 → part 1 → logits): a
 * residual the caller binds as part 0's output (the decode step's buffers, residual-buffers.ts)
 * is the tensor part 1 reads and is never disposed; one ORT allocated is disposed once part 1 ran.
 */
import { describe, expect, it, vi } from 'vitest';
import { SessionChain, type ChainPart } from '../../../../src/engine/runtime/chain';
import { ort, type OrtSession, type OrtTensor } from '../../../../src/engine/runtime/ort';

type Run = (input: Record<string, OrtTensor>, bound?: Record<string, OrtTensor | null>) => Promise<Record<string, OrtTensor>>;

const row = (): OrtTensor => new ort.Tensor('float32', new Float32Array(4), [1, 1, 4]); // [1, tokens, hidden]

function fakeSession(inputNames: string[], outputNames: string[], run: Run): OrtSession {
  return { inputNames, outputNames, run } as unknown as OrtSession;
}

function twoParts() {
  const seen: { part0Bound?: Record<string, OrtTensor | null>; part1Input?: OrtTensor } = {};
  const ortResidual = row();
  const part0 = fakeSession(['input_ids'], ['residual.1'], async (_input, bound) => {
    seen.part0Bound = bound;
    return { 'residual.1': bound?.['residual.1'] ?? ortResidual };
  });
  const part1 = fakeSession(['residual.1'], ['logits'], async (input) => {
    seen.part1Input = input['residual.1'];
    return { logits: row() };
  });
  const parts: Omit<ChainPart, 'bytes'>[] = [
    { outputNames: ['residual.1'], residualOut: 'residual.1' },
    { outputNames: ['logits'], residualIn: 'residual.1' },
  ];
  const Chain = SessionChain as unknown as new (sessions: OrtSession[], parts: Omit<ChainPart, 'bytes'>[]) => SessionChain;
  return { chain: new Chain([part0, part1], parts), seen, ortResidual };
}

const feeds = () => ({ input_ids: new ort.Tensor('int64', BigInt64Array.from([1n]), [1, 1]) });

describe('SessionChain residuals', () => {
  it('a bound residual output is what the next part reads, steered in place, and is never disposed', async () => {
    const { chain, seen } = twoParts();
    const ours = row();
    const dispose = vi.spyOn(ours, 'dispose');
    const applied: OrtTensor[] = [];
    const interventor = { apply: (_cut: number, t: OrtTensor) => (applied.push(t), t) };
    for (let step = 0; step < 2; step++) await chain.run(feeds(), interventor, 1, { 'residual.1': ours });
    expect(seen.part0Bound?.['residual.1']).toBe(ours);
    expect(applied).toEqual([ours, ours]);
    expect(seen.part1Input).toBe(ours);
    expect(dispose).not.toHaveBeenCalled();
  });

  it('a residual ORT allocated is disposed after the next part ran', async () => {
    const { chain, seen, ortResidual } = twoParts();
    const dispose = vi.spyOn(ortResidual, 'dispose');
    await chain.run(feeds(), null, 1);
    expect(seen.part0Bound).toBeUndefined();
    expect(seen.part1Input).toBe(ortResidual);
    expect(dispose).toHaveBeenCalledTimes(1);
  });
});
