/** Compare: unsteered then steered from the same reset state; slider moves wait; stop and errors; steering restored. */
import { describe, expect, it, vi } from 'vitest';
import { loaded, setup } from '../../../support/fake-engine';

describe('compare actions', () => {
  it('runs unsteered then steered, each from a reset KV cache, then restores the steering', async () => {
    const { actions, engine, frames, state } = await loaded();
    state().setStrength('openness', 0.8);
    engine.replies = [{ tokens: ['plain'] }, { tokens: ['sunny'] }];
    await actions.compare.run('Describe rain');
    frames.runFrames();

    expect(engine.calls.map((c) => c.method)).toEqual([
      'setSteering',
      'resetCache',
      'generate', // unsteered
      'setSteering',
      'resetCache',
      'generate', // steered
      'resetCache',
      'setSteering', // back to the sliders
    ]);
    const [off, on, restored] = engine.of('setSteering').map((c) => c.settings);
    expect(off.every((s) => s.strength === 0 && !s.enabled && s.mode === 'add')).toBe(true);
    expect(on.find((s) => s.traitId === 'openness')).toMatchObject({ strength: 0.8, enabled: true, layer: 1 });
    expect(restored).toEqual(on);

    const requests = engine.of('generate').map((c) => c.request);
    expect(requests[0]).toEqual(requests[1]);
    expect(requests[0].reuseCache).toBe(false);
    expect(requests[0].messages.at(-1)).toEqual({ role: 'user', content: 'Describe rain' });

    expect(state().compareStatus).toBe('done');
    expect(state().compareRuns.unsteered.text).toBe('plain');
    expect(state().compareRuns.steered.text).toBe('sunny');
  });

  it('slider moves during a compare are not sent; the final restore sends them', async () => {
    const { actions, engine, state } = await loaded();
    engine.replies = [{ tokens: ['a'], holdUntilStop: true }, { tokens: ['b'] }];
    const run = actions.compare.run('Hi');
    await vi.waitFor(() => expect(engine.of('generate')).toHaveLength(1));
    state().setStrength('extraversion', 0.4);
    await actions.steering.push();
    expect(engine.of('setSteering')).toHaveLength(1);
    await actions.compare.stop();
    await run;
    const last = engine.of('setSteering').at(-1)!.settings;
    expect(last.find((s) => s.traitId === 'extraversion')?.strength).toBe(0.4);
  });

  it('stop during the unsteered run skips the steered one and says so', async () => {
    const { actions, engine, state } = await loaded();
    engine.replies = [{ tokens: ['a'], holdUntilStop: true }];
    const run = actions.compare.run('Hi');
    await vi.waitFor(() => expect(engine.of('generate')).toHaveLength(1));
    await actions.compare.stop();
    await run;
    expect(engine.of('generate')).toHaveLength(1);
    expect(state().compareStatus).toBe('stopped');
    expect(state().compareError).toBeNull();
  });

  it('an engine error becomes the compare message and the steering is still restored', async () => {
    const { actions, engine, state } = await loaded();
    engine.replies = [{ tokens: [], error: new Error('out of memory') }];
    await actions.compare.run('Hi');
    expect(state().compareStatus).toBe('error');
    expect(state().compareError).toBe('out of memory');
    expect(engine.calls.slice(-2).map((c) => c.method)).toEqual(['resetCache', 'setSteering']);
  });

  it('needs a model, a prompt and valid sampling', async () => {
    const none = setup();
    await none.actions.compare.run('Hi');
    expect(none.engine.calls).toEqual([]);
    expect(none.state().compareStatus).toBe('idle');
    const t = await loaded();
    await t.actions.compare.run('  ');
    expect(t.engine.calls).toEqual([]);
    t.state().setSampling({ temperature: -1 });
    await t.actions.compare.run('Hi');
    expect(t.engine.calls).toEqual([]);
    expect(t.state().compareStatus).toBe('error');
    expect(t.state().compareError).toMatch(/temperature/);
  });
});
