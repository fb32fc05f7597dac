/**
 * Share-link and preset actions: share (settings plus the exact vectors in use), open (settings
 * restored, load waits, vectors registered as they are), preset files for large setups, bad and
 * hostile links, confirm, built-in presets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUILTIN_PRESETS } from '../../../../src/presets/builtins';
import { decodePreset } from '../../../../src/presets/codec';
import { LIMITS } from '../../../../src/presets/preset';
import { decodeContext } from '../../../../src/ui/actions/share-link';
import { sameModel } from '../../../../src/ui/store/preset-slice';
import { filled, INFO, loaded, setup, vectorFileBytes } from '../../../support/fake-engine';

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

/** A direction that int8 could not carry exactly. */
function irregular(hidden: number, seed: number): Float32Array {
  return Float32Array.from({ length: hidden }, (_, i) => Math.sin(seed + i * 1.37) / (1 + i * 0.11) + (i === 3 ? 40 : 0));
}

async function sharedLink() {
  const from = await loaded();
  from.state().setStrength('openness', 0.7);
  from.state().setSystemPrompt('Be kind.');
  const url = await from.actions.links.share();
  return { from, url: url!, hash: url!.slice(url!.indexOf('#')) };
}

/** A sender with an imported (extracted-like) Openness vector in use and an unused Extraversion one. */
async function senderWithVectors() {
  const from = await loaded();
  const openness = { model: INFO.model, hidden: INFO.hidden, layers: { 1: irregular(INFO.hidden, 1), 2: irregular(INFO.hidden, 2) } };
  const file = {
    vector: openness,
    calibration: { 1: { center: 0.25, scale: -1.5 }, 2: { center: 9, scale: 9 } },
    trait: { id: 'openness', label: 'Openness' },
  };
  await from.actions.vectors.importFile(vectorFileBytes(file), 'openness.json');
  const extraversion = { model: INFO.model, hidden: INFO.hidden, layers: { 1: filled(INFO.hidden, 0.5) } };
  await from.actions.vectors.importFile(vectorFileBytes({ vector: extraversion, trait: { id: 'extraversion', label: 'Extraversion' } }), 'e.json');
  from.state().setStrength('openness', 0.7);
  from.state().setSampling({ temperature: 0.8, topK: 0, topP: 1, repetitionPenalty: 1, seed: 4242 });
  await from.actions.steering.push();
  return { from, openness };
}

