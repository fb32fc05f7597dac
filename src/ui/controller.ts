/**
 * Glue between the engine client and the store: every user action that talks to the engine
 * goes through here. Errors end up in the store as messages; nothing the user had is dropped.
 */
import type { EngineClient } from '../client/engine-client';
import { randomUnit } from '../engine/steering/vector';
import { validateSampling } from '../engine/runtime/sampler';
import type { Dtype, ModelInfo, WireVector } from '../worker/protocol';
import { FrameBuffer } from './frame-buffer';
import type { AppStore } from './store';
import type { TraitEntry } from './store/steering-slice';
import type { TokenPoint } from './store/metrics-slice';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function parseLayers(text: string): number[] | undefined | string {
  const t = text.trim();
  if (!t) return undefined;
  const parts = t.split(/[\s,]+/).map(Number);
  if (parts.some((x) => !Number.isInteger(x) || x < 0)) return `"${text}" is not a list of layer numbers`;
  return parts;
}

/** Demo traits for a model without extracted vectors: random unit directions (seeded, reproducible). */
export function demoTraits(info: ModelInfo): { entries: TraitEntry[]; vectors: WireVector[] } {
  const layer = info.cutLayers[0];
  const specs = [
    { traitId: 'direction-a', label: 'Random direction A', seed: 11 },
    { traitId: 'direction-b', label: 'Random direction B', seed: 22 },
  ];
  return {
    entries: specs.map((s) => ({ traitId: s.traitId, label: s.label, strength: 0, mode: 'add', layer, enabled: true })),
    vectors: specs.map((s) => ({ traitId: s.traitId, ...randomUnit(info.model, info.hidden, info.cutLayers, s.seed) })),
  };
}

export class Controller {
  private readonly points: FrameBuffer<TokenPoint>;

  constructor(
    private readonly client: EngineClient,
    private readonly store: AppStore,
  ) {
    // Text and chart points reach the store together, once per animation frame.
    this.points = new FrameBuffer((batch) => {
      const st = store.getState();
      st.replyDelta(batch.map((p) => p.text).join(''));
      st.appendPoints(batch);
    });
  }

  async probeDevice(): Promise<void> {
    try {
      this.store.getState().setDevice(await this.client.device());
    } catch (err) {
      this.store.getState().loadFailed(message(err));
    }
  }

  async load(): Promise<void> {
    const s = this.store.getState();
    const layers = parseLayers(s.cutLayersInput);
    if (typeof layers === 'string') return s.loadFailed(layers);
    s.loadStarted();
    try {
      const info = await this.client.load(
        { model: s.modelInput, dtype: s.dtypeChoice === 'auto' ? undefined : (s.dtypeChoice as Dtype), cutLayers: layers },
        (p) => this.store.getState().loadProgress(p),
      );
      const demo = demoTraits(info);
      await this.client.setVectors(demo.vectors);
      this.store.getState().setTraits(demo.entries);
      await this.pushSteering();
      this.store.getState().loadDone(info);
    } catch (err) {
      this.store.getState().loadFailed(message(err));
    }
  }

  /** Sends the current trait settings; the engine applies them from the next token on. */
  async pushSteering(): Promise<void> {
    const { traits, setSteeringError } = this.store.getState();
    try {
      await this.client.setSteering(traits.map(({ label: _label, ...setting }) => setting));
      setSteeringError(null);
    } catch (err) {
      setSteeringError(message(err));
    }
  }

  async send(content: string): Promise<void> {
    const s = this.store.getState();
    if (!content.trim() || s.streaming !== null) return;
    const problem = validateSampling(s.sampling);
    if (problem) return s.replyFailed(problem);
    const history = s.systemPrompt.trim() ? [{ role: 'system' as const, content: s.systemPrompt }, ...s.messages] : [...s.messages];
    s.userSent(content);
    s.clearPoints();
    const started = performance.now();
    let count = 0;
    try {
      const stream = this.client.generate({ messages: [...history, { role: 'user', content }], sampling: s.sampling, maxNewTokens: s.maxNewTokens });
      let r = await stream.next();
      while (!r.done) {
        const t = r.value;
        count++;
        this.points.push({ index: t.index, text: t.text, projections: t.projections });
        r = await stream.next();
      }
      this.points.flush();
      this.store.getState().setTokensPerSecond(count / ((performance.now() - started) / 1000));
      this.store.getState().replyDone(r.value);
    } catch (err) {
      this.points.flush();
      this.store.getState().replyFailed(message(err));
    }
  }

  async stop(): Promise<void> {
    await this.client.stop().catch(() => undefined);
  }

  async clearChat(): Promise<void> {
    this.store.getState().clearChat();
    this.store.getState().clearPoints();
    await this.client.resetCache().catch(() => undefined);
  }
}
