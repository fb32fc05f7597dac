/**
 * Recovery actions over the fake engine: a lost GPU device restarts the engine and reloads the
 * same model keeping chat, settings and extracted vectors; a failed load keeps the error's file,
 * URL and offers for the Model panel's buttons; "Reload with q4" loads the same model with q4;
 * persistent storage is requested once; "Delete cached copy" says what it deleted.
 */
import { describe, expect, it } from 'vitest';
import { createActions } from '../../../../src/ui/actions';
import { EngineError } from '../../../../src/client/engine-client';
import { extractedTrait, FakeEngine, freshStore, INFO } from '../../../support/fake-engine';

class LosingEngine extends FakeEngine {
  restarts = 0;
  private lost: ((m: string) => void)[] = [];
  onDeviceLost(fn: (m: string) => void) {
    this.lost.push(fn);
  }
  restart() {
    this.restarts++;
  }
  lose(reason: string) {
    for (const fn of this.lost) fn(reason);
  }
}

async function setupLoaded() {
  const store = freshStore();
  const engine = new LosingEngine();
  const persisted: string[] = [];
  const storage = { persisted: async () => (persisted.push('persisted?'), false), persist: async () => (persisted.push('persist'), true) };
  const actions = createActions(store, engine, { schedule: (fn) => fn(), now: () => 0, storage });
  store.getState().setModelInput(INFO.model);
  store.getState().setCutLayersInput('1, 2');
  store.getState().setDtypeChoice('auto');
  await actions.session.load();
  return { store, engine, actions, persisted, state: () => store.getState() };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
};

describe('device loss', () => {
  it('restarts the engine, reloads the same source, keeps the conversation and the extracted vectors', async () => {
    const t = await setupLoaded();
    t.engine.extractResult = { traits: [extractedTrait('openness')], elapsedMs: 1 };
    await t.actions.traits.extract(['openness']);
    await t.actions.chat.send('hello');
    const before = t.state().messages;
    expect(before).toHaveLength(2);
    t.engine.calls.length = 0;

    t.engine.lose('destroyed');
    expect(t.state().gpuNotice).toContain('The GPU device was lost (destroyed). Restarting the engine and reloading org/fake');
    await until(() => t.state().gpuNotice?.startsWith('Recovered') ?? false);
    expect(t.engine.restarts).toBe(1);
    expect(t.engine.of('load').map((c) => c.source)).toEqual([{ model: INFO.model, dtype: undefined, cutLayers: [1, 2] }]);
    expect(t.state().gpuNotice).toBe(
      'Recovered from a lost GPU device (destroyed): the engine was restarted and org/fake reloaded. The conversation and settings are kept.',
    );
    expect(t.state().messages).toEqual(before);
    // The extracted direction went to the new engine again.
    expect(
      t.engine
        .of('setVectors')
        .at(-1)!
        .vectors.map((v) => v.traitId),
    ).toContain('openness');
    await t.actions.chat.send('again');
    expect(
      t.engine
        .of('generate')
        .at(-1)!
        .request.messages.map((m) => m.content),
    ).toEqual(['You are a helpful assistant.', 'hello', 'Hi there', 'again']);
  });

  it('requests persistent storage once, before the first download', async () => {
    const t = await setupLoaded();
    await t.actions.session.load();
    expect(t.persisted).toEqual(['persisted?', 'persist']);
  });
});

describe('load errors with offers', () => {
  it('keeps file, URL and offers of a failed load, and Retry loads again', async () => {
    const t = await setupLoaded();
    const detail = { file: 'onnx/model.onnx', url: 'http://h/org/fake/resolve/main/onnx/model.onnx', offers: ['retry' as const, 'delete-cache' as const] };
    t.engine.loadResult = new EngineError({ name: 'DownloadError', message: 'onnx/model.onnx: dropped (http://h/…)', detail });
    await t.actions.session.load();
    expect(t.state().modelError).toBe('onnx/model.onnx: dropped (http://h/…)');
    expect(t.state().modelErrorDetail).toEqual(detail);
    t.engine.loadResult = INFO;
    await t.actions.session.retry();
    expect(t.state().modelError).toBeNull();
    expect(t.state().modelErrorDetail).toBeNull();
  });

  it('"Delete cached copy" names the model it deleted and offers Retry', async () => {
    const t = await setupLoaded();
    await t.actions.cache.removeFailed({ url: 'http://h/org/fake/resolve/main/onnx/model.onnx', offers: ['retry', 'delete-cache'] });
    expect(t.state().modelError).toBe('Deleted the cached copy of org/fake. Retry downloads it again.');
    expect(t.state().modelErrorDetail?.offers).toEqual(['retry']);
  });

  it('a non-finite reply keeps its q4 offer, and "Reload with q4" loads the same model with q4', async () => {
    const t = await setupLoaded();
    const err = new EngineError({ name: 'NonFiniteError', message: 'non-finite logits', detail: { offers: ['use-q4'] } });
    t.engine.replies = [{ tokens: ['a'], error: err }];
    await t.actions.chat.send('hi');
    expect(t.state().chatError).toBe('non-finite logits');
    expect(t.state().chatErrorDetail).toEqual({ offers: ['use-q4'] });
    expect(t.state().messages.at(-1)).toEqual({ role: 'assistant', content: 'a' });
    t.store.getState().setModelInput('something/else');
    await t.actions.session.reloadWithQ4();
    expect(t.engine.of('load').at(-1)!.source).toMatchObject({ model: INFO.model, dtype: 'q4' });
    expect(t.state().dtypeChoice).toBe('q4');
  });
});