describe('link actions', () => {
  it('share puts the settings in the URL and the store', async () => {
    const { from, url } = await sharedLink();
    expect(url.startsWith('http://app.test/#preset=2.')).toBe(true);
    expect(from.state().shareLink).toBe(url);
    expect(from.state().shareNote).toMatch(/settings only/);
    expect(replaceState).toHaveBeenCalledWith(null, '', url);
    expect(writeText).toHaveBeenCalledWith(url);
  });

  it('opening a link restores its settings; the model download waits for confirmation and names the source', async () => {
    const { hash } = await sharedLink();
    const to = setup();
    await to.actions.links.open(hash);
    expect(to.state().traits.find((t) => t.traitId === 'openness')?.strength).toBe(0.7);
    expect(to.state().systemPrompt).toBe('Be kind.');
    expect(to.state().pendingLoad).toMatchObject({ model: INFO.model, dtype: INFO.dtype, cutLayers: '1, 2', source: 'the Hugging Face hub (huggingface.co)' });
    expect(to.engine.calls).toEqual([]);

    await to.actions.links.confirmPendingLoad();
    expect(to.engine.of('load')[0].source).toMatchObject({ model: INFO.model, dtype: INFO.dtype, cutLayers: [1, 2] });
    expect(to.state().pendingLoad).toBeNull();
    expect(to.engine.of('setSteering')[0].settings.find((s) => s.traitId === 'openness')?.strength).toBe(0.7);
  });

  it('a link carries the exact vector of each trait in use, at its layer, with its calibration; the recipient registers it as is', async () => {
    const { from, openness } = await senderWithVectors();
    const url = (await from.actions.links.share())!;
    expect(from.state().shareNote).toMatch(/exact vectors for openness\./);
    const decoded = await decodePreset(url.slice(url.indexOf('#')), decodeContext(from.state()));
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(decoded.preset.vectors.map((v) => [v.id, v.precision, Object.keys(v.layers)])).toEqual([['openness', 'f32', ['1']]]); // extraversion is not in use

    const to = setup();
    await to.actions.links.open(url.slice(url.indexOf('#')));
    expect(to.state().pendingLoad?.vectors).toBe(1);
    await to.actions.links.confirmPendingLoad();
    const sent = to.engine.of('setVectors')[0].vectors.find((v) => v.traitId === 'openness')!;
    expect(Object.keys(sent.layers)).toEqual(['1']);
    expect(new Uint8Array(sent.layers[1].buffer)).toEqual(new Uint8Array(openness.layers[1].buffer));
    const senderSent = from.engine
      .of('setVectors')
      .at(-1)!
      .vectors.find((v) => v.traitId === 'openness')!;
    expect(Array.from(sent.layers[1])).toEqual(Array.from(senderSent.layers[1]));
    expect(to.state().vectorKind.openness).toBe('shared');
    expect(to.state().vectorKind.extraversion).toBe('demo');
    expect(to.state().traitData.openness.calibration).toEqual({ 1: { center: 0.25, scale: -1.5 } });
    expect(to.engine.of('extract')).toEqual([]);
    const settings = (x: typeof to) => x.engine.of('setSteering').at(-1)!.settings;
    expect(settings(to)).toEqual(settings(from));
    expect(to.state().sampling).toEqual(from.state().sampling);
  });

  it('the link vectors stay registered after a reload of the same model, not on another model', async () => {
    const { from } = await senderWithVectors();
    const url = (await from.actions.links.share())!;
    const to = setup();
    await to.actions.links.open(url.slice(url.indexOf('#')));
    await to.actions.links.confirmPendingLoad();
    await to.actions.session.load();
    expect(to.state().vectorKind.openness).toBe('shared');
    to.state().setModelInput('org/other');
    await to.actions.session.load();
    expect(to.state().vectorKind.openness).toBe('demo');
  });

  it('a link for the model already loaded applies at once, with no download', async () => {
    const { from } = await senderWithVectors();
    const url = (await from.actions.links.share())!;
    const to = await loaded();
    await to.actions.links.open(url.slice(url.indexOf('#')));
    expect(to.state().pendingLoad).toBeNull();
    expect(to.engine.calls.map((c) => c.method)).toEqual(['setVectors', 'setSteering']);
    expect(to.state().vectorKind.openness).toBe('shared');
  });

  it('a setup too large for a link is offered as a preset file, which restores it exactly', async () => {
    const from = setup(); // no model loaded: custom traits in use travel at all their layers
    const hidden = 2048;
    for (let i = 0; i < 5; i++) {
      from.state().addCustomTrait({ id: `big-${i}`, label: `Big ${i}`, vector: { model: 'org/big', hidden, layers: { 7: irregular(hidden, i) } } });
      from.state().setStrength(`big-${i}`, 0.5);
    }
    expect(await from.actions.links.share()).toBeNull();
    expect(from.state().shareTooLarge).toMatchObject({ limit: LIMITS.linkChars });
    expect(from.state().shareTooLarge!.chars).toBeGreaterThan(LIMITS.linkChars);
    expect(from.state().shareLink).toBeNull();
    expect(replaceState).not.toHaveBeenCalled();

    const file = (await from.actions.links.presetFile())!;
    expect(file.name).toBe('traitlab-preset.json');
    const to = setup();
    await to.actions.links.openFile(file.bytes, file.name);
    expect(to.state().presetError).toBeNull();
    for (let i = 0; i < 5; i++) {
      const got = to.state().customTraits[`big-${i}`].vector.layers[7];
      expect(new Uint8Array(got.buffer)).toEqual(new Uint8Array(irregular(hidden, i).buffer));
      expect(to.state().traits.find((t) => t.traitId === `big-${i}`)?.strength).toBe(0.5);
    }
    await to.actions.links.openFile(new TextEncoder().encode('{"format":"nope"}'), 'other.json');
    expect(to.state().presetError).toMatch(/^This preset file \(other\.json\) cannot be used: .*not a traitlab preset file/);
  });

  it('hostile model references are refused before anything shows as "will load"; the session is kept', async () => {
    const to = await loaded();
    to.state().setStrength('extraversion', 0.3);
    const { from } = await sharedLink();
    for (const model of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', '../../etc/passwd']) {
      from.state().setModelInput(model);
      const url = await from.actions.links.share();
      expect(url).toBeNull(); // the sender cannot make such a link either
      expect(from.state().presetError).toMatch(/cannot be shared: The model reference/);
    }
    // A crafted link: same checks on open.
    const { encodePreset } = await import('../../../../src/presets/codec');
    const { presetOf } = await import('../../../../src/ui/store/preset-slice');
    const evil = await encodePreset({ ...presetOf(from.state()), model: 'javascript:alert(1)' });
    await to.actions.links.open('#' + evil);
    expect(to.state().presetError).toMatch(/^This share link cannot be used: The model reference "javascript:alert\(1\)" uses "javascript:"/);
    expect(to.state().pendingLoad).toBeNull();
    expect(to.state().modelInput).toBe(INFO.model);
    expect(to.state().traits.find((t) => t.traitId === 'extraversion')?.strength).toBe(0.3);
    expect(to.engine.calls).toEqual([]);
  });

  it('a model on another host is named in the banner before anything downloads', async () => {
    const { from } = await sharedLink();
    from.state().setModelInput('https://models.example.com/org/m/');
    const url = (await from.actions.links.share())!;
    const to = setup();
    await to.actions.links.open(url.slice(url.indexOf('#')));
    expect(to.state().pendingLoad?.source).toMatch(/^models\.example\.com — not the Hugging Face hub/);
    expect(to.engine.calls).toEqual([]);
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

  it('a site-relative model id in a link matches the loaded model it resolves to on this page', () => {
    vi.stubGlobal('location', { origin: 'http://app.test', pathname: '/sub/', search: '', hash: '', href: 'http://app.test/sub/' });
    const loadedUrl = 'http://app.test/sub/models/traitlab/planted-cheerful/';
    expect(sameModel(loadedUrl, './models/traitlab/planted-cheerful/')).toBe(true);
    expect(sameModel(loadedUrl, './models/traitlab/tiny-llama/')).toBe(false);
    expect(sameModel(loadedUrl, loadedUrl)).toBe(true);
    expect(sameModel('org/fake', 'org/fake')).toBe(true);
    expect(sameModel('org/fake', 'fake')).toBe(false);
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
