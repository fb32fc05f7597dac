/**
 * npm run bench [-- --quick] [--dtype fp32|q4|q4f16] [--tokens N] [--reps N] [--prompt N] [--model PATH] [--layer N] [--warmup-tokens N] [--out FILE] [--site DIR]
 *
 * BENCH_GPU_TIMES=1 adds `gpu_times`: GPU ms per kernel label (two timestamps around every
 * dispatch, tests/support/gpu-timestamps.ts) from one extra, unmeasured run per config.
 *
 * --quick: the tiny generated model (meant as the overhead-bound proxy for a small model on a real GPU;
 * on SwiftShader its steps are GPU-bound, see BENCH_GPU_TIMES and the README), 16 new
 * tokens, 3 reps: a few minutes on 2 cores. TRAITLAB_REAL_GPU=1 (bench/gpu.sh) launches Chromium
 * on the machine's GPU instead of SwiftShader and fails if it gets SwiftShader anyway.
 *
 * --site DIR: the bench page prebuilt by bench/pack.ts (DIR = its OUT/site), served as plain files
 * with the models from a static hub emulator, instead of the Vite dev server: what bench/gpu.sh
 * runs on a GPU machine that has no node_modules.
 *
 * `npm run bench` lets npm echo the script line on stdout first; `npm run -s bench` (or --out,
 * which also writes the JSON to FILE) gives the JSON alone.
 * Defaults (q4, 32 prompt tokens, 8 new tokens, 2 reps) are sized for SwiftShader on a 2-core
 * machine: one forward costs ~1-2 s when the machine is idle and ~15 s when other SwiftShader
 * processes share the cores, so larger settings quickly exceed ten minutes.
 *
 * Throughput of the steering engine against its two baselines, in headless Chromium WebGPU
 * (SwiftShader), on a generated model with SmolLM2-135M dimensions:
 *  (a) the uncut model as one ORT session with our decode loop,
 *  (b) the cut model (Engine) with all kernels active and five traits steered,
 *  (c) transformers.js AutoModelForCausalLM.generate on the same files.
 * Prints one JSON object to stdout; progress goes to stderr.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { call, openBenchPage, servePages, type Opened } from './pages';

import { ensureTestModels } from '../src/testmodels/write-hub-folder';
import type { BenchApi, RunResult } from './page/bench-harness';

// stdout carries only the result: route every console.log (ours, Vite's) to stderr.
console.log = (...args: unknown[]) => console.error(...args);
const progress = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

type Which = 'a' | 'b' | 'c';
const WHICH: Which[] = ['a', 'b', 'c'];

interface Args {
  dtype: 'fp32' | 'q4' | 'q4f16';
  tokens: number;
  reps: number;
  prompt: number;
  model: string;
  layer: number | null;
  warmupTokens: number;
  out: string | null;
  /** A prebuilt bench page (bench/pack.ts) served as plain files, instead of the Vite dev server. */
  site: string | null;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {
    dtype: 'q4',
    tokens: 8,
    reps: 2,
    prompt: 32,
    model: '.models/traitlab/bench-smollm2-135m',
    layer: null,
    warmupTokens: 2,
    out: null,
    site: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    const int = (name: string, min: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
      return n;
    };
    switch (flag) {
      case '--dtype': {
        const d = value();
        if (d !== 'fp32' && d !== 'q4' && d !== 'q4f16') throw new Error('--dtype must be fp32, q4 or q4f16');
        out.dtype = d;
        break;
      }
      case '--quick':
        out.model = '.models/traitlab/tiny-llama';
        out.tokens = 16;
        out.reps = 3;
        break;
      case '--tokens':
        out.tokens = int('--tokens', 2);
        break;
      case '--reps':
        out.reps = int('--reps', 1);
        break;
      case '--prompt':
        out.prompt = int('--prompt', 2);
        break;
      case '--warmup-tokens':
        out.warmupTokens = int('--warmup-tokens', 1);
        break;
      case '--out':
        out.out = value();
        break;
      case '--site':
        out.site = value();
        break;
      case '--layer':
        out.layer = int('--layer', 0);
        break;
      case '--model':
        out.model = value();
        break;
      case '--help':
        console.error(
          'npm run bench -- [--quick] [--dtype fp32|q4|q4f16] [--tokens N] [--reps N] [--prompt N] [--model .models/ORG/NAME] [--layer N] [--warmup-tokens N] [--out FILE] [--site DIR]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return out;
}

type Counts = NonNullable<RunResult['perToken']>;

/** Field-wise mean of the reps' counts (null when no rep had any: perToken needs three tokens). */
function meanCounts<C extends { [K in keyof C]: number }>(xs: (C | null)[]): C | null {
  const have = xs.filter((x): x is C => x !== null);
  if (have.length === 0) return null;
  const out = { ...have[0] };
  for (const k of Object.keys(out) as (keyof C)[]) {
    out[k] = (Math.round((have.reduce((s, x) => s + x[k], 0) / have.length) * 100) / 100) as C[keyof C];
  }
  return out;
}

/** Where a decode step's time goes: inside session.run, awaiting maps, and the rest (ours: feeds, kernels, sampling, streaming). */
function breakdown(counts: Counts | null, stepMs: number) {
  if (!counts) return {};
  const rest = stepMs - counts.runMs - counts.mapWaitMs;
  return {
    decode_breakdown_ms: {
      step: round(stepMs, 2),
      session_run: counts.runMs,
      map_wait: counts.mapWaitMs,
      other_waits: counts.otherWaitMs,
      rest: round(rest, 2),
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const loadStart = (await import('node:os')).loadavg();
  const modelsDir = resolve('.models');
  const folder = resolve(args.model);
  const rel = relative(modelsDir, folder);
  if (rel.startsWith('..') || rel.split(sep).length !== 2)
    throw new Error(`--model must be a folder .models/ORG/NAME (served in hub layout), got ${args.model}`);
  const modelId = rel.split(sep).join('/');

  progress(`generating ${modelId} if needed (.models)`);
  const gen = await ensureTestModels('.models', { only: [modelId] });
  if (gen.written.length) progress(`wrote ${gen.written.join(', ')}`);
  if (!existsSync(folder)) throw new Error(`no model folder at ${args.model}`);

  const servers: { close(): Promise<void> }[] = [];
  let opened: Opened | null = null;
  try {
    const { pageUrl, hubUrl } = await servePages(args.site, servers, progress);

    const realGpu = process.env.TRAITLAB_REAL_GPU === '1';
    const gpuTimes = process.env.BENCH_GPU_TIMES === '1';
    opened = await openBenchPage(`${pageUrl}${gpuTimes ? '?gpuTimes' : ''}`, {
      realGpu,
      allowSoftware: process.env.TRAITLAB_ALLOW_SWIFTSHADER === '1',
      progress,
    });
    const { context, page, device } = opened;
    progress(`adapter: ${device.adapter}`);

    const config = (await (await fetch(`${hubUrl}${modelId}/resolve/main/config.json`)).json()) as { num_hidden_layers: number; hidden_size: number };
    const cutLayer = args.layer ?? Math.floor((config.num_hidden_layers - 1) / 2);
    const source = { model: modelId, remoteHost: hubUrl, dtype: args.dtype };

    progress(`loading (b) engine, cut after layer ${cutLayer}, five traits`);
    const loadB = await call(page, 'loadB', { ...source, cutLayer, traits: 5, seed: 7 });
    progress(`(b) loaded in ${(loadB.loadMs / 1000).toFixed(1)} s; typical norm ${JSON.stringify(loadB.typicalNorm)}`);
    progress('loading (a) uncut single session');
    const loadA = await call(page, 'loadA', source);
    progress(`(a) loaded in ${(loadA.loadMs / 1000).toFixed(1)} s`);
    progress('loading (c) transformers.js');
    const loadC = await call(page, 'loadC', source);
    progress(`(c) loaded in ${(loadC.loadMs / 1000).toFixed(1)} s`);

    const prompt = await call(page, 'prompt', args.prompt);
    progress(`prompt: ${prompt.ids.length} tokens; ${args.tokens} new tokens; ${args.reps} reps after one warm-up`);

    const runs: Record<Which, RunResult[]> = { a: [], b: [], c: [] };
    const order: Which[][] = [];
    // Rep 0 is the warm-up (shader compilation, allocator growth); excluded from the medians.
    for (let rep = 0; rep <= args.reps; rep++) {
      // Rotate the order each rep so drift (thermal, GC, allocator) hits all three alike.
      const seq = WHICH.map((_, i) => WHICH[(i + rep) % WHICH.length]);
      order.push(seq);
      for (const w of seq) {
        if (process.env.BENCH_TRACE && rep === args.reps) await call(page, 'trace', true);
        // BENCH_PROFILE=b (or a, c, ab...): a V8 CPU profile of that config's last rep, to bench/.profile-<w>.cpuprofile.
        const profile = rep === args.reps && (process.env.BENCH_PROFILE ?? '').includes(w) ? await context.newCDPSession(page) : null;
        if (profile) {
          await profile.send('Profiler.enable');
          await profile.send('Profiler.setSamplingInterval', { interval: 250 });
          await profile.send('Profiler.start');
        }
        const r = await call(page, 'run', w, prompt, rep === 0 ? args.warmupTokens : args.tokens);
        if (profile) {
          const { profile: data } = await profile.send('Profiler.stop');
          writeFileSync(`bench/.profile-${w}.cpuprofile`, JSON.stringify(data));
          progress(`wrote bench/.profile-${w}.cpuprofile`);
        }
        await call(page, 'trace', false);
        progress(
          `${rep === 0 ? 'warm-up' : `rep ${rep}`} (${w}): prefill ${r.ttftMs.toFixed(0)} ms, ${r.generated} tokens, decode ${(r.decodeSpanMs / Math.max(1, r.generated - 1)).toFixed(0)} ms/token`,
        );
        if (rep > 0) runs[w].push(r);
      }
    }

    // BENCH_GPU_TIMES=1: one more run per config, not measured, with every launch timestamped on the GPU.
    const gpuTimesOut: Partial<Record<Which, Awaited<ReturnType<BenchApi['gpuTimesRun']>>>> = {};
    if (gpuTimes)
      for (const w of WHICH) {
        progress(`(${w}) GPU timestamps run`);
        // A diagnostic: its failure must not cost the measured results above.
        gpuTimesOut[w] = await call(page, 'gpuTimesRun', w, prompt, args.tokens).catch((e: unknown) => {
          progress(`(${w}) GPU timestamps run failed: ${e instanceof Error ? e.message : String(e)}`);
          return null;
        });
        if (!gpuTimesOut[w]) progress('no GPU timestamps for this config (the device lacks timestamp-query inside passes, or the run failed)');
      }

    const summary = (w: Which) => {
      const rs = runs[w];
      const prefill = rs.map((r) => r.promptTokens / (r.ttftMs / 1000));
      const decode = rs.map((r) => (r.generated - 1) / (r.decodeSpanMs / 1000));
      return {
        prefill_tokens_per_s: round(median(prefill)),
        decode_tokens_per_s: round(median(decode)),
        prefill_ms_median: round(median(rs.map((r) => r.ttftMs)), 1),
        decode_ms_per_token_median: round(median(rs.map((r) => r.decodeSpanMs / (r.generated - 1))), 1),
        perToken: meanCounts(rs.map((r) => r.perToken)),
        perPrefill: meanCounts(rs.map((r) => r.prefill)),
        ...breakdown(meanCounts(rs.map((r) => r.perToken)), median(rs.map((r) => r.decodeSpanMs / (r.generated - 1)))),
        ...(rs.some((r) => r.samplingFallbacks !== undefined) ? { sampling_fallbacks: rs.reduce((n, r) => n + (r.samplingFallbacks ?? 0), 0) } : {}),
        per_rep: rs.map((r, i) => ({
          prefill_tokens_per_s: round(prefill[i]),
          decode_tokens_per_s: round(decode[i]),
          prefill_ms: round(r.ttftMs, 1),
          decode_ms: round(r.decodeSpanMs, 1),
          generated: r.generated,
          ...(r.loopPrefillMs !== undefined ? { loop_prefill_ms: round(r.loopPrefillMs, 1), loop_decode_ms: round(r.loopDecodeMs ?? 0, 1) } : {}),
        })),
      };
    };
    const a = summary('a');
    const b = summary('b');
    const c = summary('c');
    const ratio = (x: number, y: number) => round(x / y, 4);
    const ratios = {
      b_over_a: { prefill: ratio(b.prefill_tokens_per_s, a.prefill_tokens_per_s), decode: ratio(b.decode_tokens_per_s, a.decode_tokens_per_s) },
      b_over_c: { prefill: ratio(b.prefill_tokens_per_s, c.prefill_tokens_per_s), decode: ratio(b.decode_tokens_per_s, c.decode_tokens_per_s) },
    };
    // Per rep, (a), (b), (c) ran back to back: their paired ratios show how far load noise moves a ratio.
    const rate = (r: RunResult, phase: 'prefill' | 'decode') =>
      phase === 'prefill' ? r.promptTokens / r.ttftMs : (r.generated - 1) / Math.max(1e-9, r.decodeSpanMs);
    const paired = (x: Which, y: Which) => {
      const of = (phase: 'prefill' | 'decode') => runs[x].map((r, i) => round(rate(r, phase) / rate(runs[y][i], phase), 4));
      const prefill = of('prefill');
      const decode = of('decode');
      return { prefill, decode, prefill_range: [Math.min(...prefill), Math.max(...prefill)], decode_range: [Math.min(...decode), Math.max(...decode)] };
    };
    const ratiosPerRep = { b_over_a: paired('b', 'a'), b_over_c: paired('b', 'c'), a_over_c: paired('a', 'c') };
    // Issue 11's targets (steady-state counts for (b); ratios measured side by side in one run).
    const targets = {
      b_over_a_decode_min: 0.95,
      b_over_a_prefill_min: 0.9,
      b_over_c_decode_min: 1.2,
      b_blocking_reads_max: 1,
      b_buffers_created_max: 0,
      b_greedy_readback_bytes_max: 64,
    };
    const bp = b.perToken;
    const met = {
      b_over_a_decode: ratios.b_over_a.decode >= targets.b_over_a_decode_min,
      b_over_a_prefill: ratios.b_over_a.prefill >= targets.b_over_a_prefill_min,
      b_over_c_decode: ratios.b_over_c.decode >= targets.b_over_c_decode_min,
      b_blocking_reads: bp !== null && bp.blockingReads <= targets.b_blocking_reads_max,
      b_buffers_created: bp !== null && bp.buffersCreated <= targets.b_buffers_created_max,
      b_greedy_readback_bytes: bp !== null && bp.readbackBytes <= targets.b_greedy_readback_bytes_max,
    };
    // Greedy on the same weights: (a) and (c) run the same graph, so their tokens should agree.
    const last = (w: Which) => runs[w][runs[w].length - 1].tokens;
    const agree = (x: number[], y: number[]) => {
      let n = 0;
      while (n < x.length && n < y.length && x[n] === y[n]) n++;
      return n;
    };
    const generated = [...runs.a, ...runs.b, ...runs.c].map((r) => r.generated);

    const result = {
      bench: 'traitlab steering throughput',
      note: realGpu
        ? 'Headless Chromium WebGPU on the machine GPU (Vulkan).'
        : 'Headless Chromium WebGPU on SwiftShader (a CPU implementation of Vulkan): absolute tokens/s say nothing about real GPUs; only the ratios between (a), (b) and (c), measured in the same run, and the per-token counts are meaningful.',
      device: {
        adapter: device.adapter,
        shader_f16: device.shaderF16,
        same_ort_instance_for_all: device.sameOrt,
        browser: opened.browser.version(),
        host_cpus: (await import('node:os')).cpus().length,
      },
      model: { id: modelId, folder: args.model, dtype: args.dtype, num_layers: config.num_hidden_layers, hidden: config.hidden_size },
      prompt_tokens: prompt.ids.length,
      tokens_generated: Math.min(...generated),
      max_new_tokens: args.tokens,
      repetitions: args.reps,
      argv: process.argv.slice(2),
      warmup: { runs_excluded_per_config: 1, tokens: args.warmupTokens },
      order,
      configs: {
        a: {
          name: 'uncut model, one ORT session, our decode loop (greedy; same GPU decode path as (b): static KV cache, GPU inputs, argmax on the GPU)',
          load_ms: round(loadA.loadMs, 0),
          ...a,
        },
        b: {
          name: `cut model (Engine), cut after layer ${cutLayer}, all kernels active (norm readout + steer + readout), five random unit traits, add mode`,
          load_ms: round(loadB.loadMs, 0),
          cut_layers: loadB.cutLayers,
          strengths: loadB.strengths,
          ...b,
        },
        c: {
          name: "transformers.js AutoModelForCausalLM.from_pretrained(..., {device: 'webgpu', dtype}) + generate({do_sample: false})",
          load_ms: round(loadC.loadMs, 0),
          ...c,
        },
      },
      ratios,
      ratios_per_rep: ratiosPerRep,
      ...(gpuTimes
        ? {
            gpu_times: {
              note: 'BENCH_GPU_TIMES=1: one extra run per config (not in the medians), each dispatch between two timestamps inside its pass; ms per program label (ORT: program name; ours: *.bindGroup), prefill = call to first token, perToken = mean over decode steps after the first',
              ...gpuTimesOut,
            },
          }
        : {}),
      targets,
      met,
      all_targets_met: Object.values(met).every(Boolean),
      greedy_agreement: { a_vs_c_prefix: agree(last('a'), last('c')), of: Math.min(last('a').length, last('c').length) },
      method: {
        prefill:
          'prompt_tokens / (time from the generate call to the first generated token). (a) runDecodeLoop on the one-session chain; (b) Engine.generate (includes its per-token projection readback and text streaming); (c) model.generate with a BaseStreamer subclass timestamping each put() after the prompt; input ids passed directly (no tokenization in the timed span).',
        decode: '(generated - 1) / (time from the first to the last generated token): each of those steps is one forward of one token plus sampling.',
        eos: 'EOS disabled in all three (eos: [] / engine eos list emptied / eos_token_id: null) so every run generates max_new_tokens.',
        aggregation:
          'median over repetitions; the order of (a), (b), (c) rotates every repetition; one warm-up repetition of each is excluded. ratios_per_rep: the ratio within each repetition, whose three configs ran back to back (their range shows how far host load moves a ratio).',
        same_prompt: 'the same chat-template token ids for all three',
        perToken:
          'tests/support/gpu-counters.ts wraps GPUDevice.createBuffer, GPUDevice.createBindGroup, GPUQueue.submit, GPUComputePassEncoder.dispatchWorkgroups, GPUBuffer.mapAsync(READ) and InferenceSession.run for every caller on the page (ours, ORT, transformers.js); a snapshot at each generated token; mean over the decode steps after the first (steps 2..n-1), then the mean over repetitions. dispatches = kernel launches (ORT and ours), bindGroups = createBindGroup calls (engineBindGroups: ours), blockingReads = awaited GPU-to-CPU maps, readbackBytes = bytes they cover. runMs/mapWaitMs: wall time inside session.run and awaiting mapAsync(READ) (they may overlap when ORT maps inside a run); decode_breakdown_ms.rest = the median step time less both (per-token means, so the parts need not add up exactly); otherWaits/otherWaitMs: other awaited GPU round trips (mapAsync(WRITE), popErrorScope, onSubmittedWorkDone), which may lie inside session.run.',
      },
      host_load_average: {
        start: loadStart.map((x) => round(x, 2)),
        end: (await import('node:os')).loadavg().map((x) => round(x, 2)),
        note: '1/5/15-minute load averages of this host; other SwiftShader processes on the same cores slow every dispatch',
      },
      elapsed_s: round((performance.now() - started) / 1000, 1),
    };
    const json = JSON.stringify(result, null, 2) + '\n';
    process.stdout.write(json);
    if (args.out) writeFileSync(args.out, json);

    for (const w of WHICH) await call(page, 'release', w).catch(() => undefined);
  } finally {
    await opened?.close().catch(() => undefined);
    for (const s of servers) await s.close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
