/**
 * The planted-trait model (src/testmodels/planted.ts) run with onnxruntime-node: the extraction
 * math recovers the planted direction at the planted layer, steering along it changes the
 * output, held-out separation picks the planted layer, and (as the site's offline demo) its
 * greedy replies are words: everyday words unsteered, cheerful or gloomy words steered.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { tapResiduals } from '../../../src/engine/surgery';
import { insertResidualAdd } from '../../support/steer-reference';
import { PLANTED, TEST_MODELS, modelFolderFiles } from '../../../src/testmodels';
import { ensureTestModels } from '../../../src/testmodels/write-hub-folder';
import { calibrate, score } from '../../../src/traits/calibration';
import { validateQuestions, validateTraitFile, type QuestionSet, type TraitDataset } from '../../../src/traits/dataset';
import { analyzeLayers, chooseLayer, meanDifference, pcaDirection, project, separation } from '../../../src/traits/extract-math';
import { cosine, unitVector } from '../../../src/steering/vector';
import { contrastivePrompts, extractionPositions, personaChat, poolPositions } from '../../../src/traits/prompts';
import type { ChatMessage } from '../../../src/shared/chat';

const MODELS_DIR = '.models';
const C = PLANTED.config;
const P = PLANTED.layer;
const LAYERS = Array.from({ length: C.numLayers }, (_, i) => i);

let tok: PreTrainedTokenizer;
let modelBytes: Uint8Array;
let tapped: ort.InferenceSession;
let trait: TraitDataset;
let questions: QuestionSet;

const i64 = (v: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
function feeds(ids: number[]): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {
    input_ids: i64(ids, [1, ids.length]),
    attention_mask: i64(Array<number>(ids.length).fill(1), [1, ids.length]),
    position_ids: i64(
      ids.map((_, i) => i),
      [1, ids.length],
    ),
  };
  for (let i = 0; i < C.numLayers; i++) {
    for (const kv of ['key', 'value']) f[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, C.numKvHeads, 0, C.headDim]);
  }
  return f;
}
function encodeChat(messages: ChatMessage[]): number[] {
  const text = tok.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string;
  return Array.from(tok.encode(text, { add_special_tokens: false }));
}
/** Residual after every layer at the last prompt token. */
async function lastResiduals(messages: ChatMessage[]): Promise<Float32Array[]> {
  const ids = encodeChat(messages);
  const out = await tapped.run(feeds(ids));
  const pos = extractionPositions(ids.length, 'last');
  return LAYERS.map((l) => poolPositions(out[`residual.${l}`].data as Float32Array, C.hiddenSize, pos));
}
/** Per layer: activations of the high and low prompts of a split. */
async function activations(split: 'extraction' | 'evaluation'): Promise<{ high: Float32Array[][]; low: Float32Array[][] }> {
  const high: Float32Array[][] = LAYERS.map(() => []);
  const low: Float32Array[][] = LAYERS.map(() => []);
  for (const p of contrastivePrompts(trait, questions, split)) {
    const h = await lastResiduals(p.high);
    const l = await lastResiduals(p.low);
    for (const L of LAYERS) {
      high[L].push(h[L]);
      low[L].push(l[L]);
    }
  }
  return { high, low };
}
function logitsLast(t: ort.Tensor): Float32Array {
  const [, S, V] = t.dims;
  return (t.data as Float32Array).subarray((S - 1) * V, S * V);
}
function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
const maxOf = (a: Float32Array, ids: readonly number[]): number => Math.max(...ids.map((i) => a[i]));

let train: { high: Float32Array[][]; low: Float32Array[][] };
let held: { high: Float32Array[][]; low: Float32Array[][] };

beforeAll(async () => {
  const res = await ensureTestModels(MODELS_DIR);
  const folder = res.folders[PLANTED.modelId];
  modelBytes = new Uint8Array(readFileSync(join(folder, 'onnx', 'model.onnx')));
  tapped = await ort.InferenceSession.create(tapResiduals(modelBytes, LAYERS));
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = resolve(MODELS_DIR) + '/';
  tok = await AutoTokenizer.from_pretrained(PLANTED.modelId);
  const t = validateTraitFile(JSON.parse(readFileSync('public/traits/planted-cheerful.json', 'utf8')));
  if (!t.ok) throw new Error(t.error);
  trait = t.trait;
  const q = validateQuestions(JSON.parse(readFileSync('public/traits/questions.json', 'utf8')));
  if (!q.ok) throw new Error(q.error);
  questions = q.value;
  train = await activations('extraction');
  held = await activations('evaluation');
});

