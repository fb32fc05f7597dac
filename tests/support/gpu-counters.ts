/**
 * Per-token accounting for the bench: wraps the WebGPU methods every caller goes through
 * (ours, ORT's emscripten bindings, transformers.js) and InferenceSession.run, and counts
 *   sessionRuns     InferenceSession.run calls
 *   submits         GPUQueue.submit calls
 *   dispatches      GPUComputePassEncoder.dispatchWorkgroups calls (every kernel launch, ORT's and ours)
 *   bindGroups      GPUDevice.createBindGroup calls (ORT makes one per dispatch)
 *   engineBindGroups the part of those that are traitlab's (our labels end in ".bindGroup"; ORT labels
 *                   its bind groups with the program name): cached per buffer tuple, so 0 in steady state
 *   blockingReads   GPUBuffer.mapAsync calls for reading (each one a GPU→CPU sync that is awaited)
 *   readbackBytes   bytes those maps cover
 *   buffersCreated  GPUDevice.createBuffer calls
 *   engineBuffers   the part of those with a label (every buffer traitlab creates is labelled;
 *                   ORT's and transformers.js' are not)
 *   runMs           wall time inside InferenceSession.run (call to settled promise)
 *   mapWaitMs       wall time awaiting mapAsync(READ) promises (the GPU finishing queued work)
 *   otherWaits      other GPU round trips anyone awaits: mapAsync(WRITE), popErrorScope,
 *                   onSubmittedWorkDone (otherWaitMs: their wall time)
 *   The rest of a step's time is ours (kernels recorded and submitted, feeds built, sampling,
 *   streaming) plus whatever ran between.
 * Install once, before any model is loaded; snapshot() at each generated token; perToken()
 * averages the steps after the first decode step.
 */

import { wrapMethod } from './wrap-method';

export interface Counts {
  sessionRuns: number;
  submits: number;
  dispatches: number;
  bindGroups: number;
  engineBindGroups: number;
  blockingReads: number;
  readbackBytes: number;
  buffersCreated: number;
  engineBuffers: number;
  runMs: number;
  mapWaitMs: number;
  otherWaits: number;
  otherWaitMs: number;
}

const ZERO: Counts = {
  sessionRuns: 0,
  submits: 0,
  dispatches: 0,
  bindGroups: 0,
  engineBindGroups: 0,
  blockingReads: 0,
  readbackBytes: 0,
  buffersCreated: 0,
  engineBuffers: 0,
  runMs: 0,
  mapWaitMs: 0,
  otherWaits: 0,
  otherWaitMs: 0,
};
const KEYS = Object.keys(ZERO) as (keyof Counts)[];

const live: Counts = { ...ZERO };
let installed = false;
let tracing = false;

/** Diagnostics: log every counted call (label, size, usage) to the console while on. */
export function trace(on: boolean): void {
  tracing = on;
}

function log(what: string): void {
  if (tracing)
    console.info(
      `[bench] trace ${what} ${new Error().stack
        ?.split('\n')
        .slice(3, 5)
        .map((l) => l.trim().slice(0, 90))
        .join(' < ')}`,
    );
}

type TimeKey = 'runMs' | 'mapWaitMs' | 'otherWaitMs';

/** Wrap proto[name]: `before` sees each call and may name the count its promise's wall time (call → settled) is added to. */
function wrap<T extends object, K extends keyof T>(proto: T, name: K, before: (self: T, args: unknown[]) => TimeKey | void): void {
  wrapMethod(proto, String(name), (self, args, call) => {
    const timeInto = before(self, args);
    const t0 = timeInto ? performance.now() : 0;
    const result = call();
    if (timeInto && result instanceof Promise) {
      const add = () => void (live[timeInto] += performance.now() - t0);
      result.then(add, add);
    }
    return result;
  });
}

/** Wrap the methods (idempotent). `sessionProto` = ort.InferenceSession.prototype. */
export function installCounters(sessionProto: object): void {
  if (installed) return;
  installed = true;
  wrap(GPUDevice.prototype, 'createBuffer', (_, args) => {
    live.buffersCreated++;
    const d = args[0] as GPUBufferDescriptor;
    if (d.label) live.engineBuffers++;
    log(`createBuffer "${d.label ?? ''}" size=${d.size} usage=${d.usage}`);
  });
  wrap(GPUQueue.prototype, 'submit', () => void live.submits++);
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => void live.dispatches++);
  wrap(GPUDevice.prototype, 'createBindGroup', (_, args) => {
    live.bindGroups++;
    const label = (args[0] as GPUBindGroupDescriptor).label ?? '';
    if (label.endsWith('.bindGroup')) live.engineBindGroups++;
    log(`createBindGroup "${label}"`);
  });
  wrap(GPUBuffer.prototype, 'mapAsync', (buffer, args) => {
    const mode = args[0] as number;
    if ((mode & GPUMapMode.READ) === 0) {
      live.otherWaits++;
      return 'otherWaitMs';
    }
    const offset = (args[1] as number | undefined) ?? 0;
    const size = (args[2] as number | undefined) ?? buffer.size - offset;
    live.blockingReads++;
    live.readbackBytes += size;
    log(`mapAsync "${buffer.label}" size=${size}`);
    return 'mapWaitMs';
  });
  const otherWait = (what: string) => () => {
    live.otherWaits++;
    log(what);
    return 'otherWaitMs' as const;
  };
  wrap(GPUDevice.prototype, 'popErrorScope', otherWait('popErrorScope'));
  wrap(GPUQueue.prototype, 'onSubmittedWorkDone', otherWait('onSubmittedWorkDone'));
  wrap(sessionProto as { run: () => unknown }, 'run', () => {
    live.sessionRuns++;
    log('session.run');
    return 'runMs';
  });
}

export function snapshot(): Counts {
  return { ...live };
}

export function diff(later: Counts, earlier: Counts): Counts {
  const out = { ...ZERO };
  for (const k of KEYS) out[k] = later[k] - earlier[k];
  return out;
}

/**
 * Mean counts per decode step from snapshots taken as each token came out: step i (i >= 1)
 * is the work between token i-1 and token i; the first decode step (i = 1) is left out
 * (first-use allocations), so steps 2..n-1 count. Null when fewer than three tokens.
 */
export function perToken(snaps: readonly Counts[]): (Counts & { steps: number }) | null {
  if (snaps.length < 3) return null;
  const total = diff(snaps[snaps.length - 1], snaps[1]);
  const steps = snaps.length - 2;
  const out = { ...ZERO, steps };
  for (const k of KEYS) out[k] = Math.round((total[k] / steps) * 100) / 100;
  return out;
}
