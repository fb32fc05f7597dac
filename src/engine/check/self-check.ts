/**
 * "Check this model" on the user's own device: is traitlab's cut exact on this model, and do
 * the kernels at the cut behave as the steering maths says? Five checks on a short prompt:
 *  (a) the cut model with zero steering against the uncut graph (one extra ORT session of the
 *      original file, created here and released afterwards): max |Δlogit| over every step;
 *  (b) greedy tokens of both agree for STEPS tokens (the cut runs teacher-forced along the
 *      uncut model's greedy tokens, so every step compares the same context);
 *  (c) steering linearity: (v, 2) ≡ (2v, 1); adding v then −v, and steering then unsteering,
 *      return the baseline;
 *  (d) the readout after adding α·v moves by α·|v|·cos(v, u) on a direction u;
 *  (e) every logit and every residual at the cuts is finite (the f16 guard).
 * Runs on the loaded model's own chain and steering backend (with raw kernel plans); the
 * caller restores the engine's plans afterwards.
 */
import { CHECK_LABELS, type CheckId, type CheckItem, type CheckReport } from '../../protocol/check';
import { needsF16 } from '../../shared/dtype';
import { mulberry32 } from '../../shared/rng';
import { MODE_CODE } from '../../steering/mode';
import type { LayerPlan, SlotPlan } from '../../steering/plan';
import { cosine, dot, norm } from '../../steering/vector';
import { fetchModelBytes } from '../hub/model-bytes';
import type { LoadedModel } from '../load-model';
import { decodeModel } from '../onnx/proto';
import { SessionChain } from '../runtime/chain';
import { ortDevice } from '../runtime/gpu-backend';
import { ModelForward } from '../runtime/model-forward';
import { prefillChunk } from '../runtime/prefill';
import { ResidualProbe } from './probe';

/** Greedy steps compared (b). */
export const STEPS = 16;
const PROMPT = [{ role: 'user' as const, content: 'Name three colours of the sea.' }];

/** Tolerances per activation precision: |Δ| ≤ atol + rtol · max|logit|. */
export function tolerances(dtype: string) {
  return needsF16(dtype as never)
    ? { cutAtol: 0.1, cutRtol: 1e-2, linAtol: 1e-2, linRtol: 1e-3, readoutRel: 1e-2 }
    : { cutAtol: 1e-2, cutRtol: 1e-3, linAtol: 1e-3, linRtol: 1e-4, readoutRel: 1e-3 };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

function countNonFinite(rows: Float32Array[]): number {
  let n = 0;
  for (const r of rows) for (let i = 0; i < r.length; i++) if (!Number.isFinite(r[i])) n++;
  return n;
}

/** Margin between the top two logits (how close a greedy step was to a tie). */
function topMargin(x: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > a) [a, b] = [x[i], a];
    else if (x[i] > b) b = x[i];
  }
  return a - b;
}

function item(id: CheckId, value: number, threshold: number, bound: 'max' | 'min', detail: string): CheckItem {
  const passed = bound === 'max' ? value <= threshold : value >= threshold;
  return { id, label: CHECK_LABELS[id], passed: passed && !Number.isNaN(value), value, threshold, bound, detail };
}

/** A random vector // [hidden] of norm `size` (seeded: the same check on every run). */
function randomVector(hidden: number, size: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const v = Float32Array.from({ length: hidden }, () => r() * 2 - 1);
  const n = norm(v);
  return v.map((x) => (x / n) * size);
}

function slot(traitId: string, vector: Float32Array, mode: 'none' | 'add', alpha: number): SlotPlan {
  return { traitId, vector, mode: MODE_CODE[mode], alpha, target: 0 };
}

