/**
 * GPU time per kernel launch, for the bench (`BENCH_GPU_TIMES=1`): every compute dispatch of the
 * page (ORT's, transformers.js', ours) is bracketed by two `writeTimestamp` calls inside its pass
 * and named by the label of the bind group set at index 0 (ORT labels its bind groups with the
 * program name; ours end in ".bindGroup"). Each command encoder resolves the queries it wrote
 * when it is finished; report() copies them back once, after the profiled run.
 *
 * Needs `timestamp-query` and `chromium-experimental-timestamp-query-inside-passes` on the device:
 * install() wraps GPUAdapter.requestDevice to ask for them, so it must run before ORT creates its
 * device. The extra sync and the timestamp writes change what the run costs, so a profiled run
 * is never one of the measured reps.
 */

import { wrapMethod } from './wrap-method';

const QUERIES_PER_SET = 4096; // WebGPU's maximum query set size
const SETS = 8; // 16,384 dispatches per profiled run
const MAX_LAUNCHES = (SETS * QUERIES_PER_SET) / 2;

/** Launch i writes queries 2i (before) and 2i + 1 (after): set floor(2i / QUERIES_PER_SET). */
interface State {
  device: GPUDevice;
  sets: GPUQuerySet[];
  resolve: GPUBuffer[]; // [QUERIES_PER_SET] u64 each
  labels: string[]; // [launches] program name of each launch
  marks: number[]; // labels.length at each mark()
  used: WeakMap<GPUCommandEncoder, Set<number>>; // encoder → sets it wrote to
  overflow: boolean;
}

const FEATURES: GPUFeatureName[] = ['timestamp-query', 'chromium-experimental-timestamp-query-inside-passes' as GPUFeatureName];
/** Non-null once ORT's device was made with both features. */
let state: State | null = null;
let active = false;
const passEncoder = new WeakMap<GPUComputePassEncoder, GPUCommandEncoder>();
const passLabel = new WeakMap<GPUComputePassEncoder, string>();

type WriteTs = { writeTimestamp(q: GPUQuerySet, i: number): void };

