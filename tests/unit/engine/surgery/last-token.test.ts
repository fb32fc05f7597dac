import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cutModel } from '../../../../src/engine/surgery';

const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);

async function runParts(parts: { bytes: Uint8Array; residualIn?: string; residualOut?: string; carryOut?: string[] }[], tokens: number[]) {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(tokens),
    attention_mask: i64(tokens.map(() => 1)),
    position_ids: i64(tokens.map((_, i) => i)),
  };
  for (let l = 0; l < 4; l++)
    for (const k of ['key', 'value']) feeds[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
  let residual: ort.Tensor | undefined;
  let out: Record<string, ort.Tensor> = {};
  for (const part of parts) {
    const s = await ort.InferenceSession.create(part.bytes);
    const mine: Record<string, ort.Tensor> = {};
    for (const n of s.inputNames) mine[n] = n === part.residualIn ? residual! : feeds[n];
    out = await s.run(mine);
    for (const n of part.carryOut ?? []) feeds[n] = out[n];
    if (part.residualOut) residual = out[part.residualOut];
  }
  return out.logits;
}

describe('last-token logits', () => {
  it('the LM head runs on the last position only and gives the same last row', async () => {
    const bytes = readFileSync('.models/traitlab/tiny-llama/onnx/model_q4.onnx');
    const tokens = [5, 9, 40, 41, 42, 7];
    const full = await runParts(cutModel(bytes, [1]).parts, tokens);
    const last = await runParts(cutModel(bytes, [1], { lastTokenLogits: true }).parts, tokens);
    const vocab = full.dims[2];
    expect(last.dims).toEqual([1, 1, vocab]);
    const row = (full.data as Float32Array).slice((tokens.length - 1) * vocab);
    const got = last.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs(got[i] - row[i]));
    expect(worst).toBeLessThan(1e-5);
  });
});
