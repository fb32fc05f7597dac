/**
 * Drives the real Engine on this page's thread for the measurement paths: option probabilities
 * (scoreOptions) under the current steering or with steering off, and the unsteered re-read.
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
const { privateForward } = await import('../../../src/engine/psychometrics');

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
   * prefix through the KV cache exactly like scoreOptions does. Returns milliseconds.
   */
  async timeForwards(prompts: OptionPrompt[], share: boolean): Promise<number> {
    const m = model();
    const lists = prompts.map((p) => m.tokenizer.encode(m.tokenizer.chatText(p.messages) + p.answerPrefix));
    const fwd = await privateForward(m, m.backend);
    const t0 = performance.now();
    for (const tokens of lists) {
      const reuse = share ? fwd.cache.reusable(tokens) : 0;
      fwd.cache.truncate(reuse);
      await fwd.forward(tokens.slice(reuse));
    }
    const ms = performance.now() - t0;
    fwd.cache.clear();
    return ms;
  },
  /** Tokens now in the chat's KV cache (the measurement paths must leave it alone). */
  chatCacheTokens(): number[] {
    return [...model().forward.cache.tokens];
  },
};

(window as unknown as { psychHarness: typeof harness }).psychHarness = harness;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