describe('planted-trait model', () => {
  it('is generated deterministically into the hub folder, fp32 only', () => {
    const spec = TEST_MODELS[PLANTED.modelId];
    expect(spec.planted?.version).toBe(PLANTED.version);
    const a = modelFolderFiles(spec);
    expect(Object.keys(a).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'onnx/model.onnx',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(Buffer.from(a['onnx/model.onnx'] as Uint8Array).equals(Buffer.from(modelBytes))).toBe(true);
    const cfg = JSON.parse(a['config.json'] as string);
    expect(cfg).toMatchObject({ hidden_size: 64, num_hidden_layers: 6, vocab_size: C.vocabSize, tie_word_embeddings: false });
  });

  it('tokenizes each word (after a space) as its planted token, also inside a sentence', () => {
    PLANTED.cheerfulWords.forEach((w, i) => expect(Array.from(tok.encode(` ${w}`, { add_special_tokens: false })), w).toEqual([PLANTED.cheerfulTokens[i]]));
    PLANTED.gloomyWords.forEach((w, i) => expect(Array.from(tok.encode(` ${w}`, { add_special_tokens: false })), w).toEqual([PLANTED.gloomyTokens[i]]));
    PLANTED.neutralWords.forEach((w, i) => expect(Array.from(tok.encode(` ${w}`, { add_special_tokens: false })), w).toEqual([PLANTED.neutralTokens[i]]));
    const words = [...PLANTED.neutralWords, ...PLANTED.cheerfulWords, ...PLANTED.gloomyWords];
    const sentence = words.map((w) => ` ${w}`).join('');
    expect(Array.from(tok.encode(sentence, { add_special_tokens: false })).length).toBe(words.length);
    expect(PLANTED.wordTokens.map((t) => tok.decode([t])).sort()).toEqual(words.map((w) => ` ${w}`).sort());
    expect(tok.decode(encodeChat(personaChat('You are cheerful.', 'Hi?')), { skip_special_tokens: true })).toContain('You are cheerful.');
  });

  it('(i) mean difference and PCA at the planted layer recover the planted direction', () => {
    const md = meanDifference(train.high[P], train.low[P]);
    const pca = pcaDirection(train.high[P], train.low[P]);
    const pcaC = pcaDirection(train.high[P], train.low[P], { center: true });
    const cos = [cosine(md, PLANTED.direction), cosine(pca, PLANTED.direction), cosine(pcaC, PLANTED.direction)];
    console.log('cosines with d at P (mean diff, pca, centered pca):', cos.map((c) => c.toFixed(4)).join(' '));
    expect(cos[0]).toBeGreaterThan(0.9);
    expect(cos[1]).toBeGreaterThan(0.9);
    expect(Math.abs(cos[2])).toBeGreaterThan(0.9);
    expect(cos[2]).toBeGreaterThan(0); // sign fixed: high − low projects positively
    // Before the copy head the last position knows nothing about d.
    expect(Math.abs(cosine(meanDifference(train.high[P - 1], train.low[P - 1]), PLANTED.direction))).toBeLessThan(0.2);
  });

  it('(ii) adding α·d after the planted layer with no persona moves greedy output to a cheerful word', async () => {
    const ids = encodeChat([{ role: 'user', content: 'How are clouds formed?' }]);
    const base = logitsLast((await (await ort.InferenceSession.create(modelBytes)).run(feeds(ids))).logits);
    const typical = Math.sqrt(train.high[P].concat(train.low[P]).reduce((s, x) => s + x.reduce((a, v) => a + v * v, 0), 0) / (2 * train.high[P].length));
    const results: string[] = [];
    let prevGap = maxOf(base, PLANTED.cheerfulTokens) - maxOf(base, PLANTED.gloomyTokens);
    expect(PLANTED.cheerfulTokens).not.toContain(argmax(base));
    for (const alpha of [0.5, 1, 2, 4]) {
      const delta = PLANTED.direction.map((v) => v * alpha * typical);
      const s = await ort.InferenceSession.create(insertResidualAdd(modelBytes, P, delta));
      const lg = logitsLast((await s.run(feeds(ids))).logits);
      const gap = maxOf(lg, PLANTED.cheerfulTokens) - maxOf(lg, PLANTED.gloomyTokens);
      results.push(`α=${alpha}: gap ${gap.toFixed(2)} argmax ${argmax(lg)}`);
      expect(gap).toBeGreaterThan(prevGap);
      prevGap = gap;
      if (alpha >= 2) expect(PLANTED.cheerfulTokens).toContain(argmax(lg));
      // And the other way.
      const s2 = await ort.InferenceSession.create(
        insertResidualAdd(
          modelBytes,
          P,
          delta.map((v) => -v),
        ),
      );
      const lg2 = logitsLast((await s2.run(feeds(ids))).logits);
      expect(maxOf(lg2, PLANTED.gloomyTokens)).toBeGreaterThan(maxOf(lg2, PLANTED.cheerfulTokens));
      if (alpha >= 2) expect(PLANTED.gloomyTokens).toContain(argmax(lg2));
    }
    console.log(`typical residual norm at P: ${typical.toFixed(2)}; ${results.join('; ')}`);
  });

  it('a cheerful persona raises the cheerful words without steering, a gloomy one the gloomy words', async () => {
    const s = await ort.InferenceSession.create(modelBytes);
    for (const [k, pair] of trait.pairs.entries()) {
      const q = questions.questions[questions.split.evaluation[k]];
      const hi = logitsLast((await s.run(feeds(encodeChat(personaChat(pair.high, q))))).logits);
      const lo = logitsLast((await s.run(feeds(encodeChat(personaChat(pair.low, q))))).logits);
      expect(maxOf(hi, PLANTED.cheerfulTokens)).toBeGreaterThan(maxOf(hi, PLANTED.gloomyTokens));
      expect(maxOf(lo, PLANTED.gloomyTokens)).toBeGreaterThan(maxOf(lo, PLANTED.cheerfulTokens));
    }
  });

  it('greedy replies are words: everyday words unsteered, cheerful / gloomy words when steered along ±d', async () => {
    const typical = Math.sqrt(train.high[P].concat(train.low[P]).reduce((s, x) => s + x.reduce((a, v) => a + v * v, 0), 0) / (2 * train.high[P].length));
    const words = new Set(PLANTED.wordTokens);
    const cheerful = new Set(PLANTED.cheerfulTokens);
    const gloomy = new Set(PLANTED.gloomyTokens);
    const sessions = new Map<number, ort.InferenceSession>();
    for (const alpha of [0, 1, -1, 8, -8]) {
      const delta = PLANTED.direction.map((v) => v * alpha * typical);
      sessions.set(alpha, await ort.InferenceSession.create(alpha === 0 ? modelBytes : insertResidualAdd(modelBytes, P, delta)));
    }
    const lines: string[] = [];
    for (const prompt of ['Hello!', 'How are clouds formed?', 'Tell me a story about a dragon. ✨', 'x']) {
      const ids = encodeChat([{ role: 'user', content: prompt }]);
      for (const [alpha, s] of sessions) {
        const out: number[] = [];
        for (let k = 0; k < 12; k++) out.push(argmax(logitsLast((await s.run(feeds([...ids, ...out]))).logits)));
        lines.push(`${prompt} α=${alpha}:${tok.decode(out)}`);
        for (const t of out) expect(words.has(t), `token ${t} (${JSON.stringify(tok.decode([t]))}) at α=${alpha}`).toBe(true);
        const nCheer = out.filter((t) => cheerful.has(t)).length;
        const nGloom = out.filter((t) => gloomy.has(t)).length;
        if (alpha === 0) expect(nCheer + nGloom, prompt).toBe(0);
        if (alpha > 0) expect([nCheer, nGloom], prompt).toEqual([12, 0]);
        if (alpha < 0) expect([nCheer, nGloom], prompt).toEqual([0, 12]);
      }
    }
    console.log(lines.join('\n'));
  });

  it('(iii) held-out separation picks the planted layer; (iv) calibration maps held-out means to ±1', () => {
    const effect = new Map<number, number>();
    const lines: string[] = [];
    for (const L of LAYERS) {
      const dir = unitVector(meanDifference(train.high[L], train.low[L]));
      const sep = separation(project(held.high[L], dir), project(held.low[L], dir));
      effect.set(L, sep.effectSize);
      lines.push(`L${L}: d=${sep.effectSize.toFixed(2)} acc=${sep.accuracy.toFixed(2)}`);
    }
    console.log('held-out separation:', lines.join(', '));
    expect(chooseLayer(effect, C.numLayers)).toBe(P);
    for (const L of LAYERS) if (L !== P) expect(effect.get(L)!).toBeLessThan(effect.get(P)!);
    for (const [method, center] of [
      ['mean-diff', false],
      ['pca', false],
      ['pca', true],
    ] as const) {
      const a = analyzeLayers(train, held, C.numLayers, method, center);
      expect(a.bestLayer, method).toBe(P);
      expect(a.layers[P].separation.accuracy, method).toBe(1);
      expect(cosine(a.layers[P].direction, PLANTED.direction), method).toBeGreaterThan(0.9);
    }
    const dir = unitVector(meanDifference(train.high[P], train.low[P]));
    const hp = project(held.high[P], dir);
    const lp = project(held.low[P], dir);
    expect(separation(hp, lp).accuracy).toBe(1);
    const cal = calibrate(hp, lp);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(score(mean(hp), cal)).toBeCloseTo(1, 10);
    expect(score(mean(lp), cal)).toBeCloseTo(-1, 10);
    const neutral = project([held.high[P][0].map((v, i) => (v + held.low[P][0][i]) / 2)], dir)[0];
    expect(Math.abs(score(neutral, cal))).toBeLessThan(0.5);
  });
});
