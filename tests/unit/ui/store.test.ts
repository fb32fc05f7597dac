/** Store logic without React: a fresh store per test from createAppStore(). */
import { describe, expect, it } from 'vitest';
import { decodePreset, encodePreset } from '../../../src/presets/codec';
import { BUILTIN_PRESETS } from '../../../src/presets/builtins';
import type { TraitIndexEntry } from '../../../src/traits/dataset';
import { FrameBuffer } from '../../../src/ui/actions/frame-buffer';
import { deviceFit } from '../../../src/ui/models/device-fit';
import { resolveDtype } from '../../../src/shared/dtype';
import { findCatalogModel } from '../../../src/ui/models/catalog';
import { modelOfUrl } from '../../../src/ui/actions/model-cache';
import { calibrationsFor, meanProfile, scoreRows } from '../../../src/ui/scores';
import { createAppStore } from '../../../src/ui/store';
import { MAX_POINTS, type TokenPoint } from '../../../src/ui/store/metrics-slice';
import { downloadRate, downloadTotals } from '../../../src/ui/store/model-slice';
import { presetOf } from '../../../src/ui/store/preset-slice';
import { traitsForModel } from '../../../src/ui/store/steering-slice';
import { engineSettings, unsteeredSettings, vectorsFor } from '../../../src/ui/actions/trait-vectors';
import type { ModelInfo } from '../../../src/protocol/messages';
import { DEVICE, INFO } from '../../support/fake-engine';

const INDEX: TraitIndexEntry[] = [
  { id: 'openness', label: 'Openness', file: 'openness.json' },
  { id: 'extraversion', label: 'Extraversion', file: 'extraversion.json' },
  { id: 'agreeableness', label: 'Agreeableness', file: 'agreeableness.json' },
  { id: 'neuroticism', label: 'Neuroticism', file: 'neuroticism.json' },
  { id: 'planted-cheerful', label: 'Cheerful', file: 'planted-cheerful.json', onlyForModel: 'traitlab/planted-cheerful' },
];

const device = DEVICE;
const info: ModelInfo = { ...INFO, model: 'm', device: { ...DEVICE, adapter: 'test' } };

function fresh() {
  const store = createAppStore();
  store.getState().setBuiltinTraits(INDEX);
  return store;
}

const point = (index: number, proj: Record<string, [number, number]>): TokenPoint => ({
  index,
  text: `t${index}`,
  projections: Object.fromEntries(Object.entries(proj).map(([k, [pre, post]]) => [k, { pre, post }])),
});

describe('steering slice', () => {
  it('lists the built-in traits before any model, at strength 0', () => {
    const s = fresh().getState();
    expect(s.traits.map((t) => t.traitId)).toEqual(INDEX.map((e) => e.id));
    expect(s.traits.every((t) => t.strength === 0 && t.mode === 'add' && t.layer === null && t.enabled)).toBe(true);
    expect(traitsForModel(s.traits, '/local-models/tiny/').map((t) => t.traitId)).not.toContain('planted-cheerful');
    expect(traitsForModel(s.traits, '/local-models/traitlab/planted-cheerful/').map((t) => t.traitId)).toContain('planted-cheerful');
  });

  it("clamps typed strengths to ±10 (beyond the slider's ±1), maps NaN to 0, and keeps settings when the list is re-read", () => {
    const store = fresh();
    const st = store.getState();
    st.setStrength('openness', 30);
    st.setStrength('neuroticism', -2.5);
    st.setStrength('extraversion', -0.123456);
    st.setStrength('agreeableness', NaN);
    st.setMode('openness', 'clamp');
    st.setLayer('openness', 2);
    st.setEnabled('extraversion', false);
    store.getState().setBuiltinTraits(INDEX);
    const by = Object.fromEntries(store.getState().traits.map((t) => [t.traitId, t]));
    expect(by.openness).toMatchObject({ strength: 10, mode: 'clamp', layer: 2 });
    expect(by.neuroticism.strength).toBe(-2.5);
    expect(by.extraversion).toMatchObject({ strength: -0.123, enabled: false });
    expect(by.agreeableness.strength).toBe(0);
    store.getState().resetStrengths();
    expect(store.getState().traits.every((t) => t.strength === 0 && t.mode === 'add' && t.enabled)).toBe(true);
    expect(store.getState().traits.find((t) => t.traitId === 'openness')?.layer).toBe(2); // layer choice survives a reset
  });

  it('adds and removes custom traits (with their extraction data)', () => {
    const store = fresh();
    const vector = { model: 'm', hidden: 8, layers: { 1: new Float32Array(8).fill(1) } };
    store.getState().addCustomTrait({ id: 'pirate', label: 'Pirate', vector, separation: { 1: { effectSize: 2, accuracy: 0.9 } } });
    expect(store.getState().traits.at(-1)).toMatchObject({ traitId: 'pirate', custom: true });
    expect(store.getState().traitData.pirate.separation?.[1].effectSize).toBe(2);
    store.getState().addCustomTrait({ id: 'pirate', label: 'Pirate 2', vector });
    expect(store.getState().traits.filter((t) => t.traitId === 'pirate')).toHaveLength(1);
    store.getState().removeCustomTrait('pirate');
    expect(store.getState().traits.some((t) => t.traitId === 'pirate')).toBe(false);
    expect(store.getState().customTraits).toEqual({});
  });
});

