/** The worker protocol without a browser: the handler over a fake engine, reached through the typed client. */
import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../../../src/client/engine-client';
import type { EngineApi } from '../../../src/protocol/engine-api';
import { createHandler } from '../../../src/worker/handler';
import type { CheckReport } from '../../../src/protocol/check';
import type { GenerateRequest, ModelInfo, Request, Response, TokenEvent } from '../../../src/protocol/messages';
import { GREEDY } from '../../../src/shared/sampling';
import type { TraitSetting } from '../../../src/steering/plan';

const INFO = { model: 'fake/model', dtype: 'q4', numLayers: 2, hidden: 4 } as unknown as ModelInfo;

class FakeEngine implements EngineApi {
  stopped = false;
  settings: TraitSetting[] = [];
  releaseGenerate: (() => void) | null = null;
  async device() {
    return { webgpu: true, shaderF16: false, adapter: 'fake', limits: {} };
  }
  async load(_s: unknown, onProgress: (p: { phase: 'download'; loaded: number; total: number; message: string }) => void) {
    onProgress({ phase: 'download', loaded: 1, total: 2, message: 'half' });
    onProgress({ phase: 'download', loaded: 2, total: 2, message: 'done' });
    return INFO;
  }
  async generate(req: GenerateRequest, onToken: (t: TokenEvent) => void) {
    if (req.messages[0]?.content === 'fail') throw new RangeError('bad prompt');
    for (let i = 0; i < 3; i++) {
      if (this.stopped) break;
      onToken({ index: i, tokenId: i, text: `t${i}`, projections: { x: { pre: i, post: i + 1 } } });
      if (i === 0 && req.messages[0]?.content === 'wait') await new Promise<void>((r) => (this.releaseGenerate = r));
    }
    return {
      finishReason: this.stopped ? 'stopped' : 'max-tokens',
      promptTokens: 1,
      prefillTokens: 1,
      generatedTokens: 3,
      prefillMs: 0,
      decodeMs: 0,
      text: 't0t1t2',
    } as const;
  }
  stop() {
    this.stopped = true;
    this.releaseGenerate?.();
  }
  setVectors() {}
  setSteering(s: TraitSetting[]) {
    if (s.some((x) => !Number.isFinite(x.strength))) throw new Error('strength must be finite');
    this.settings = s;
  }
  resetCache() {}
}

/** A fake Worker: client messages go straight to the handler, handler replies come back as events. */
function connect(engine: EngineApi): { client: EngineClient; sent: Request[] } {
  const sent: Request[] = [];
  const listeners: ((ev: MessageEvent<Response>) => void)[] = [];
  const handle = createHandler(engine, (r) => queueMicrotask(() => listeners.forEach((l) => l({ data: r } as MessageEvent<Response>))));
  const worker: WorkerLike = {
    postMessage: (m: Request) => {
      sent.push(m);
      void handle(m);
    },
    addEventListener: (type: string, fn: (ev: never) => void) => {
      if (type === 'message') listeners.push(fn as (ev: MessageEvent<Response>) => void);
    },
  };
  return { client: new EngineClient(worker), sent };
}

const req = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], sampling: GREEDY, maxNewTokens: 3 });

describe('worker protocol', () => {
  it('check answers with the report; an engine without a self-check is a clear error', async () => {
    const report = { model: 'fake/model', passed: false, failed: ['finite'], checks: [] } as unknown as CheckReport;
    const engine = Object.assign(new FakeEngine(), { check: async (r: { force?: boolean }) => ({ ...report, cached: !r.force }) });
    const { client, sent } = connect(engine);
    await expect(client.check({ force: true })).resolves.toEqual({ ...report, cached: false });
    expect(sent.at(-1)).toMatchObject({ type: 'check', request: { force: true } });
    await expect(connect(new FakeEngine()).client.check()).rejects.toThrow(/cannot check models/);
  });

  it('load reports progress as separate messages, then the model info', async () => {
    const { client } = connect(new FakeEngine());
    const seen: number[] = [];
    const info = await client.load({ model: 'fake/model' }, (p) => seen.push(p.loaded));
    expect(info).toEqual(INFO);
    expect(seen).toEqual([1, 2]);
  });

  it('generate streams tokens as an async iterable and returns the result', async () => {
    const { client } = connect(new FakeEngine());
    const texts: string[] = [];
    const it = client.generate(req('hi'));
    let r = await it.next();
    while (!r.done) {
      texts.push(r.value.text);
      expect(r.value.projections.x.post).toBe(r.value.projections.x.pre + 1);
      r = await it.next();
    }
    expect(texts).toEqual(['t0', 't1', 't2']);
    expect(r.value.finishReason).toBe('max-tokens');
  });

  it('errors cross as {name, message} and reject the call', async () => {
    const { client } = connect(new FakeEngine());
    const it = client.generate(req('fail'));
    await expect(it.next()).rejects.toMatchObject({ name: 'RangeError', message: 'bad prompt' });
    await expect(client.setSteering([{ traitId: 'x', strength: NaN, mode: 'add', layer: 0, enabled: true }])).rejects.toThrow(/finite/);
  });

  it('stop and steering act during a generation; a second generate is refused as busy', async () => {
    const engine = new FakeEngine();
    const { client, sent } = connect(engine);
    const it = client.generate(req('wait'));
    expect((await it.next()).value).toMatchObject({ text: 't0' });
    const second = client.generate(req('hi'));
    await expect(second.next()).rejects.toMatchObject({ name: 'BusyError' });
    await client.setSteering([{ traitId: 'x', strength: 0.5, mode: 'add', layer: 1, enabled: true }]);
    expect(engine.settings[0].strength).toBe(0.5);
    await client.stop();
    let r = await it.next();
    while (!r.done) r = await it.next();
    expect(r.value.finishReason).toBe('stopped');
    const ids = sent.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length); // every request has its own id
  });

  it('unknown message types get a protocol error, not a crash', async () => {
    const out: Response[] = [];
    const handle = createHandler(new FakeEngine(), (r) => out.push(r));
    await handle({ id: 9, type: 'bogus' } as unknown as Request);
    expect(out[0]).toMatchObject({ id: 9, type: 'error', error: { name: 'ProtocolError' } });
  });
});
