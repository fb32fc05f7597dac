/**
 * Bench page (driven by bench/run.ts): three ways to run the same model on this page's thread,
 * all on ORT's one WebGPU device, timed the same way.
 *  (a) uncut: the whole model as one ORT session (cutModel(bytes, [])), our decode loop, greedy;
 *  (b) cut: the Engine (cut at one layer, our kernels between the sessions), five traits steered;
 *  (c) transformers.js: AutoModelForCausalLM.from_pretrained + model.generate (greedy).
 * Every run is timed from the call to the first generated token (prefill) and from the first to
 * the last generated token (decode, generated-1 forward steps).
 */
import { configureOrt } from '../../src/engine/runtime/ort';
import type { ModelSource } from '../../src/protocol/messages';
import type { ChatMessage } from '../../src/shared/chat';
import type { DeviceInfo } from '../../src/shared/device';
import type { Dtype } from '../../src/shared/dtype';
import type { PreTrainedModel } from '@huggingface/transformers';
import type { SessionChain as SessionChainT } from '../../src/engine/runtime/chain';
import type { ModelForward as ModelForwardT } from '../../src/engine/runtime/model-forward';
import type { LoadedModel } from '../../src/engine/load-model';

// BENCH_GPU_TIMES=1 (bench.html?gpuTimes): per-launch GPU timestamps; must wrap requestDevice before ORT makes its device.
const gpuTimes = new URLSearchParams(location.search).has('gpuTimes') ? await import('../../tests/support/gpu-timestamps') : null;
gpuTimes?.install();
configureOrt('/ort/');
const counters = await import('../../tests/support/gpu-counters');
// Everything that may import transformers.js comes after configureOrt (one ORT instance).
const { Engine } = await import('../../src/engine/engine');
const { loadModel, releaseModel } = await import('../../src/engine/load-model');
const { SessionChain } = await import('../../src/engine/runtime/chain');
const { gpuForwardOptions, ModelForward } = await import('../../src/engine/runtime/model-forward');
const { runDecodeLoop } = await import('../../src/engine/runtime/decode-loop');
const { GREEDY } = await import('../../src/shared/sampling');
const { ortDevice } = await import('../../src/engine/runtime/gpu-backend');
const { cutModel } = await import('../../src/engine/surgery');
const { fetchJson } = await import('../../src/engine/hub/download');
const { fetchModelBytes, modelFileSet } = await import('../../src/engine/hub/model-bytes');
const { kvLayout, textConfig } = await import('../../src/engine/hub/model-files');
const { fileUrl, resolveSource } = await import('../../src/engine/hub/source');
const { mulberry32 } = await import('../../src/shared/rng');
// transformers.js ignores `device` when ORT is injected through Symbol.for('onnxruntime')
// (its list of supported devices stays empty). Import it uninjected: its own
// `import 'onnxruntime-web/webgpu'` resolves to the same module instance as ours (checked
// below), so (c) runs on the same ORT and the same GPUDevice as (a) and (b).
const ORT_KEY = Symbol.for('onnxruntime');
const globals = globalThis as unknown as Record<symbol, unknown>;
const injected = globals[ORT_KEY];
delete globals[ORT_KEY];
const tjs = await import('@huggingface/transformers');
globals[ORT_KEY] = injected;
const { ort } = await import('../../src/engine/runtime/ort');
// transformers.js exposes a shallow copy of ORT's env: compare the nested objects.
const tjsOnnx = tjs.env.backends.onnx as unknown as { webgpu?: unknown; wasm?: unknown };
const sameOrt = tjsOnnx.webgpu === ort.env.webgpu && tjsOnnx.wasm === ort.env.wasm;
if (!sameOrt) console.warn('[bench] transformers.js got a different onnxruntime-web instance than the engine');
// Count every GPU buffer, submit, map and session run from here on (ours, ORT's, transformers.js').
counters.installCounters((ort.InferenceSession as unknown as { prototype: object }).prototype);
/** The counts at a generated token (and a step mark for the GPU timestamps when they are on). */
function tokenSnapshot(): ReturnType<typeof counters.snapshot> {
  gpuTimes?.mark();
  return counters.snapshot();
}

type Which = 'a' | 'b' | 'c';

export interface LoadOptions {
  model: string;
  remoteHost: string;
  dtype: Dtype;
}