describe('engine settings and vectors', () => {
  it('resolves default and uncut layers to the first cut layer; unsteered turns every intervention off', () => {
    const store = fresh();
    store.getState().setStrength('openness', 0.5);
    store.getState().setLayer('openness', 2);
    store.getState().setLayer('extraversion', 7);
    const settings = engineSettings(store.getState().traits, info);
    expect(settings.find((s) => s.traitId === 'openness')).toEqual({ traitId: 'openness', strength: 0.5, mode: 'add', layer: 2, enabled: true });
    expect(settings.find((s) => s.traitId === 'extraversion')?.layer).toBe(1);
    expect(unsteeredSettings(settings).every((s) => s.strength === 0 && !s.enabled)).toBe(true);
    expect(engineSettings(store.getState().traits, null)).toEqual([]);
  });

  it('gives demo directions to built-ins, own vectors to fitting custom traits, and flags misfits', () => {
    const store = fresh();
    store.getState().addCustomTrait({ id: 'ok', label: 'Ok', vector: { model: 'm', hidden: 8, layers: { 2: new Float32Array(8).fill(1) } } });
    store.getState().addCustomTrait({ id: 'bad', label: 'Bad', vector: { model: 'x', hidden: 16, layers: { 2: new Float32Array(16) } } });
    const { vectors, kinds } = vectorsFor(info, store.getState().traits, store.getState().customTraits);
    expect(kinds).toMatchObject({ openness: 'demo', ok: 'custom', bad: 'incompatible' });
    expect(vectors.map((v) => v.traitId)).not.toContain('bad');
    const again = vectorsFor(info, store.getState().traits, store.getState().customTraits);
    expect(again.vectors[0].layers[1]).toEqual(vectors[0].layers[1]); // seeded by trait id
    expect(vectors[0].layers[1]).not.toEqual(vectors[1].layers[1]);
  });
});

describe('scores', () => {
  it('scores demo directions in typical-norm units and calibrated ones as (p − center) / scale', () => {
    const store = fresh();
    store.getState().setTraitData('extraversion', { calibration: { 1: { center: 1, scale: 2 } } });
    const cal = calibrationsFor(store.getState().traits, info, store.getState().traitData);
    expect(cal.openness).toEqual({ center: 0, scale: 2 });
    expect(cal.extraversion).toEqual({ center: 1, scale: 2 });
    const pts = [point(0, { openness: [1, 2], extraversion: [1, 5] }), point(1, { openness: [3, 4], extraversion: [1, 3] })];
    expect(scoreRows(pts, cal)[0]).toMatchObject({ index: 0, token: 't0', openness: 1, extraversion: 2 });
    expect(meanProfile(pts, cal, 'post')).toEqual({ openness: 1.5, extraversion: 1.5 });
    expect(meanProfile(pts, cal, 'pre')).toEqual({ openness: 1, extraversion: 0 });
    expect(calibrationsFor(store.getState().traits, null, {})).toEqual({});
  });
});

