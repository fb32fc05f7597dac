/**
 * The engine's measurement requests (issue 9), on a loaded model: option probabilities through
 * a private KV cache (under the current steering or with steering off), and the unsteered
 * re-read of a reply. Neither touches the chat's KV cache.
 */
import type { LogitsLayout } from '../kernels/sample-common';
import type { LoadedModel } from '../load-model';
import type { Interventor } from '../runtime/chain';
import { ortDevice } from '../runtime/gpu-backend';
import { ModelForward } from '../runtime/model-forward';
import { prefillChunk } from '../runtime/prefill';
import type { LayerPlan } from '../../steering/plan';
import type { RereadRequest, RereadResult, ScoreOptionsRequest, ScoreOptionsResult, ScoreProgress } from '../../protocol/psychometrics';
import { ReadAllInterventor, type CutReadout } from './reread';
import { GpuOptionReader, optionPass } from './option-pass';
import { scoreOptions } from './score-options';

export { forgetPrepared, LabelTokenError, labelProbabilities, preparePrompt, resolveLabels } from './score-options';

/** The GPUDevice on WebGPU, null on the WASM EP. */
async function deviceOf(m: LoadedModel): Promise<GPUDevice | null> {
  return m.ep === 'webgpu' ? ortDevice() : null;
}

/** A forward over the loaded chain with its own (empty) KV cache and the given interventor (null = none). */
export async function privateForward(m: LoadedModel, interventor: Interventor | null): Promise<ModelForward> {
  return new ModelForward(m.chain, interventor, m.kv, await deviceOf(m), prefillChunk(m.info.structure, m.ep));
}

/** true when the chain's logits output is [batch, 1, vocab] (keepLastTokenLogits found the LM head). */
function lastRowOnly(m: LoadedModel): boolean {
  const sessions = m.chain.sessions;
  const meta = sessions[sessions.length - 1].outputMetadata.find((o) => o.name === 'logits');
  return !!meta && meta.isTensor && meta.shape.length === 3 && meta.shape[1] === 1;
}

/** How the chain's logits output lies in a GPU buffer (its row width and element type). */
function logitsLayout(m: LoadedModel): LogitsLayout {
  const info = m.chain.logitsInfo();
  return { vocab: info.vocab ?? m.info.vocabSize, f16: info.type === 'float16' };
}

export async function measureOptions(
  m: LoadedModel,
  request: ScoreOptionsRequest,
  onProgress: (p: ScoreProgress) => void,
  shouldStop: () => boolean,
): Promise<ScoreOptionsResult> {
  const forward = await privateForward(m, request.steering === 'off' ? null : m.backend);
  const device = await deviceOf(m);
  const reader = device ? new GpuOptionReader(device, logitsLayout(m)) : null;
  try {
    const host = { tokenizer: m.tokenizer, cache: forward.cache, optionPass: optionPass(forward, reader, lastRowOnly(m)), contextLength: m.info.contextLength };
    const result = await scoreOptions(host, request.prompts, { onProgress: (done, total) => onProgress({ done, total }), shouldStop });
    return { ...result, readbackBytes: reader?.stats.readbackBytes ?? 0 };
  } finally {
    forward.cache.clear();
    reader?.destroy();
  }
}

/** Where each trait is read: the cut and the slot of its direction in that cut's plan. */
export interface ReadoutSlot {
  traitId: string;
  cut: number;
  slot: number;
}

export async function rereadReply(
  m: LoadedModel,
  plans: readonly LayerPlan[],
  readouts: readonly ReadoutSlot[],
  request: RereadRequest,
): Promise<RereadResult> {
  const prompt = m.tokenizer.encodeChat(request.messages);
  const reply = m.tokenizer.encode(request.reply);
  if (reply.length === 0) return { projections: {}, replyTokens: 0 };
  if (prompt.length + reply.length >= m.info.contextLength) {
    throw new Error(`The reply and its context are ${prompt.length + reply.length} tokens but this model's context holds ${m.info.contextLength}.`);
  }
  const cuts: CutReadout[] = plans.map((plan, c) => {
    const here = readouts.filter((r) => r.cut === c);
    return { traitIds: here.map((r) => r.traitId), vectors: here.map((r) => plan.slots[r.slot].vector) };
  });
  const reader = new ReadAllInterventor(await deviceOf(m), m.info.hidden, cuts);
  const forward = await privateForward(m, reader);
  try {
    await forward.forward([...prompt, ...reply]);
    const all = await reader.take(); // traitId → [prompt + reply tokens]
    const projections = Object.fromEntries(Object.entries(all).map(([id, xs]) => [id, xs.slice(prompt.length)]));
    return { projections, replyTokens: reply.length };
  } finally {
    forward.cache.clear();
    reader.dispose();
  }
}
