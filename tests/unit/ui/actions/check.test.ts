/** "Check this model" actions: the check after load, on demand, and a failed report keeping steering off. */
import { describe, expect, it } from 'vitest';
import { steeringBlockedMessage } from '../../../../src/protocol/check';
import { steeringBlocked } from '../../../../src/ui/store/check-slice';
import { INFO, checkReport, loaded, setup } from '../../../support/fake-engine';

describe('check actions', () => {
  it('load asks for the (cached) check before the model is ready; a passing report leaves steering on', async () => {
    const { actions, engine, state } = setup();
    state().setModelInput(INFO.model);
    state().setStrength('openness', 0.5);
    await actions.session.load();
    expect(engine.of('check')).toEqual([{ method: 'check', request: { force: false } }]);
    expect(state().checkReport?.passed).toBe(true);
    expect(state().checkReport?.cached).toBe(true);
    expect(steeringBlocked(state())).toBe(false);
    const openness = engine
      .of('setSteering')
      .at(-1)!
      .settings.find((s) => s.traitId === 'openness');
    expect(openness).toMatchObject({ strength: 0.5, mode: 'add', enabled: true });
  });

  it('a failed check keeps steering off for that model and names the failed check', async () => {
    const { actions, engine, state } = setup();
    engine.checkResult = checkReport(['linearity']);
    state().setModelInput(INFO.model);
    state().setStrength('openness', 0.5);
    await actions.session.load();
    expect(state().modelStatus).toBe('ready');
    expect(steeringBlocked(state())).toBe(true);
    const settings = engine.of('setSteering').at(-1)!.settings;
    expect(settings.length).toBeGreaterThan(0);
    expect(settings.every((s) => !s.enabled && s.strength === 0)).toBe(true);
    expect(steeringBlockedMessage(state().checkReport!)).toContain('(c) steering linearity');
    // Moving a slider still sends no steering.
    state().setStrength('openness', 0.9);
    await actions.steering.push();
    expect(
      engine
        .of('setSteering')
        .at(-1)!
        .settings.every((s) => !s.enabled),
    ).toBe(true);
  });

  it('"Check this model" runs again with force; a pass turns steering back on', async () => {
    const { actions, engine, state } = await loaded();
    engine.checkResult = checkReport(['cut-vs-uncut']);
    state().setStrength('openness', 0.5);
    await actions.session.check();
    expect(engine.of('check')[0].request).toEqual({ force: true });
    expect(state().checkReport?.failed).toEqual(['cut-vs-uncut']);
    expect(state().checkReport?.cached).toBe(false);
    expect(
      engine
        .of('setSteering')
        .at(-1)!
        .settings.every((s) => !s.enabled),
    ).toBe(true);

    engine.checkResult = checkReport([]);
    await actions.session.check();
    expect(state().checkStatus).toBe('done');
    expect(
      engine
        .of('setSteering')
        .at(-1)!
        .settings.find((s) => s.traitId === 'openness'),
    ).toMatchObject({ strength: 0.5, enabled: true });
  });

  it('a check that cannot run leaves the model loaded and steering on, with the reason', async () => {
    const { actions, engine, state } = setup();
    engine.checkResult = new Error('out of GPU memory');
    state().setModelInput(INFO.model);
    await actions.session.load();
    expect(state().modelStatus).toBe('ready');
    expect(state().checkReport).toBeNull();
    expect(state().checkError).toBe('The self-check could not run: out of GPU memory');
    expect(steeringBlocked(state())).toBe(false);
  });

  it('the report exports as JSON that reads back to the same report', async () => {
    const { actions, state } = await loaded();
    const d = actions.session.checkReportDownload();
    expect(d?.name).toMatch(/^traitlab-check-.+\.json$/);
    expect(JSON.parse(new TextDecoder().decode(d!.bytes))).toEqual(state().checkReport);
  });
});
