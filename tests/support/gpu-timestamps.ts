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

const QUERIES_PER_SET = 4096; // WebGPU's maximum query set size
const SETS = 8; // 16,384 dispatches per profiled run

interface Slot {
  set: number;
  index: number; // first of the two queries
  label: string;
}

interface State {
  device: GPUDevice;
  sets: GPUQuerySet[];
  resolve: GPUBuffer[]; // [QUERIES_PER_SET] u64 each
  slots: Slot[];
  marks: number[]; // slots.length at each mark()
  used: Map<GPUCommandEncoder, Set<number>>; // encoder → sets it wrote to
  overflow: boolean;
}

const FEATURES: GPUFeatureName[] = ['timestamp-query', 'chromium-experimental-timestamp-query-inside-passes' as GPUFeatureName];
let state: State | null = null;
let active = false;
let available = false;
const passEncoder = new WeakMap<GPUComputePassEncoder, GPUCommandEncoder>();
const passLabel = new WeakMap<GPUComputePassEncoder, string>();

type WriteTs = { writeTimestamp(q: GPUQuerySet, i: number): void };

function method<T extends object>(proto: T, name: string, around: (self: T, args: unknown[], call: () => unknown) => unknown): void {
  const original = (proto as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function (this: T, ...args: unknown[]) {
      return around(this, args, () => original.apply(this, args));
    },
  });
}

