/**
 * Drives the real Engine on this page's thread for the measurement paths: option probabilities
 * (scoreOptions) under the current steering or with steering off, and the unsteered re-read;
 * with the WebGPU calls counted (tests/support/gpu-counters.ts), the CPU path's probabilities of
 * the same prompts, and the bare forward passes the bench compares the inventory against.
 */
import { configureOrt } from '../../../src/engine/runtime/ort';
import type { LoadedModel } from '../../../src/engine/load-model';
import type { ModelSource, WireVector } from '../../../src/protocol/messages';
import type { OptionPrompt, ScoreOptionsResult, RereadResult } from '../../../src/protocol/psychometrics';
import type { ChatMessage } from '../../../src/shared/chat';
import { GREEDY } from '../../../src/shared/sampling';
import type { TraitSetting } from '../../../src/steering/plan';

configureOrt('/ort/');
const { Engine } = await import('../../../src/engine/engine');
const { loadModel } = await import('../../../src/engine/load-model');
const { privateForward, labelProbabilities, resolveLabels, forgetPrepared } = await import('../../../src/engine/psychometrics');
const { ort } = await import('../../../src/engine/runtime/ort');
const { ortDevice } = await import('../../../src/engine/runtime/gpu-backend');
const counters = await import('../../support/gpu-counters');
counters.installCounters((ort.InferenceSession as unknown as { prototype: object }).prototype);

let loaded: LoadedModel | null = null;
const engine = new Engine({ loadModel: async (source, ctx) => (loaded = await loadModel(source, ctx)) });

function model(): LoadedModel {
  if (!loaded) throw new Error('harness: no model loaded');
  return loaded;
}