function setup(device: GPUDevice): State {
  const sets = Array.from({ length: SETS }, (_, i) =>
    device.createQuerySet({ label: `bench.gpuTimes.querySet${i}`, type: 'timestamp', count: QUERIES_PER_SET }),
  );
  const resolve = sets.map((_, i) =>
    device.createBuffer({ label: `bench.gpuTimes.resolve${i}`, size: QUERIES_PER_SET * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
  );
  return { device, sets, resolve, labels: [], marks: [], used: new WeakMap(), overflow: false };
}

/** ORT's bind group labels carry a cache key after the program name ("Name|key"). */
const programName = (label: string) => label.split('|')[0] || '(unlabelled)';

/** Wrap the WebGPU methods (idempotent, once per page, before any device exists). */
export function install(): void {
  if ((globalThis as Record<string, unknown>).__gpuTimesInstalled) return;
  (globalThis as Record<string, unknown>).__gpuTimesInstalled = true;
  wrapMethod(GPUAdapter.prototype, 'requestDevice', (adapter, args, call) => {
    const granted = FEATURES.every((f) => adapter.features.has(f));
    if (granted) {
      const desc = (args[0] as GPUDeviceDescriptor | undefined) ?? {};
      args[0] = { ...desc, requiredFeatures: [...new Set([...(desc.requiredFeatures ?? []), ...FEATURES])] };
    }
    return (call() as Promise<GPUDevice>).then((d) => {
      if (granted && !state) state = setup(d);
      return d;
    });
  });
  wrapMethod(GPUCommandEncoder.prototype, 'beginComputePass', (enc, _args, call) => {
    const pass = call() as GPUComputePassEncoder;
    passEncoder.set(pass, enc);
    return pass;
  });
  wrapMethod(GPUComputePassEncoder.prototype, 'setBindGroup', (pass, args, call) => {
    if (args[0] === 0) passLabel.set(pass, (args[1] as GPUBindGroup | null)?.label ?? '');
    return call();
  });
  const dispatch = (pass: GPUComputePassEncoder, _args: unknown[], call: () => unknown) => {
    const s = state;
    const enc = passEncoder.get(pass);
    if (!active || !s || !enc) return call();
    const q = 2 * s.labels.length;
    if (q >= 2 * MAX_LAUNCHES) {
      s.overflow = true;
      return call();
    }
    const set = Math.floor(q / QUERIES_PER_SET);
    (pass as unknown as WriteTs).writeTimestamp(s.sets[set], q % QUERIES_PER_SET);
    const r = call();
    (pass as unknown as WriteTs).writeTimestamp(s.sets[set], (q % QUERIES_PER_SET) + 1);
    s.labels.push(programName(passLabel.get(pass) ?? ''));
    let used = s.used.get(enc);
    if (!used) s.used.set(enc, (used = new Set()));
    used.add(set);
    return r;
  };
  wrapMethod(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', dispatch);
  wrapMethod(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', dispatch);
  wrapMethod(GPUCommandEncoder.prototype, 'finish', (enc, _args, call) => {
    const s = state;
    const used = s?.used.get(enc);
    if (s && used) {
      // Resolving a whole set again is harmless: unwritten queries of a set resolve to 0.
      for (const set of used) enc.resolveQuerySet(s.sets[set], 0, QUERIES_PER_SET, s.resolve[set], 0);
      s.used.delete(enc);
    }
    return call();
  });
}

/** True when the device got the timestamp features (install() ran before it was made). */
export function supported(): boolean {
  return state !== null;
}

/** Start recording (clears what a previous run recorded). */
export function start(): void {
  if (!state) throw new Error('GPU timestamps unavailable: the device lacks timestamp-query inside passes, or install() ran too late');
  state.labels = [];
  state.marks = [];
  state.overflow = false;
  active = true;
}

/** Mark a step boundary (call at each generated token). */
export function mark(): void {
  if (active && state) state.marks.push(state.labels.length);
}

export interface GpuTimes {
  /** GPU ms per program, call → first token */
  prefill: Record<string, number>;
  prefillMs: number;
  prefillDispatches: number;
  /** mean GPU ms per program per decode step, the first decode step left out (as perToken) */
  perToken: Record<string, number>;
  perTokenMs: number;
  perTokenDispatches: number;
  /** mean GPU idle ms per decode step between one launch's end and the next one's start, by "previous → next" program */
  perTokenGaps: Record<string, number>;
  perTokenGapMs: number;
  overflow: boolean;
}

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

/** Sum `ms(i)` over launches [from, to) by `key(i)`, per step: the `top` largest and the total. */
function tally(from: number, to: number, steps: number, top: number, key: (i: number) => string, ms: (i: number) => number) {
  const by: Record<string, number> = {};
  let total = 0;
  for (let i = from; i < to; i++) {
    const d = ms(i);
    if (!(d >= 0 && d < 1e5)) continue; // a query the GPU did not write (or a wrapped clock)
    by[key(i)] = (by[key(i)] ?? 0) + d / steps;
    total += d / steps;
  }
  const sorted = Object.entries(by)
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([k, v]) => [k, round(v, 3)] as const);
  return { by: Object.fromEntries(sorted), total: round(total, 3), dispatches: round((to - from) / steps, 2) };
}

/** Stop recording, read the timestamps back and sum them per program. */
export async function report(top = 20): Promise<GpuTimes> {
  const s = state;
  active = false;
  if (!s) throw new Error('GPU timestamps unavailable');
  const n = Math.min(s.labels.length, MAX_LAUNCHES);
  const sets = Math.ceil((2 * n) / QUERIES_PER_SET);
  const ns = new BigUint64Array(sets * QUERIES_PER_SET); // [2 * launches] before/after of each launch
  for (let i = 0; i < sets; i++) {
    const read = s.device.createBuffer({ label: 'bench.gpuTimes.read', size: QUERIES_PER_SET * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = s.device.createCommandEncoder({ label: 'bench.gpuTimes.copy' });
    enc.copyBufferToBuffer(s.resolve[i], 0, read, 0, QUERIES_PER_SET * 8);
    s.device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    ns.set(new BigUint64Array(read.getMappedRange()), i * QUERIES_PER_SET);
    read.destroy();
  }
  const between = (a: number, b: number) => Number(ns[b] - ns[a]) / 1e6; // ms from query a to query b
  const launch = (i: number) => between(2 * i, 2 * i + 1);
  const idle = (i: number) => between(2 * i - 1, 2 * i); // previous launch's end → this one's start
  const m = s.marks;
  const pre = tally(0, m.length > 0 ? Math.min(m[0], n) : n, 1, top, (i) => s.labels[i], launch);
  const steps = m.length - 2;
  const [from, to] = steps >= 1 ? [m[1], Math.min(m[m.length - 1], n)] : [0, 0];
  const dec = tally(from, to, Math.max(1, steps), top, (i) => s.labels[i], launch);
  const gaps = tally(Math.max(1, from), to, Math.max(1, steps), 8, (i) => `${s.labels[i - 1]} → ${s.labels[i]}`, idle);
  return {
    prefill: pre.by,
    prefillMs: pre.total,
    prefillDispatches: pre.dispatches,
    perToken: dec.by,
    perTokenMs: dec.total,
    perTokenDispatches: dec.dispatches,
    perTokenGaps: gaps.by,
    perTokenGapMs: gaps.total,
    overflow: s.overflow,
  };
}
