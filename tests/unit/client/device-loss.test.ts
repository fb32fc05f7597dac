/**
 * The client's side of a lost GPU device: the worker's unsolicited 'deviceLost' fails what was
 * pending (a streaming generate included) and tells the listeners; restart() starts a fresh
 * worker from the factory, terminates the old one and ignores anything it still says.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient, type WorkerLike } from '../../../src/client/engine-client';
import type { Request, Response } from '../../../src/protocol/messages';

class FakeWorker implements WorkerLike {
  readonly sent: Request[] = [];
  terminated = false;
  private onMessage: ((ev: MessageEvent<Response>) => void)[] = [];
  postMessage(msg: Request) {
    this.sent.push(msg);
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    if (type === 'message') this.onMessage.push(fn as (ev: MessageEvent<Response>) => void);
  }
  terminate() {
    this.terminated = true;
  }
  say(r: Response) {
    for (const fn of this.onMessage) fn({ data: r } as MessageEvent<Response>);
  }
}

describe('EngineClient device loss', () => {
  it('fails pending calls, tells listeners, and restarts on a fresh worker', async () => {
    const workers: FakeWorker[] = [];
    const client = new EngineClient(() => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    });
    const lost: string[] = [];
    client.onDeviceLost((m) => void lost.push(m));
    const gen = client.generate({
      messages: [{ role: 'user', content: 'hi' }],
      sampling: { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1 },
      maxNewTokens: 4,
    });
    const first = gen.next();
    const device = client.device();
    workers[0].say({ id: -1, type: 'deviceLost', message: 'destroyed' });
    await expect(first).rejects.toMatchObject({ name: 'DeviceLostError', message: 'The GPU device was lost (destroyed).' });
    await expect(device).rejects.toMatchObject({ name: 'DeviceLostError' });
    expect(lost).toEqual(['destroyed']);

    client.restart();
    expect(workers).toHaveLength(2);
    expect(workers[0].terminated).toBe(true);
    const again = client.device();
    const req = workers[1].sent.at(-1)!;
    workers[0].say({ id: req.id, type: 'error', error: { name: 'Old', message: 'ignored' } }); // the old worker is not heard
    workers[1].say({ id: req.id, type: 'device', device: { webgpu: true, shaderF16: false, adapter: 'new', limits: {} } });
    await expect(again).resolves.toMatchObject({ adapter: 'new' });
  });

  it('keeps an error detail (file, URL, offers) from the worker', async () => {
    const w = new FakeWorker();
    const client = new EngineClient(w);
    const p = client.load({ model: 'org/m' });
    const detail = { file: 'onnx/model.onnx', url: 'http://h/onnx/model.onnx', offers: ['retry' as const] };
    w.say({ id: w.sent[0].id, type: 'error', error: { name: 'DownloadError', message: 'x', detail } });
    await expect(p).rejects.toMatchObject({ name: 'DownloadError', detail });
    expect(() => client.restart()).toThrow(/cannot restart/);
  });
});