const harness = {
  async load(source: ModelSource) {
    return engine.load(source, () => undefined);
  },
  setVectors(vectors: { traitId: string; layers: Record<number, number[]> }[]) {
    const hidden = model().info.hidden;
    const wire: WireVector[] = vectors.map((v) => ({
      traitId: v.traitId,
      model: 'test',
      hidden,
      layers: Object.fromEntries(Object.entries(v.layers).map(([k, x]) => [Number(k), Float32Array.from(x)])),
    }));
    engine.setVectors(wire);
  },
  setSteering(settings: TraitSetting[]) {
    engine.setSteering(settings);
  },
  async scoreOptions(prompts: OptionPrompt[], steering: 'current' | 'off'): Promise<ScoreOptionsResult> {
    return engine.scoreOptions({ prompts, steering }, () => undefined);
  },
  /** Forget the prompts the engine has tokenized (the next inventory runs as the first one). */
  forgetPrompts() {
    forgetPrepared(model().tokenizer);
  },
  /** scoreOptions with the WebGPU work it did: counts over the whole call (every caller's mapAsync, ORT's too). */
  async scoreOptionsCounted(prompts: OptionPrompt[], steering: 'current' | 'off') {
    const before = counters.snapshot();
    const result = await engine.scoreOptions({ prompts, steering }, () => undefined);
    const counts = counters.diff(counters.snapshot(), before);
    const sessions = model().chain.sessions;
    const meta = sessions[sessions.length - 1].outputMetadata.find((o) => o.name === 'logits');
    // [batch, 1, vocab]: the option pass binds its own [1, 1, vocab] buffer as the output.
    return { result, counts, logitsShape: meta && meta.isTensor ? meta.shape : null };
  },
  /**
   * The CPU path of the same prompts: the same passes as scoreOptions (prefix shared through the
   * KV cache the same way) through a private forward, each pass's whole last logits row read
   * back and labelProbabilities (float64 softmax) over it.
   */
  async cpuPathProbs(scores: { promptText: string; labelTokenIds: number[] }[], steering: 'current' | 'off'): Promise<number[][]> {
    const m = model();
    const fwd = await privateForward(m, steering === 'off' ? null : m.backend);
    try {
      const out: number[][] = [];
      for (const s of scores) {
        const tokens = m.tokenizer.encode(s.promptText);
        const reuse = fwd.cache.reusable(tokens);
        fwd.cache.truncate(reuse);
        out.push(labelProbabilities(await fwd.forward(tokens.slice(reuse)), s.labelTokenIds));
      }
      return out;
    } finally {
      fwd.cache.clear();
    }
  },
  async reread(messages: ChatMessage[], reply: string): Promise<RereadResult> {
    return engine.reread({ messages, reply });
  },
  async generate(messages: ChatMessage[], maxNewTokens: number) {
    const projections: unknown[] = [];
    const result = await engine.generate({ messages, sampling: GREEDY, maxNewTokens, reuseCache: false }, (t) => projections.push(t.projections));
    return { text: result.text, projections };
  },
  /**
   * Benchmark baseline: the bare forward passes of the same prompts (pre-tokenized, outside the
   * timing) through a private forward with the current steering; `share` reuses the common
   * prefix through the KV cache exactly like scoreOptions does. `read`: 'sync' waits for each
   * pass with the least readback there is (4 bytes of the logits, bound in a buffer of ours like
   * the option pass binds them); 'row' reads the whole last logits row back (what option passes
   * did before option-logits.wgsl). Returns milliseconds.
   */
  async timeForwards(prompts: OptionPrompt[], share: boolean, read: 'sync' | 'row' = 'sync'): Promise<number> {
    const m = model();
    const lists = prompts.map((p) => m.tokenizer.encode(m.tokenizer.chatText(p.messages) + p.answerPrefix));
    const fwd = await privateForward(m, m.backend);
    const device = m.ep === 'webgpu' ? await ortDevice() : null;
    const info = m.chain.logitsInfo();
    const vocab = info.vocab ?? m.info.vocabSize;
    const bytes = Math.ceil((vocab * (info.type === 'float16' ? 2 : 4)) / 16) * 16;
    const logits = device?.createBuffer({ label: 'bench.logits', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const staging = device?.createBuffer({ label: 'bench.sync', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const into = logits ? ort.Tensor.fromGpuBuffer(logits, { dataType: info.type, dims: [1, 1, vocab] }) : null;
    const sync = async (buffer: GPUBuffer) => {
      const enc = device!.createCommandEncoder({ label: 'bench.sync' });
      enc.copyBufferToBuffer(buffer, 0, staging!, 0, 4);
      device!.queue.submit([enc.finish()]);
      await staging!.mapAsync(GPUMapMode.READ, 0, 4);
      staging!.unmap();
    };
    const t0 = performance.now();
    for (const tokens of lists) {
      const reuse = share ? fwd.cache.reusable(tokens) : 0;
      fwd.cache.truncate(reuse);
      if (read === 'row') await fwd.forward(tokens.slice(reuse));
      else await fwd.forwardLast(tokens.slice(reuse), async (l) => ('cpu' in l ? undefined : sync(l.gpu)), into);
    }
    const ms = performance.now() - t0;
    fwd.cache.clear();
    logits?.destroy();
    staging?.destroy();
    return ms;
  },
  /** Benchmark breakdown: the CPU work of scoreOptions alone, for the same prompts (chat text + encode; label resolution). */
  timeTokenizing(prompts: OptionPrompt[]): { encodeMs: number; labelsMs: number } {
    const tok = model().tokenizer;
    let t0 = performance.now();
    const texts = prompts.map((p) => tok.chatText(p.messages) + p.answerPrefix);
    const lists = texts.map((t) => tok.encode(t));
    const encodeMs = performance.now() - t0;
    t0 = performance.now();
    prompts.forEach((p, i) => resolveLabels(tok, texts[i], lists[i], p.labels, p.labelSpace));
    return { encodeMs, labelsMs: performance.now() - t0 };
  },
  /** Tokens now in the chat's KV cache (the measurement paths must leave it alone). */
  chatCacheTokens(): number[] {
    return [...model().forward.cache.tokens];
  },
};

(window as unknown as { psychHarness: typeof harness }).psychHarness = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
