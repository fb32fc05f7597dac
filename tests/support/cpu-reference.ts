/**
 * CPU reference decoding with onnxruntime-node: greedy generation recomputed from scratch at
 * every step (no KV cache), with the top-1/top-2 margin per step so tests can tell real
 * disagreements from near-ties that GPU rounding may flip.
 */
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

/** A session for model bytes whose external data (if any) lives next to `originalPath`. */
export async function cpuSession(bytes: Uint8Array, originalPath: string): Promise<ort.InferenceSession> {
  const data = `${originalPath}_data`;
  if (!existsSync(data)) return ort.InferenceSession.create(bytes);
  const dir = mkdtempSync(join(tmpdir(), 'traitlab-ref-'));
  copyFileSync(data, join(dir, `${originalPath.slice(dirname(originalPath).length + 1)}_data`));
  const path = join(dir, originalPath.slice(dirname(originalPath).length + 1));
  writeFileSync(path, bytes);
  return ort.InferenceSession.create(path);
}

function feedsFor(session: ort.InferenceSession, tokens: number[], kvHeads: number, headDim: number): Record<string, ort.Tensor> {
  const n = tokens.length;
  const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = i64(tokens);
    else if (name === 'attention_mask') feeds[name] = i64(new Array(n).fill(1));
    else if (name === 'position_ids') feeds[name] = i64(Array.from({ length: n }, (_, i) => i));
    else if (name.startsWith('past_key_values')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    else throw new Error(`reference: unexpected input ${name}`);
  }
  return feeds;
}

export interface GreedyStep {
  token: number;
  margin: number; // top-1 minus top-2 logit
}

export async function greedyNoCache(
  session: ort.InferenceSession,
  prompt: number[],
  steps: number,
  shape: { kvHeads: number; headDim: number },
): Promise<GreedyStep[]> {
  const seq = [...prompt];
  const out: GreedyStep[] = [];
  for (let s = 0; s < steps; s++) {
    const r = await session.run(feedsFor(session, seq, shape.kvHeads, shape.headDim));
    const logits = r.logits;
    const vocab = logits.dims[2];
    const data = logits.data as Float32Array;
    const row = data.subarray((seq.length - 1) * vocab, seq.length * vocab);
    let a = 0;
    let b = -1;
    for (let i = 1; i < vocab; i++) {
      if (row[i] > row[a]) {
        b = a;
        a = i;
      } else if (b < 0 || row[i] > row[b]) b = i;
    }
    out.push({ token: a, margin: row[a] - row[b] });
    seq.push(a);
  }
  return out;
}

/** Last-token logits of one full pass. */
export async function lastLogits(session: ort.InferenceSession, tokens: number[], shape: { kvHeads: number; headDim: number }): Promise<Float32Array> {
  const r = await session.run(feedsFor(session, tokens, shape.kvHeads, shape.headDim));
  const vocab = r.logits.dims[2];
  return (r.logits.data as Float32Array).slice((tokens.length - 1) * vocab, tokens.length * vocab);
}

/**
 * Compare GPU tokens with the CPU reference up to the first near-tie (margin below `tieMargin`),
 * where f32 rounding differences between backends may legitimately pick the other token.
 * Returns how many steps were compared.
 */
export function compareGreedy(gpu: number[], ref: GreedyStep[], tieMargin = 1e-2): number {
  let n = 0;
  for (let i = 0; i < Math.min(gpu.length, ref.length); i++) {
    if (gpu[i] !== ref[i].token) throw new Error(`step ${i}: GPU chose ${gpu[i]}, CPU reference ${ref[i].token} (margin ${ref[i].margin})`);
    n++;
    if (ref[i].margin < tieMargin) break;
  }
  return n;
}