/** The uncut original graph's greedy run: its tokens and the logits of every step // STEPS+1 × [vocab]. */
async function uncutGreedy(m: LoadedModel, prompt: number[], device: GPUDevice | null, fetchFn?: typeof fetch) {
  const bytes = await fetchModelBytes(m.files, { fetchFn });
  const outputNames = decodeModel(bytes.graph).graph.output.map((o) => o.name);
  const chain = await SessionChain.create([{ bytes: bytes.graph, outputNames }], { ep: m.ep, externalData: bytes.externalData });
  const forward = new ModelForward(chain, null, m.kv, device, prefillChunk(m.info.structure, m.ep));
  try {
    const rows = [await forward.forward(prompt)];
    const tokens: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      tokens.push(argmax(rows[s]));
      rows.push(await forward.forward([tokens[s]]));
    }
    return { rows, tokens };
  } finally {
    forward.cache.clear();
    await chain.release();
  }
}

export interface SelfCheckOptions {
  fetchFn?: typeof fetch;
  onStage?: (stage: string) => void;
}

export async function runSelfCheck(m: LoadedModel, opts: SelfCheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const stage = opts.onStage ?? (() => undefined);
  const device = m.ep === 'webgpu' ? await ortDevice() : null;
  const tol = tolerances(m.info.dtype);
  const prompt = m.tokenizer.encodeChat(PROMPT);
  const { hidden, cutLayers } = m.info;
  const zero: LayerPlan[] = cutLayers.map((layer) => ({ layer, slots: [] }));
  const probe = new ResidualProbe(m.backend, device);
  const forward = new ModelForward(m.chain, probe, m.kv, device, prefillChunk(m.info.structure, m.ep));
  const prefill = async (plans: LayerPlan[]) => {
    m.backend.setPlans(plans);
    forward.cache.clear();
    const logits = await forward.forward(prompt);
    forward.cache.clear();
    return logits;
  };
  const checks: CheckItem[] = [];
  const allLogits: Float32Array[] = [];

  // (a) + (b): uncut greedy, then the cut with zero steering teacher-forced along its tokens.
  stage('Running the uncut model');
  const uncut = await uncutGreedy(m, prompt, device, opts.fetchFn);
  stage('Running the cut model');
  m.backend.setPlans(zero);
  forward.cache.clear();
  const cutRows = [await forward.forward(prompt)];
  for (let s = 0; s < STEPS; s++) cutRows.push(await forward.forward([uncut.tokens[s]]));
  forward.cache.clear();
  allLogits.push(...uncut.rows, ...cutRows);
  let worst = 0;
  let worstStep = 0;
  let scale = 0;
  cutRows.forEach((row, s) => {
    const d = maxAbsDiff(row, uncut.rows[s]);
    if (!(d <= worst)) [worst, worstStep] = [d, s];
    scale = Math.max(scale, maxAbs(uncut.rows[s]));
  });
  const cutBound = tol.cutAtol + tol.cutRtol * scale;
  checks.push(
    item(
      'cut-vs-uncut',
      worst,
      cutBound,
      'max',
      `max |Δlogit| ${worst.toPrecision(3)} at step ${worstStep} of ${STEPS + 1} (max |logit| ${scale.toPrecision(3)}; bound ${tol.cutAtol} + ${tol.cutRtol}·max|logit|)`,
    ),
  );
  let agree = 0;
  while (agree < STEPS && argmax(cutRows[agree]) === uncut.tokens[agree]) agree++;
  const greedyDetail =
    agree === STEPS
      ? `all ${STEPS} greedy tokens agree`
      : `first disagreement at token ${agree}: uncut ${uncut.tokens[agree]}, cut ${argmax(cutRows[agree])} (uncut top-2 margin ${topMargin(uncut.rows[agree]).toPrecision(3)})`;
  checks.push(item('greedy', agree, STEPS, 'min', greedyDetail));

  // (c) linearity at the first cut, with a seeded vector of a quarter of the typical norm.
  stage('Checking steering linearity');
  const layer = cutLayers[0];
  const typical = m.info.typicalNorm[layer] ?? 1;
  const v = randomVector(hidden, typical / 4, 1);
  const at0 = (slots: SlotPlan[]): LayerPlan[] => zero.map((p, i) => (i === 0 ? { layer: p.layer, slots } : p));
  const base = await prefill(zero);
  const v2 = await prefill(at0([slot('v', v, 'add', 2)]));
  const twoV1 = await prefill(
    at0([
      slot(
        '2v',
        v.map((x) => 2 * x),
        'add',
        1,
      ),
    ]),
  );
  const there = await prefill(at0([slot('v', v, 'add', 2), slot('-v', v, 'add', -2)]));
  const back = await prefill(zero);
  allLogits.push(base, v2, twoV1, there, back);
  const linScale = Math.max(maxAbs(base), maxAbs(v2));
  const linBound = tol.linAtol + tol.linRtol * linScale;
  const dLin = maxAbsDiff(v2, twoV1);
  const dInv = maxAbsDiff(there, base);
  const dBack = maxAbsDiff(back, base);
  const moved = maxAbsDiff(v2, base);
  checks.push(
    item(
      'linearity',
      Math.max(dLin, dInv, dBack),
      linBound,
      'max',
      `max |Δlogit|: (v,2) vs (2v,1) ${dLin.toPrecision(3)}; v then −v vs baseline ${dInv.toPrecision(3)}; unsteered again vs baseline ${dBack.toPrecision(3)} (steering moved logits by ${moved.toPrecision(3)}; |v| = typical norm/4)`,
    ),
  );

  // (d) readout: u is read, α·v is added; u's projection must move by α·|v|·cos(v, u).
  stage('Checking the readout');
  const u = randomVector(hidden, 1, 2);
  const w = randomVector(hidden, 1, 3);
  const dirV = u.map((x, i) => 0.6 * x + 0.8 * w[i]);
  const vr = dirV.map((x) => (x / norm(dirV)) * (typical / 4));
  const alpha = 2;
  const steered = await prefill(at0([slot('u', u, 'none', 0), slot('v', vr, 'add', alpha)]));
  allLogits.push(steered);
  const proj = (await m.backend.lastProjections())[0];
  const predictedU = alpha * norm(vr) * cosine(vr, u);
  const predictedV = alpha * norm(vr);
  const errU = Math.abs(proj.post[0] - proj.pre[0] - predictedU) / Math.abs(predictedU);
  const errV = Math.abs(proj.post[1] - proj.pre[1] - predictedV) / Math.abs(predictedV);
  const errRead = Math.max(errU, errV);
  checks.push(
    item(
      'readout',
      Number.isNaN(errRead) ? Infinity : errRead,
      tol.readoutRel,
      'max',
      `on u: moved ${(proj.post[0] - proj.pre[0]).toPrecision(5)}, predicted α·|v|·cos ${predictedU.toPrecision(5)} (cos ${(dot(vr, u) / norm(vr)).toFixed(3)}); on v: moved ${(proj.post[1] - proj.pre[1]).toPrecision(5)}, predicted ${predictedV.toPrecision(5)}; worst relative error`,
    ),
  );

  // (e) finite logits and residuals.
  const badLogits = countNonFinite(allLogits);
  const badResidual = probe.nonFinite.reduce((a, b) => a + (b ?? 0), 0);
  const residualValues = probe.seen.reduce((a, b) => a + (b ?? 0), 0);
  checks.push(
    item(
      'finite',
      badLogits + badResidual,
      0,
      'max',
      `non-finite values: ${badLogits} in ${allLogits.length} logit rows, ${badResidual} of ${residualValues} residual values at the cuts (${cutLayers.join(', ')})`,
    ),
  );
  m.backend.setPlans(zero);

  const failed = checks.filter((c) => !c.passed).map((c) => c.id);
  return {
    model: m.info.model,
    revision: m.files.src.revision,
    dtype: m.info.dtype,
    style: m.info.style,
    cutLayers: [...cutLayers],
    device: m.info.device.webgpu ? m.info.device.adapter || 'WebGPU' : 'wasm',
    ranAt: new Date().toISOString(),
    promptTokens: prompt.length,
    steps: STEPS,
    passed: failed.length === 0,
    failed,
    checks,
    cached: false,
    ms: performance.now() - started,
  };
}
