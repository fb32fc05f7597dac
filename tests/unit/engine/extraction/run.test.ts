/**
 * Trait extraction without a browser: the kernels' CPU references against extract-math, the
 * CPU (WASM-fallback) statistics backend, prompt preparation and cache keys, and the worker
 * protocol's extract / progress / stop over a fake engine.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../../../../src/client/engine-client';
import { CpuStats } from '../../../../src/engine/extraction/stats-backend';
import { prepareTrait } from '../../../../src/engine/extraction/run';
import { ExtractionCancelled, type ExtractProgress, type ExtractRequest } from '../../../../src/protocol/extraction';
import type { ExtractedTrait } from '../../../../src/traits/extracted';
import { fixSignTowardHigh, pcaPowerRef } from '../../../../src/engine/kernels/pca-ref';
import { accumulateRef, meanDiffRef, statsState } from '../../../../src/engine/kernels/stats-ref';
import type { OrtTensor } from '../../../../src/engine/runtime/ort';
import type { EngineApi } from '../../../../src/protocol/engine-api';
import { createHandler } from '../../../../src/worker/handler';
import type { Request, Response } from '../../../../src/protocol/messages';
import { validateQuestions, validateTraitFile, type QuestionSet, type TraitDataset } from '../../../../src/traits/dataset';
import { meanDifference, pcaDirection } from '../../../../src/traits/extract-math';
import { cosine } from '../../../../src/steering/vector';
import { VectorCache, vectorCacheKey } from '../../../../src/traits/vector-cache';
import { readFileSync } from 'node:fs';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return a / 4294967296;
  };
}
const randn = (r: () => number, n: number) => Float32Array.from({ length: n }, () => (r() + r() + r() - 1.5) * 2);

/** Paired activations with a shared trait direction (per layer). */
function pairedData(hidden: number, layers: number, pairs: number, seed: number) {
  const r = rng(seed);
  const trait = randn(r, hidden);
  const high: Float32Array[][] = [];
  const low: Float32Array[][] = [];
  for (let l = 0; l < layers; l++) {
    high.push([]);
    low.push([]);
    for (let p = 0; p < pairs; p++) {
      const base = randn(r, hidden);
      const s = 0.5 + r();
      high[l].push(base.map((x, i) => x + s * trait[i] * (l + 1)));
      low[l].push(base.map((x, i) => x - s * trait[i] * (l + 1) + 0.3 * (r() - 0.5)));
    }
  }
  return { high, low };
}

describe('extraction kernels: CPU references agree with extract-math', () => {
  const hidden = 24;
  const layers = 3;
  const pairs = 7;
  const { high, low } = pairedData(hidden, layers, pairs, 5);
  const s = statsState(hidden, layers, pairs);
  for (let p = 0; p < pairs; p++) {
    for (let l = 0; l < layers; l++) {
      accumulateRef(s, high[l][p], { layer: l, first: 0, count: 1, cls: 0, pair: p });
      accumulateRef(s, low[l][p], { layer: l, first: 0, count: 1, cls: 1, pair: p });
    }
  }
  const md = meanDiffRef(s, pairs, pairs);

  it('accumulate + finalize_mean = meanDifference', () => {
    for (let l = 0; l < layers; l++) {
      const want = meanDifference(high[l], low[l]);
      md.subarray(l * hidden, (l + 1) * hidden).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    }
  });

  it('power iteration + sign fix = pcaDirection (uncentered and centered)', () => {
    for (const center of [false, true]) {
      const v = pcaPowerRef(s.diffs, md, { hidden, layers, pairs }, 200, center);
      for (let l = 0; l < layers; l++) {
        const got = fixSignTowardHigh(v.slice(l * hidden, (l + 1) * hidden), md.subarray(l * hidden, (l + 1) * hidden));
        expect(cosine(got, pcaDirection(high[l], low[l], { center }))).toBeGreaterThan(0.99999);
      }
    }
  });

  it('pooling over several rows averages them', () => {
    const st = statsState(2, 1, 1);
    accumulateRef(st, Float32Array.from([1, 2, 3, 4, 5, 6]), { layer: 0, first: 1, count: 2, cls: 0, pair: 0 });
    expect(Array.from(st.sums.subarray(0, 2))).toEqual([4, 5]);
    expect(Array.from(st.diffs.subarray(0, 2))).toEqual([4, 5]);
  });
});

describe('CpuStats (WASM fallback)', () => {
  it('matches extract-math on pooled rows and projects on unit vectors', async () => {
    const hidden = 8;
    const { high, low } = pairedData(hidden, 2, 5, 9);
    const tensor = (rows: Float32Array[]) => ({ data: Float32Array.from(rows.flatMap((x) => Array.from(x))) }) as unknown as OrtTensor;
    for (const method of ['mean-diff', 'pca'] as const) {
      const st = new CpuStats({ hidden, layers: 2, pairs: 5, evalSlots: 2, slotRows: 1 });
      for (let p = 0; p < 5; p++) {
        // Two rows per prompt, pooled over the last one only.
        st.accumulate(
          [0, 1].map((l) => tensor([new Float32Array(hidden).fill(99), high[l][p]])),
          1,
          1,
          0,
          p,
        );
        st.accumulate(
          [0, 1].map((l) => tensor([new Float32Array(hidden).fill(99), low[l][p]])),
          1,
          1,
          1,
          p,
        );
      }
      const v = await st.finish({ method });
      for (let l = 0; l < 2; l++) {
        const want = method === 'pca' ? pcaDirection(high[l], low[l]) : meanDifference(high[l], low[l]);
        expect(cosine(v[l], want)).toBeGreaterThan(0.99999);
      }
      st.setDirections(v);
      st.project(
        [0, 1].map((l) => tensor([high[l][0]])),
        0,
        1,
        0,
      );
      st.project(
        [0, 1].map((l) => tensor([low[l][0]])),
        0,
        1,
        1,
      );
      const proj = await st.projections();
      expect(proj[0][0]).toBeGreaterThan(proj[0][1]);
    }
  });
});

