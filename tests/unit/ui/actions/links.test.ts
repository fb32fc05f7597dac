/** Share-link and preset actions: share, open (settings restored, load waits), bad links, confirm, presets. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUILTIN_PRESETS } from '../../../../src/presets/builtins';
import { INFO, loaded, setup } from '../../../support/fake-engine';

const replaceState = vi.fn();
const writeText = vi.fn(async () => undefined);

beforeEach(() => {
  vi.stubGlobal('location', { origin: 'http://app.test', pathname: '/', search: '', hash: '' });
  vi.stubGlobal('history', { replaceState });
  vi.stubGlobal('navigator', { clipboard: { writeText } });
});
afterEach(() => {
  vi.unstubAllGlobals();
  replaceState.mockClear();
  writeText.mockClear();
});

async function sharedLink() {
  const from = await loaded();
  from.state().setStrength('openness', 0.7);
  from.state().setSystemPrompt('Be kind.');
  const url = from.actions.links.share();
  return { from, url: url!, hash: url!.slice(url!.indexOf('#')) };
}

describe('link actions', () => {
  it('share puts the settings in the URL and the store', async () => {
    const { from, url } = await sharedLink();
    expect(url.startsWith('http://app.test/#')).toBe(true);
    expect(from.state().shareLink).toBe(url);
    expect(replaceState).toHaveBeenCalledWith(null, '', url);
    expect(writeText).toHaveBeenCalledWith(url);
  });

  it('opening a link restores its settings; the model download waits for confirmation', async () => {
    const { hash } = await sharedLink();
    const to = setup();
    await to.actions.links.open(hash);
    expect(to.state().traits.find((t) => t.traitId === 'openness')?.strength).toBe(0.7);
    expect(to.state().systemPrompt).toBe('Be kind.');
    expect(to.state().pendingLoad).toMatchObject({ model: INFO.model });
    expect(to.engine.calls).toEqual([]);

    await to.actions.links.confirmPendingLoad();
    expect(to.engine.of('load')[0].source.model).toBe(INFO.model);
    expect(to.state().pendingLoad).toBeNull();
    expect(to.engine.of('setSteering')[0].settings.find((s) => s.traitId === 'openness')?.strength).toBe(0.7);
  });

  it('a link for the model already loaded applies at once, with no download', async () => {
    const { hash } = await sharedLink();
    const to = await loaded();
    await to.actions.links.open(hash);
    expect(to.state().pendingLoad).toBeNull();
    expect(to.engine.calls.map((c) => c.method)).toEqual(['setVectors', 'setSteering']);
  });

  it('a bad link is a message; the current settings stay and the engine is not touched', async () => {
    const to = await loaded();
    to.state().setStrength('extraversion', 0.3);
    await to.actions.links.open('#v1.garbage');
    expect(to.state().presetError).toMatch(/^This share link cannot be used: .* Your current settings are kept\.$/);
    expect(to.state().traits.find((t) => t.traitId === 'extraversion')?.strength).toBe(0.3);
    expect(to.engine.calls).toEqual([]);
    await to.actions.links.open('');
    expect(to.engine.calls).toEqual([]);
  });

  it('a built-in preset sets strengths and prompt and sends the settings', async () => {
    const { actions, engine, state } = await loaded();
    const party = BUILTIN_PRESETS.find((p) => p.id === 'party-host')!;
    await actions.links.applyBuiltinPreset(party);
    expect(state().systemPrompt).toBe(party.systemPrompt);
    const sent = engine.of('setSteering')[0].settings;
    expect(sent.find((s) => s.traitId === 'extraversion')?.strength).toBe(0.6);
    expect(sent.find((s) => s.traitId === 'openness')?.strength).toBe(0);
  });
});