export interface RunResult {
  which: Which;
  promptTokens: number;
  generated: number;
  tokens: number[];
  /** call → first generated token (ms) */
  ttftMs: number;
  /** first → last generated token (ms), generated-1 forward steps */
  decodeSpanMs: number;
  /** (a)/(b) only: the decode loop's own prefillMs/decodeMs */
  loopPrefillMs?: number;
  loopDecodeMs?: number;
  /** Mean GPU work per decode step after the first (tests/support/gpu-counters.ts); null below 3 tokens. */
  perToken: ReturnType<typeof counters.perToken>;
  /** GPU work from the call to the first generated token (the prefill). */
  prefill: ReturnType<typeof counters.snapshot>;
  /** (a)/(b): steps whose GPU top-k candidates could not certify the choice (full-row fallback). */
  samplingFallbacks?: number;
}

const pageStart = performance.now();
const log = (msg: string) => console.info(`[bench] +${((performance.now() - pageStart) / 1000).toFixed(1)}s ${msg}`);

// ---------- (a) uncut: one session, our decode loop ----------
interface Uncut {
  chain: SessionChainT;
  forward: ModelForwardT;
  contextLength: number;
}
let uncut: Uncut | null = null;

async function loadA(opts: LoadOptions): Promise<{ loadMs: number; parts: number }> {
  const t0 = performance.now();
  const src = resolveSource(opts.model, 'main', opts.remoteHost);
  const noop = () => undefined;
  const config = textConfig(await fetchJson(fileUrl(src, 'config.json'), 'config.json', noop));
  // Not through the Cache API: the engine's load already keeps its own copy there.
  const { graph, externalData } = await fetchModelBytes(modelFileSet(src, config, opts.dtype), { useCache: false });
  log(`(a) fetched in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const cut = cutModel(graph, [], { hostPreamble: true }); // as the engine does on WebGPU (load-model.ts)
  log(`(a) cutModel(bytes, []) done`);
  const chain = await SessionChain.create(cut.parts, { ep: 'webgpu', externalData, host: cut.host });
  const contextLength = config.max_position_embeddings ?? 2048;
  const device = await ortDevice();
  // The engine's GPU decode path (static KV cache, logits bound to our buffer, argmax on the GPU), no steering.
  const kvShared = cut.structure.attention === 'GroupQueryAttention'; // as the engine does (load-model.ts)
  const gpu = gpuForwardOptions(chain, device, { contextLength, vocab: config.vocab_size, logitsRows: 'all', readback: null, kvShared });
  const forward = new ModelForward(chain, null, kvLayout(config, opts.dtype), device, Infinity, gpu);
  uncut = { chain, forward, contextLength };
  return { loadMs: performance.now() - t0, parts: cut.parts.length };
}

async function runA(ids: number[], maxNewTokens: number): Promise<RunResult> {
  const m = uncut;
  if (!m) throw new Error('(a) is not loaded');
  const tokens: number[] = [];
  const times: number[] = [];
  const snaps: ReturnType<typeof counters.snapshot>[] = [];
  const fallbacks0 = m.forward.samplingStats?.fallbacks ?? 0;
  const s0 = counters.snapshot();
  const t0 = performance.now();
  const r = await runDecodeLoop(m.forward, ids, {
    sampling: GREEDY,
    maxNewTokens,
    eos: [], // run the full budget, as in (b) and (c)
    contextLength: m.contextLength,
    reuseCache: false,
    shouldStop: () => false,
    onToken: (t) => {
      times.push(performance.now());
      snaps.push(tokenSnapshot());
      tokens.push(t);
    },
  });
  m.forward.cache.clear();
  const fallbacks = (m.forward.samplingStats?.fallbacks ?? 0) - fallbacks0;
  return { ...finish('a', ids.length, tokens, [t0, s0], times, snaps, r.prefillMs, r.decodeMs), samplingFallbacks: fallbacks };
}

// ---------- (b) the engine: cut model, kernels, five steered traits ----------
// The engine's own loader, wrapped: the bench runs the full token budget (no EOS ids) and
// releases the model's sessions itself.
let engineModel: LoadedModel | null = null;
const engine = new Engine({
  loadModel: async (source, ctx) => {
    const m = await loadModel(source, ctx);
    m.eos = []; // run the full token budget like (a) and (c): no early stop on EOS
    return (engineModel = m);
  },
});

function engineModelOrThrow(): LoadedModel {
  if (!engineModel) throw new Error('(b) is not loaded');
  return engineModel;
}

async function loadB(opts: LoadOptions & { cutLayer: number; traits: number; seed: number }) {
  const t0 = performance.now();
  const source: ModelSource = { model: opts.model, remoteHost: opts.remoteHost, dtype: opts.dtype, cutLayers: [opts.cutLayer] };
  const info = await engine.load(source, (p) => {
    if (p.phase !== 'download' || (p.loaded === p.total && p.total > 1e6)) log(`(b) ${p.phase}: ${p.message} ${p.loaded}/${p.total}`);
  });
  const rand = mulberry32(opts.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const vectors = Array.from({ length: opts.traits }, (_, k) => {
    const v = Float32Array.from({ length: info.hidden }, gauss);
    const n = Math.hypot(...v);
    for (let i = 0; i < v.length; i++) v[i] /= n;
    return { traitId: `trait${k}`, model: info.model, hidden: info.hidden, layers: { [opts.cutLayer]: v } };
  });
  // All strengths nonzero, add mode: every slot of the steer kernel does work.
  const strengths = Array.from({ length: opts.traits }, (_, k) => (k % 2 === 0 ? 1 : -1) * (0.05 + 0.05 * k));
  engine.setVectors(vectors);
  engine.setSteering(vectors.map((v, k) => ({ traitId: v.traitId, strength: strengths[k], mode: 'add' as const, layer: opts.cutLayer, enabled: true })));
  const plans = engine.plans().map((p) => ({ layer: p.layer, slots: p.slots.map((s) => ({ traitId: s.traitId, mode: s.mode, alpha: s.alpha })) }));
  return {
    loadMs: performance.now() - t0,
    engineLoadMs: info.loadMs,
    cutLayers: info.cutLayers,
    typicalNorm: info.typicalNorm,
    strengths,
    plans,
    device: info.device,
  };
}

async function runB(messages: ChatMessage[], ids: number[], maxNewTokens: number): Promise<RunResult> {
  const prompt = engineModelOrThrow().tokenizer.encodeChat(messages);
  if (prompt.length !== ids.length || prompt.some((t, i) => t !== ids[i])) throw new Error('(b) prompt ids differ from the shared prompt');
  const tokens: number[] = [];
  const times: number[] = [];
  const snaps: ReturnType<typeof counters.snapshot>[] = [];
  const stats = () => engineModelOrThrow().forward.samplingStats?.fallbacks ?? 0;
  const fallbacks0 = stats();
  const s0 = counters.snapshot();
  const t0 = performance.now();
  const r = await engine.generate({ messages, sampling: GREEDY, maxNewTokens, reuseCache: false }, (ev) => {
    times.push(performance.now());
    snaps.push(tokenSnapshot());
    tokens.push(ev.tokenId);
  });
  engine.resetCache();
  return { ...finish('b', ids.length, tokens, [t0, s0], times, snaps, r.prefillMs, r.decodeMs), samplingFallbacks: stats() - fallbacks0 };
}

// ---------- (c) transformers.js ----------
let tjsModel: PreTrainedModel | null = null;

async function loadC(opts: LoadOptions): Promise<{ loadMs: number }> {
  const t0 = performance.now();
  tjs.env.allowLocalModels = false;
  tjs.env.allowRemoteModels = true;
  tjs.env.remoteHost = opts.remoteHost.replace(/\/?$/, '/');
  tjs.env.remotePathTemplate = '{model}/resolve/{revision}/';
  tjsModel = await tjs.AutoModelForCausalLM.from_pretrained(opts.model, { device: 'webgpu', dtype: opts.dtype });
  return { loadMs: performance.now() - t0 };
}

class TimingStreamer extends tjs.BaseStreamer {
  private promptSeen = false;
  readonly times: number[] = [];
  readonly tokens: number[] = [];
  readonly snaps: ReturnType<typeof counters.snapshot>[] = [];
  override put(value: bigint[][]): void {
    const now = performance.now();
    if (!this.promptSeen) {
      this.promptSeen = true; // generate() puts the prompt first
      return;
    }
    this.times.push(now);
    this.snaps.push(tokenSnapshot());
    this.tokens.push(Number(value[0][0]));
  }
  override end(): void {}
}

async function runC(ids: number[], maxNewTokens: number): Promise<RunResult> {
  const model = tjsModel;
  if (!model) throw new Error('(c) is not loaded');
  const n = ids.length;
  const input_ids = new tjs.Tensor(
    'int64',
    BigInt64Array.from(ids, (t) => BigInt(t)),
    [1, n],
  );
  const attention_mask = new tjs.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const streamer = new TimingStreamer();
  const s0 = counters.snapshot();
  const t0 = performance.now();
  // eos_token_id: null = run the full budget, as in (a) and (b).
  await model.generate({ input_ids, attention_mask, max_new_tokens: maxNewTokens, do_sample: false, eos_token_id: null, streamer } as unknown as Parameters<
    PreTrainedModel['generate']
  >[0]);
  return finish('c', n, streamer.tokens, [t0, s0], streamer.times, streamer.snaps);
}

// ---------- shared ----------
function finish(
  which: Which,
  promptTokens: number,
  tokens: number[],
  [t0, s0]: [number, ReturnType<typeof counters.snapshot>],
  times: number[],
  snaps: ReturnType<typeof counters.snapshot>[],
  loopPrefillMs?: number,
  loopDecodeMs?: number,
): RunResult {
  if (times.length === 0) throw new Error(`(${which}) generated no tokens`);
  return {
    which,
    promptTokens,
    generated: tokens.length,
    tokens,
    ttftMs: times[0] - t0,
    decodeSpanMs: times[times.length - 1] - times[0],
    loopPrefillMs,
    loopDecodeMs,
    perToken: counters.perToken(snaps),
    prefill: counters.diff(snaps[0], s0),
  };
}

/** A chat prompt whose token count is as close to `target` as whole words allow (needs (b) loaded). */
function prompt(target: number): { messages: ChatMessage[]; ids: number[] } {
  const tok = engineModelOrThrow().tokenizer;
  const words =
    'Tell me a short story about a lighthouse keeper who finds a strange glass bottle on the shore one stormy night and what the note inside it says'.split(
      ' ',
    );
  let best: { messages: ChatMessage[]; ids: number[] } | null = null;
  for (let n = 1; n <= 400; n++) {
    const content = Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
    const messages: ChatMessage[] = [{ role: 'user', content }];
    const ids = tok.encodeChat(messages);
    if (!best || Math.abs(ids.length - target) < Math.abs(best.ids.length - target)) best = { messages, ids };
    if (ids.length >= target) break;
  }
  return best!;
}

async function run(which: Which, p: { messages: ChatMessage[]; ids: number[] }, maxNewTokens: number): Promise<RunResult> {
  if (which === 'a') return runA(p.ids, maxNewTokens);
  if (which === 'b') return runB(p.messages, p.ids, maxNewTokens);
  return runC(p.ids, maxNewTokens);
}

async function release(which: Which): Promise<void> {
  if (which === 'a' && uncut) {
    uncut.forward.destroy();
    await uncut.chain.release();
    uncut = null;
  } else if (which === 'c' && tjsModel) {
    await tjsModel.dispose();
    tjsModel = null;
  } else if (which === 'b') {
    // The engine has no public unload; a load of another model replaces it. Drop our handle on
    // its sessions by releasing the chain and backend directly.
    if (engineModel) await releaseModel(engineModel);
    engineModel = null;
  }
}

async function device(): Promise<DeviceInfo & { sameOrt: boolean }> {
  const info = await engine.device();
  return { ...info, sameOrt };
}

async function gpuTimesRun(which: Which, p: { messages: ChatMessage[]; ids: number[] }, maxNewTokens: number) {
  if (!gpuTimes?.supported()) return null;
  gpuTimes.start();
  const r = await run(which, p, maxNewTokens);
  const wall = { prefillMs: Math.round(r.ttftMs * 10) / 10, decodeMsPerToken: Math.round((r.decodeSpanMs / Math.max(1, r.generated - 1)) * 10) / 10 };
  return { tokens: r.tokens, wall, ...(await gpuTimes.report()) };
}

const bench = { loadA, loadB, loadC, run, release, prompt, device, gpuTimesRun, trace: (on: boolean) => counters.trace(on) };
export type BenchApi = typeof bench;

(window as unknown as { bench: BenchApi; harnessReady: boolean }).bench = bench;
(window as unknown as { harnessReady: boolean }).harnessReady = true;