describe('chat, metrics and compare slices', () => {
  it('streams a reply, and regenerate retracts the last user turn with its reply', () => {
    const st = createAppStore().getState;
    st().userSent('hi');
    st().replyDelta('hel');
    st().replyDelta('lo');
    expect(st().streaming).toBe('hello');
    expect(st().retractLastTurn()).toBeNull(); // not while streaming
    st().replyDone({ finishReason: 'eos', promptTokens: 3, prefillTokens: 3, generatedTokens: 2, prefillMs: 1, decodeMs: 1, text: 'hello' });
    expect(st().messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    expect(st().retractLastTurn()).toBe('hi');
    expect(st().messages).toEqual([]);
    expect(st().retractLastTurn()).toBeNull();
  });

  it('keeps a failed reply visible and the user message', () => {
    const st = createAppStore().getState;
    st().userSent('hi');
    st().replyDelta('part');
    st().replyFailed('boom');
    expect(st().messages.map((m) => m.content)).toEqual(['hi', 'part']);
    expect(st().chatError).toBe('boom');
  });

  it('bounds the chart points', () => {
    const st = createAppStore().getState;
    for (let i = 0; i < 3; i++) st().appendPoints(Array.from({ length: 300 }, (_, k) => point(i * 300 + k, {})));
    expect(st().points).toHaveLength(MAX_POINTS);
    expect(st().points.at(-1)?.index).toBe(899);
  });

  it('collects both compare runs', () => {
    const st = createAppStore().getState;
    st().compareStarted('p');
    st().comparePhaseStarted('unsteered');
    st().compareAppend('unsteered', [point(0, { a: [1, 1] }), point(1, { a: [1, 1] })]);
    st().comparePhaseStarted('steered');
    st().compareAppend('steered', [point(0, { a: [1, 2] })]);
    st().compareDone();
    expect(st().compareStatus).toBe('done');
    expect(st().compareRuns.unsteered.text).toBe('t0t1');
    expect(st().compareRuns.steered.points).toHaveLength(1);
    st().compareStarted('q');
    expect(st().compareRuns.unsteered.points).toEqual([]);
  });

  it('flushes the frame buffer once per frame, in order', () => {
    const frames: (() => void)[] = [];
    const got: number[][] = [];
    const fb = new FrameBuffer<number>(
      (b) => got.push(b),
      3,
      (fn) => frames.push(fn),
    );
    [1, 2, 3, 4].forEach((x) => fb.push(x));
    expect(frames).toHaveLength(1);
    frames[0]();
    expect(got).toEqual([[2, 3, 4]]); // bounded: the oldest dropped
  });
});

describe('model slice', () => {
  it('tracks per-file progress, totals, speed and time left', () => {
    const st = createAppStore().getState;
    st().loadStarted(1000);
    st().loadProgress({ phase: 'download', file: 'a', loaded: 50, total: 100, message: '' }, 1500);
    st().loadProgress({ phase: 'download', file: 'b', loaded: 0, total: 300, message: '' }, 2000);
    st().loadProgress({ phase: 'prepare', loaded: 0, total: 0, message: 'Preparing' }, 2000);
    expect(downloadTotals(st().files)).toEqual({ loaded: 50, total: 400 });
    const rate = downloadRate(50, 400, st().lastProgressAt! - st().loadStartedAt!);
    expect(rate).toEqual({ bytesPerSecond: 50, secondsLeft: 7 });
    expect(downloadRate(0, 400, 1000)).toBeNull();
    st().loadFailed('nope');
    expect(st().modelStatus).toBe('error');
    st().loadDone(info);
    st().loadFailed('again');
    expect(st().modelStatus).toBe('ready'); // the loaded model stays usable
  });

  it('explains what the device cannot run', () => {
    expect(resolveDtype('auto', device.shaderF16)).toBe('q4');
    expect(resolveDtype('auto', true)).toBe('q4f16');
    expect(deviceFit(device, 'q4f16').ok).toBe(false);
    expect(deviceFit(device, 'q4f16').message).toMatch(/shader-f16/);
    expect(deviceFit(device, 'q4').ok).toBe(true);
    const planted = findCatalogModel('http://x/sub/models/traitlab/planted-cheerful/');
    expect(planted?.onlyDtype).toBe('fp32');
    expect(deviceFit(device, 'q4', planted).ok).toBe(false);
    expect(deviceFit({ ...device, webgpu: false }, 'q4').message).toMatch(/CPU/);
    expect(deviceFit(device, 'fp32', findCatalogModel('onnx-community/Llama-3.2-1B-Instruct')).message).toMatch(/buffers/);
  });

  it('groups cached files by model', () => {
    expect(modelOfUrl('https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main/onnx/model_q4.onnx')).toBe(
      'HuggingFaceTB/SmolLM2-135M-Instruct',
    );
    expect(modelOfUrl('http://127.0.0.1:5173/hub/traitlab/tiny/resolve/main/config.json')).toBe('traitlab/tiny');
    expect(modelOfUrl('http://127.0.0.1:5173/local-models/traitlab/tiny-llama/onnx/model_q4.onnx')).toBe(
      'http://127.0.0.1:5173/local-models/traitlab/tiny-llama/',
    );
    expect(modelOfUrl('http://127.0.0.1:5173/local-models/traitlab/tiny-llama/config.json')).toBe('http://127.0.0.1:5173/local-models/traitlab/tiny-llama/');
  });
});

describe('presets in the store', () => {
  it('a share link made from one store restores every setting in a fresh store', async () => {
    const a = fresh();
    const s = a.getState();
    s.setModelInput('HuggingFaceTB/SmolLM2-135M-Instruct');
    s.setDtypeChoice('fp32');
    s.setCutLayersInput('3, 5');
    s.setStrength('openness', 0.42);
    s.setMode('extraversion', 'ablate');
    s.setLayer('agreeableness', 5);
    s.setEnabled('neuroticism', false);
    s.addCustomTrait({ id: 'pirate', label: 'Pirate', vector: { model: 'm', hidden: 4, layers: { 3: Float32Array.from([0.5, -1, 0.25, 0]) } } });
    s.setStrength('pirate', -0.3);
    s.setSystemPrompt('Be brief.');
    s.setSampling({ temperature: 0.8, topK: 20, topP: 0.95, repetitionPenalty: 1.2, seed: 99 });
    s.setMaxNewTokens(33);

    const b = fresh();
    const p = presetOf(a.getState());
    const custom = a.getState().customTraits.pirate;
    p.vectors = [{ id: 'pirate', customLabel: 'Pirate', hidden: 4, precision: 'i8', layers: custom.vector.layers, calibration: {} }];
    const r = await decodePreset(await encodePreset(p), { knownTraitIds: new Set(INDEX.map((e) => e.id)) });
    if (!r.ok) throw new Error(r.error.message);
    b.getState().applyPreset(r.preset, 'the Hugging Face hub (huggingface.co)');
    const pick = (x: ReturnType<typeof b.getState>) => ({
      model: x.modelInput,
      dtype: x.dtypeChoice,
      cut: x.cutLayersInput,
      traits: x.traits,
      custom: Object.keys(x.customTraits),
      system: x.systemPrompt,
      sampling: x.sampling,
      max: x.maxNewTokens,
    });
    expect(pick(b.getState())).toEqual(pick(a.getState()));
    expect(Array.from(b.getState().customTraits.pirate.vector.layers[3])).toEqual([0.5, -1, 0.25, 0].map((x) => expect.closeTo(x, 2)));
    expect(b.getState().pendingLoad).toEqual({
      model: 'HuggingFaceTB/SmolLM2-135M-Instruct',
      dtype: 'fp32',
      cutLayers: '3, 5',
      source: 'the Hugging Face hub (huggingface.co)',
      vectors: 1,
    });
  });

  it('a built-in preset sets its strengths and system prompt and zeroes the rest', () => {
    const store = fresh();
    store.getState().setStrength('openness', 0.9);
    const party = BUILTIN_PRESETS.find((p) => p.id === 'party-host')!;
    store.getState().applyBuiltinPreset(party);
    const by = Object.fromEntries(store.getState().traits.map((t) => [t.traitId, t.strength]));
    expect(by).toMatchObject({ openness: 0, extraversion: 0.6, agreeableness: 0.4, neuroticism: -0.3 });
    expect(store.getState().systemPrompt).toBe(party.systemPrompt);
  });

  it('a rejected link only sets the message', () => {
    const store = fresh();
    store.getState().setStrength('openness', 0.5);
    const before = store.getState().traits;
    store.getState().presetRejected('bad link');
    expect(store.getState().presetError).toBe('bad link');
    expect(store.getState().traits).toBe(before);
  });
});