function setup(device: GPUDevice): State {
  const sets = Array.from({ length: SETS }, (_, i) =>
    device.createQuerySet({ label: `bench.gpuTimes.querySet${i}`, type: 'timestamp', count: QUERIES_PER_SET }),
  );
  const resolve = sets.map((_, i) =>
    device.createBuffer({ label: `bench.gpuTimes.resolve${i}`, size: QUERIES_PER_SET * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
  );
  return { device, sets, resolve, slots: [], marks: [], used: new Map(), overflow: false };
}

/** Wrap the WebGPU methods (idempotent, once per page, before any device exists). */
export function install(): void {
  if ((globalThis as Record<string, unknown>).__gpuTimesInstalled) return;
  (globalThis as Record<string, unknown>).__gpuTimesInstalled = true;
  method(GPUAdapter.prototype, 'requestDevice', (adapter, args, call) => {
    const desc = { ...((args[0] as GPUDeviceDescriptor | undefined) ?? {}) };
    const have = FEATURES.filter((f) => adapter.features.has(f));
    if (have.length === FEATURES.length) {
      desc.requiredFeatures = [...new Set([...(desc.requiredFeatures ?? []), ...have])];
      available = true;
    }
    args[0] = desc;
    const p = call() as Promise<GPUDevice>;
    return p.then((d) => {
      if (available && !state) state = setup(d);
      return d;
    });
  });
  method(GPUCommandEncoder.prototype, 'beginComputePass', (enc, _args, call) => {
    const pass = call() as GPUComputePassEncoder;
    passEncoder.set(pass, enc);
    return pass;
  });
  method(GPUComputePassEncoder.prototype, 'setBindGroup', (pass, args, call) => {
    if (args[0] === 0) passLabel.set(pass, (args[1] as GPUBindGroup | null)?.label ?? '');
    return call();
  });
  const dispatch = (pass: GPUComputePassEncoder, _args: unknown[], call: () => unknown) => {
    const s = state;
    const enc = passEncoder.get(pass);
    if (!active || !s || !enc) return call();
    const n = s.slots.length;
    const set = Math.floor((n * 2) / QUERIES_PER_SET);
    if (set >= SETS) {
      s.overflow = true;
      return call();
    }
    const index = (n * 2) % QUERIES_PER_SET;
    (pass as unknown as WriteTs).writeTimestamp(s.sets[set], index);
    const r = call();
    (pass as unknown as WriteTs).writeTimestamp(s.sets[set], index + 1);
    s.slots.push({ set, index, label: passLabel.get(pass) || '(unlabelled)' });
    let used = s.used.get(enc);
    if (!used) s.used.set(enc, (used = new Set()));
    used.add(set);
    return r;
  };
  method(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', dispatch);
  method(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', dispatch);
  method(GPUCommandEncoder.prototype, 'finish', (enc, _args, call) => {
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
  return available && state !== null;
}

/** Start recording (clears what a previous run recorded). */
export function start(): void {
  if (!state) throw new Error('GPU timestamps unavailable: the device lacks timestamp-query inside passes, or install() ran too late');
  state.slots = [];
  state.marks = [];
  state.overflow = false;
  active = true;
}

/** Mark a step boundary (call at each generated token). */
export function mark(): void {
  if (active && state) state.marks.push(state.slots.length);
}

export interface GpuTimes {
  /** GPU ms per label, call → first token */
  prefill: Record<string, number>;
  prefillMs: number;
  prefillDispatches: number;
  /** mean GPU ms per label per decode step, the first decode step left out (as perToken) */
  perToken: Record<string, number>;
  perTokenMs: number;
  perTokenDispatches: number;
  /** mean GPU idle ms per decode step between one launch's end and the next one's start, by "previous → next" label */
  perTokenGaps: Record<string, number>;
  perTokenGapMs: number;
  overflow: boolean;
}

/** Stop recording, read the timestamps back and sum them per label. */
export async function report(top = 20): Promise<GpuTimes> {
  const s = state;
  active = false;
  if (!s) throw new Error('GPU timestamps unavailable');
  const sets = Math.min(SETS, Math.ceil((s.slots.length * 2) / QUERIES_PER_SET));
  const ns: BigUint64Array[] = [];
  for (let i = 0; i < sets; i++) {
    const read = s.device.createBuffer({ label: 'bench.gpuTimes.read', size: QUERIES_PER_SET * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = s.device.createCommandEncoder({ label: 'bench.gpuTimes.copy' });
    enc.copyBufferToBuffer(s.resolve[i], 0, read, 0, QUERIES_PER_SET * 8);
    s.device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    ns.push(new BigUint64Array(read.getMappedRange().slice(0)));
    read.destroy();
  }
  const ms = (slot: Slot) => {
    const q = ns[slot.set];
    const d = Number(q[slot.index + 1] - q[slot.index]) / 1e6;
    return d >= 0 && d < 1e5 ? d : 0;
  };
  const sum = (from: number, to: number, steps: number) => {
    const by: Record<string, number> = {};
    let total = 0;
    for (let i = from; i < to; i++) {
      const slot = s.slots[i];
      const t = ms(slot) / steps;
      // ORT's labels carry a cache key after the program name ("Name|key"); group by name.
      const name = slot.label.split('|')[0];
      by[name] = (by[name] ?? 0) + t;
      total += t;
    }
    const sorted = Object.entries(by)
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, v]) => [k, Math.round(v * 1000) / 1000] as const);
    return { by: Object.fromEntries(sorted), total: Math.round(total * 1000) / 1000, dispatches: Math.round(((to - from) / steps) * 100) / 100 };
  };
  const gaps = (from: number, to: number, steps: number) => {
    const by: Record<string, number> = {};
    let total = 0;
    for (let i = Math.max(1, from); i < to; i++) {
      const a = s.slots[i - 1];
      const b = s.slots[i];
      const d = Number(ns[b.set][b.index] - ns[a.set][a.index + 1]) / 1e6 / steps;
      if (!(d > 0 && d < 1e5)) continue;
      const key = `${a.label.split('|')[0]} → ${b.label.split('|')[0]}`;
      by[key] = (by[key] ?? 0) + d;
      total += d;
    }
    const sorted = Object.entries(by)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([k, v]) => [k, Math.round(v * 1000) / 1000] as const);
    return { by: Object.fromEntries(sorted), total: Math.round(total * 1000) / 1000 };
  };
  const m = s.marks;
  const pre = sum(0, m.length > 0 ? m[0] : s.slots.length, 1);
  const steps = m.length - 2;
  const dec = steps >= 1 ? sum(m[1], m[m.length - 1], steps) : { by: {}, total: 0, dispatches: 0 };
  const idle = steps >= 1 ? gaps(m[1], m[m.length - 1], steps) : { by: {}, total: 0 };
  return {
    prefill: pre.by,
    prefillMs: pre.total,
    prefillDispatches: pre.dispatches,
    perToken: dec.by,
    perTokenMs: dec.total,
    perTokenDispatches: dec.dispatches,
    perTokenGaps: idle.by,
    perTokenGapMs: idle.total,
    overflow: s.overflow,
  };
}
