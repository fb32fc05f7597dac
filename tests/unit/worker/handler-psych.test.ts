/** The measurement messages through the handler and the typed client: scoreOptions (with progress) and reread; busy and missing support. */
import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../../../src/client/engine-client';
import type { EngineApi } from '../../../src/protocol/engine-api';
import type { Request, Response } from '../../../src/protocol/messages';
import type { RereadRequest, ScoreOptionsRequest, ScoreProgress } from '../../../src/protocol/psychometrics';
import { createHandler } from '../../../src/worker/handler';

function baseEngine(): EngineApi {
  return {
    device: async () => ({ webgpu: true, shaderF16: false, adapter: 'fake', limits: {} }),
    load: async () => {
      throw new Error('unused');
    },
    generate: async () => {
      throw new Error('unused');
    },
    stop: () => undefined,
    setVectors: () => undefined,
    setSteering: () => undefined,
    resetCache: () => undefined,
  };
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

const request: ScoreOptionsRequest = {
  prompts: [{ messages: [{ role: 'user', content: 'Pick.' }], answerPrefix: 'Answer:', labels: ['1', '2'], labelSpace: true }],
  steering: 'off',
};

describe('worker protocol: measurement messages', () => {
  it('scoreOptions streams progress and returns the option scores; reread returns projections', async () => {
    let release: () => void = () => undefined;
    let seenSteering = '';
    const engine: EngineApi = {
      ...baseEngine(),
      scoreOptions: async (r: ScoreOptionsRequest, onProgress: (p: ScoreProgress) => void) => {
        seenSteering = r.steering;
        onProgress({ done: 1, total: 2 });
        await new Promise<void>((res) => (release = res));
        onProgress({ done: 2, total: 2 });
        return {
          scores: [{ promptText: 'p', promptTokens: 3, reusedTokens: 0, labelTexts: [' 1', ' 2'], labelTokenIds: [5, 6], probs: [0.25, 0.5] }],
          elapsedMs: 1,
          forwardMs: 1,
          tokensRun: 3,
        };
      },
      reread: async (r: RereadRequest) => ({ projections: { x: [r.reply.length, 1] }, replyTokens: 2 }),
    };
    const client = connect(engine);
    const progress: number[] = [];
    const pending = client.scoreOptions(request, (p) => progress.push(p.done));
    await new Promise((r) => setTimeout(r, 0));
    // The engine is held: a second measurement is refused as busy.
    await expect(client.reread({ messages: [], reply: 'abc' })).rejects.toMatchObject({ name: 'BusyError' });
    release();
    const result = await pending;
    expect(seenSteering).toBe('off');
    expect(progress).toEqual([1, 2]);
    expect(result.scores[0]).toMatchObject({ labelTokenIds: [5, 6], probs: [0.25, 0.5] });
    await expect(client.reread({ messages: [], reply: 'abc' })).resolves.toEqual({ projections: { x: [3, 1] }, replyTokens: 2 });
  });

  it('an engine without the measurement methods answers with a clear error', async () => {
    const client = connect(baseEngine());
    await expect(client.scoreOptions(request)).rejects.toThrow(/cannot score options/);
    await expect(client.reread({ messages: [], reply: 'x' })).rejects.toThrow(/cannot re-read replies/);
  });
});