describe('prompt preparation and cache keys', () => {
  const q = validateQuestions(JSON.parse(readFileSync('public/traits/questions.json', 'utf8')));
  const t = validateTraitFile(JSON.parse(readFileSync('public/traits/extraversion.json', 'utf8')));
  if (!q.ok || !t.ok) throw new Error('built-in dataset invalid');
  const questions: QuestionSet = q.value;
  const trait: TraitDataset = t.trait;

  it('limits pairs and questions, and the dataset version follows what is used', () => {
    const all = prepareTrait(trait, questions, {});
    expect(all.extraction).toHaveLength(trait.pairs.length * questions.split.extraction.length);
    const small = prepareTrait(trait, questions, { maxPairs: 2, maxQuestions: { extraction: 3, evaluation: 1 } });
    expect(small.extraction).toHaveLength(6);
    expect(small.evaluation).toHaveLength(2);
    expect(small.extraction.map((p) => p.pair)).toEqual([0, 0, 0, 1, 1, 1]); // pair-major
    expect(small.version).not.toBe(all.version);
    expect(prepareTrait(trait, questions, { maxPairs: 2, maxQuestions: { extraction: 3, evaluation: 1 } }).version).toBe(small.version);
  });

  it('cache keys separate model, revision, dtype, dataset, method and positions; no IndexedDB in Node = no-op', async () => {
    const k = { model: 'm', revision: 'main', dtype: 'q4', datasetVersion: 'v', method: 'mean-diff', positions: 'last', traitId: 't' };
    const keys = new Set([
      vectorCacheKey(k),
      vectorCacheKey({ ...k, model: 'm2' }),
      vectorCacheKey({ ...k, revision: 'r' }),
      vectorCacheKey({ ...k, dtype: 'fp32' }),
      vectorCacheKey({ ...k, datasetVersion: 'w' }),
      vectorCacheKey({ ...k, method: 'pca' }),
      vectorCacheKey({ ...k, positions: 'reply-prompt' }),
      vectorCacheKey({ ...k, traitId: 'u' }),
      vectorCacheKey({ ...k, model: 'm|main' }),
    ]);
    expect(keys.size).toBe(9);
    const cache = new VectorCache('test');
    await cache.put(k, {} as ExtractedTrait);
    expect(await cache.get(k)).toBeNull();
  });
});

describe('worker protocol: extract', () => {
  const RESULT = { traits: [{ traitId: 'x', layers: { 0: Float32Array.from([1, 2]) } } as unknown as ExtractedTrait], elapsedMs: 1 };

  class FakeEngine implements EngineApi {
    stopped = false;
    release: (() => void) | null = null;
    async device() {
      return { webgpu: true, shaderF16: false, adapter: 'fake', limits: {} };
    }
    async load(): Promise<never> {
      throw new Error('unused');
    }
    async generate(): Promise<never> {
      throw new Error('unused');
    }
    stop() {
      this.stopped = true;
      this.release?.();
    }
    setVectors() {}
    setSteering() {}
    resetCache() {}
    async extract(req: ExtractRequest, onProgress: (p: ExtractProgress) => void) {
      this.stopped = false;
      for (let i = 0; i < 3; i++) {
        if (this.stopped) throw new ExtractionCancelled();
        onProgress({ traitId: 'x', trait: 0, traits: 1, phase: 'extraction', done: i + 1, total: 3, message: '' });
        if (req.method === 'pca' && i === 0) await new Promise<void>((r) => (this.release = r));
      }
      return RESULT;
    }
  }

  function connect(engine: EngineApi): EngineClient {
    const listeners: ((ev: MessageEvent<Response>) => void)[] = [];
    const handle = createHandler(engine, (r) => queueMicrotask(() => listeners.forEach((l) => l({ data: r } as MessageEvent<Response>))));
    const worker: WorkerLike = {
      postMessage: (m: Request) => void handle(m),
      addEventListener: (type: string, fn: (ev: never) => void) => {
        if (type === 'message') listeners.push(fn as (ev: MessageEvent<Response>) => void);
      },
    };
    return new EngineClient(worker);
  }

  it('streams progress and resolves with the result', async () => {
    const client = connect(new FakeEngine());
    const seen: number[] = [];
    const r = await client.extract({ traits: ['x'] }, (p) => seen.push(p.done));
    expect(seen).toEqual([1, 2, 3]);
    expect(r.traits[0].layers[0]).toEqual(Float32Array.from([1, 2]));
  });

  it('is exclusive, and stop cancels it with an AbortError', async () => {
    const client = connect(new FakeEngine());
    const running = client.extract({ traits: ['x'], method: 'pca' });
    await new Promise((r) => setTimeout(r, 5));
    await expect(client.extract({ traits: ['x'] })).rejects.toMatchObject({ name: 'BusyError' });
    await client.stop();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    // Usable again afterwards.
    await expect(client.extract({ traits: ['x'] })).resolves.toMatchObject({ elapsedMs: 1 });
  });

  it('an engine without extract() answers with an error', async () => {
    const plain: EngineApi = {
      device: async () => ({ webgpu: false, shaderF16: false, adapter: '', limits: {} }),
      load: async () => Promise.reject(new Error('x')),
      generate: async () => Promise.reject(new Error('x')),
      stop() {},
      setVectors() {},
      setSteering() {},
      resetCache() {},
    };
    await expect(connect(plain).extract({ traits: ['x'] })).rejects.toThrow(/cannot extract/);
  });
});
