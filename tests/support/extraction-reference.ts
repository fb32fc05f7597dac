/**
 * Test support: a CPU reference of a whole trait extraction with onnxruntime-node — the model
 * with every layer's residual tapped (src/engine/surgery tapResiduals), each prompt one fresh
 * prefill, pooled over the same token ranges the browser run used, then the CPU math of
 * src/traits/extract-math.ts — and the comparison with a browser result. Also greedy decoding on
 * the CPU (full prefill per token) for checking the replies of response-token extraction.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { tapResiduals } from '../../src/engine/surgery';
import { cosine, unitVector } from '../../src/steering/vector';
import { calibrate } from '../../src/traits/calibration';
import { chooseLayer, meanDifference, pcaDirection, project, separation } from '../../src/traits/extract-math';
import { poolPositions } from '../../src/traits/prompts';

export interface PooledSide {
  tokens: number[];
  first: number;
  count: number;
}

export interface PromptSet {
  extraction: { high: PooledSide; low: PooledSide }[];
  evaluation: { high: PooledSide; low: PooledSide }[];
}

/** The browser-side result fields the comparison reads (vectors as base64 f32). */
export interface ExtractedLike {
  method: string;
  layers: Record<string, string>;
  bestLayer: number;
  separation: { layer: number; effectSize: number; accuracy: number }[];
  calibration: { layer: number; center: number; scale: number };
}

export const unb64 = (s: string): Float32Array => {
  const buf = Buffer.from(s, 'base64');
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
};

export function i64(v: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
}

export async function cpuTapped(modelPath: string, numLayers: number): Promise<ort.InferenceSession> {
  const bytes = new Uint8Array(readFileSync(modelPath));
  return ort.InferenceSession.create(
    tapResiduals(
      bytes,
      Array.from({ length: numLayers }, (_, i) => i),
    ),
  );
}

/** Pooled residual per layer for one prompt (onnxruntime-node, CPU). */
export async function cpuPooled(
  s: ort.InferenceSession,
  side: PooledSide,
  numLayers: number,
  hidden: number,
  kv: { heads: number; dim: number },
): Promise<Float32Array[]> {
  const n = side.tokens.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames) {
    if (name === 'input_ids') feeds[name] = i64(side.tokens);
    else if (name === 'attention_mask') feeds[name] = i64(new Array(n).fill(1));
    else if (name === 'position_ids') feeds[name] = i64(Array.from({ length: n }, (_, i) => i));
    else feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.dim]);
  }
  const out = await s.run(feeds);
  const positions = Array.from({ length: side.count }, (_, i) => side.first + i);
  return Array.from({ length: numLayers }, (_, l) => poolPositions(out[`residual.${l}`].data as Float32Array, hidden, positions));
}

export interface CpuActivations {
  train: { high: Float32Array[][]; low: Float32Array[][] };
  held: { high: Float32Array[][]; low: Float32Array[][] };
}

export async function cpuActivations(
  s: ort.InferenceSession,
  set: PromptSet,
  numLayers: number,
  hidden: number,
  kv: { heads: number; dim: number },
): Promise<CpuActivations> {
  const collect = async (pairs: PromptSet['extraction']) => {
    const high: Float32Array[][] = Array.from({ length: numLayers }, () => []);
    const low: Float32Array[][] = Array.from({ length: numLayers }, () => []);
    for (const p of pairs) {
      const h = await cpuPooled(s, p.high, numLayers, hidden, kv);
      const l = await cpuPooled(s, p.low, numLayers, hidden, kv);
      for (let L = 0; L < numLayers; L++) {
        high[L].push(h[L]);
        low[L].push(l[L]);
      }
    }
    return { high, low };
  };
  return { train: await collect(set.extraction), held: await collect(set.evaluation) };
}

export function cpuExtract(a: CpuActivations, method: 'mean-diff' | 'pca', numLayers: number, iterations: number) {
  const vectors: Float32Array[] = [];
  const effect = new Map<number, number>();
  const seps = [];
  for (let L = 0; L < numLayers; L++) {
    const v = method === 'pca' ? pcaDirection(a.train.high[L], a.train.low[L], { maxIter: iterations }) : meanDifference(a.train.high[L], a.train.low[L]);
    vectors.push(v);
    const u = unitVector(v);
    const sep = separation(project(a.held.high[L], u), project(a.held.low[L], u));
    seps.push(sep);
    effect.set(L, sep.effectSize);
  }
  const best = chooseLayer(effect, numLayers);
  const u = unitVector(vectors[best]);
  const cal = calibrate(project(a.held.high[best], u), project(a.held.low[best], u));
  return { vectors, seps, best, cal };
}

export function checkAgainstCpu(gpu: ExtractedLike, cpu: ReturnType<typeof cpuExtract>, numLayers: number): void {
  for (let L = 0; L < numLayers; L++) {
    const v = unb64(gpu.layers[L]);
    expect(cosine(v, cpu.vectors[L]), `layer ${L} cosine`).toBeGreaterThan(0.999);
    if (gpu.method === 'mean-diff') expect(Math.abs(Math.hypot(...v) / Math.hypot(...cpu.vectors[L]) - 1), `layer ${L} norm`).toBeLessThan(5e-3);
    const s = gpu.separation.find((x) => x.layer === L)!;
    expect(s.accuracy).toBeCloseTo(cpu.seps[L].accuracy, 6);
    expect(Math.abs(s.effectSize - cpu.seps[L].effectSize)).toBeLessThan(0.02 * Math.max(1, Math.abs(cpu.seps[L].effectSize)));
  }
  expect(gpu.bestLayer).toBe(cpu.best);
  expect(gpu.calibration.layer).toBe(cpu.best);
  const tol = 0.01 * Math.abs(cpu.cal.scale) + 1e-3;
  expect(Math.abs(gpu.calibration.center - cpu.cal.center)).toBeLessThan(tol);
  expect(Math.abs(gpu.calibration.scale - cpu.cal.scale)).toBeLessThan(tol);
}

/** The uncut model on the CPU (onnxruntime-node). */
export async function cpuModel(modelPath: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(new Uint8Array(readFileSync(modelPath)));
}

/**
 * Greedy reply on the CPU: a full prefill of prompt + reply so far per token (no KV cache),
 * argmax of the last row, until EOS or `maxNew` tokens. `margin` = the smallest top-1 − top-2
 * logit gap seen (how safe the comparison with a GPU argmax is).
 */
export async function cpuGreedy(
  s: ort.InferenceSession,
  prompt: readonly number[],
  maxNew: number,
  eos: readonly number[],
  kv: { heads: number; dim: number },
): Promise<{ tokens: number[]; margin: number }> {
  const tokens: number[] = [];
  let margin = Infinity;
  while (tokens.length < maxNew) {
    const ids = [...prompt, ...tokens];
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of s.inputNames) {
      if (name === 'input_ids') feeds[name] = i64(ids);
      else if (name === 'attention_mask') feeds[name] = i64(new Array(n).fill(1));
      else if (name === 'position_ids') feeds[name] = i64(Array.from({ length: n }, (_, i) => i));
      else feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, kv.heads, 0, kv.dim]);
    }
    const out = await s.run(feeds);
    const logits = out.logits.data as Float32Array; // [1, n, vocab]
    const vocab = out.logits.dims[2];
    const row = logits.subarray((n - 1) * vocab, n * vocab);
    let best = 0;
    for (let i = 1; i < vocab; i++) if (row[i] > row[best]) best = i;
    let second = -Infinity;
    for (let i = 0; i < vocab; i++) if (i !== best && row[i] > second) second = row[i];
    margin = Math.min(margin, row[best] - second);
    if (eos.includes(best)) break;
    tokens.push(best);
  }
  return { tokens, margin };
}
