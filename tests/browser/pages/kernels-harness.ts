/**
 * Browser harness for tests/browser/engine/kernels/{steer,readout,norm}.test.ts: runs the WGSL kernel passes on a real
 * WebGPU device (SwiftShader in CI) and returns plain JSON. Float arrays travel as base64 of
 * their little-endian f32 bytes so comparisons can be bit-exact (JSON would lose -0, NaN).
 */
import { NormPass, readBuffer, ReadoutPass, SteerPass, type SteerParam } from '../../../src/engine/kernels';

export type Op =
  | {
      kind: 'steer';
      vectors: string[];
      params: SteerParam[];
      tokens: number;
      tokenOffset?: number;
      /** Re-encode the SteerPass of an earlier op (index) instead of a new one; vectors/params ignored. */
      samePassAs?: number;
    }
  | { kind: 'readout'; vectors: string[]; tokens: number; tokenOffset?: number; outOffsetRows: number; outStride?: number }
  | { kind: 'norm'; tokens: number; tokenOffset?: number; outOffset: number };

export interface CaseSpec {
  hidden: number;
  /** Rows in the residual buffer (>= every op's tokenOffset + tokens). */
  rows: number;
  /** Residual `// [rows, hidden]` f32, base64. */
  h: string;
  /** Extra bytes after the residual (like onnxruntime-web's rounded-up sizes); filled with a sentinel. */
  padBytes?: number;
  /** Readout output rows (buffer `// [outRows, outStride]`) and norm output length. */
  outRows?: number;
  /** Readout output row stride (default: the first readout op's K). */
  outStride?: number;
  /** Submit after every op instead of one command buffer for all. */
  submitEach?: boolean;
  /** Max workgroups per dispatch dimension (forces 2D grids when small). */
  maxWorkgroupsPerDimension?: number;
  ops: Op[];
}

export interface CaseResult {
  /** Final residual `// [rows, hidden]` + pad, base64 f32. */
  h: string;
  /** Readout buffer `// [outRows, outStride]`, base64 f32 (null if no readout op). */
  readout: string | null;
  /** Norm buffer `// [outRows]`, base64 f32 (null if no norm op). */
  norms: string | null;
  /** Validation error message from the error scope around the GPU work, or null. */
  error: string | null;
  /** Exception message thrown by the TS side, or null. */
  exception: string | null;
}

export interface KernelsApi {
  run(spec: CaseSpec): Promise<CaseResult>;
  runSteer(spec: CaseSpec): Promise<CaseResult>;
  runReadout(spec: CaseSpec): Promise<CaseResult>;
  runNorm(spec: CaseSpec): Promise<CaseResult>;
  adapterInfo: string;
}

declare global {
  interface Window {
    kernels?: KernelsApi;
    harnessReady?: boolean;
    harnessError?: string;
  }
}

export const SENTINEL = 12345.5;

function fromB64(s: string): Float32Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function toB64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

async function run(device: GPUDevice, spec: CaseSpec): Promise<CaseResult> {
  const { hidden, rows } = spec;
  const h = fromB64(spec.h);
  if (h.length !== rows * hidden) throw new Error(`h has ${h.length} floats, expected ${rows * hidden}`);
  const pad = spec.padBytes ?? 0;
  const outRows = spec.outRows ?? rows;
  const firstReadout = spec.ops.find((o) => o.kind === 'readout');
  const outStride = spec.outStride ?? (firstReadout && firstReadout.kind === 'readout' ? firstReadout.vectors.length : 0);
  const opts = { hidden, maxWorkgroupsPerDimension: spec.maxWorkgroupsPerDimension };
  const created: GPUBuffer[] = [];
  const owned: { destroy(): void }[] = [];
  let exception: string | null = null;
  let result: Omit<CaseResult, 'error' | 'exception'> = { h: '', readout: null, norms: null };

  device.pushErrorScope('validation');
  try {
    // Residual like onnxruntime-web's: STORAGE|COPY_SRC|COPY_DST, size possibly rounded up.
    const init = new Float32Array(rows * hidden + pad / 4).fill(SENTINEL);
    init.set(h);
    const residual = device.createBuffer({
      label: `test.residual [${rows},${hidden}]+${pad}B`,
      size: init.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    created.push(residual);
    device.queue.writeBuffer(residual, 0, init);
    const readoutOut = device.createBuffer({
      label: `test.readout [${outRows},${outStride}]`,
      size: Math.max(16, outRows * outStride * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const normOut = device.createBuffer({
      label: `test.norms [${outRows}]`,
      size: Math.max(16, outRows * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    created.push(readoutOut, normOut);
    device.queue.writeBuffer(readoutOut, 0, new Float32Array(readoutOut.size / 4).fill(SENTINEL));
    device.queue.writeBuffer(normOut, 0, new Float32Array(normOut.size / 4).fill(SENTINEL));

    let encoder = device.createCommandEncoder({ label: 'test.encoder' });
    const steerPasses = new Map<number, SteerPass>();
    spec.ops.forEach((op, i) => {
      if (op.kind === 'steer') {
        let pass = op.samePassAs === undefined ? undefined : steerPasses.get(op.samePassAs);
        if (!pass) {
          pass = new SteerPass(device, { ...opts, label: `test.steer${i}` });
          owned.push(pass);
          pass.setDirections(op.vectors.map(fromB64));
          pass.setParams(op.params);
        }
        steerPasses.set(i, pass);
        pass.encode(encoder, residual, op.tokens, op.tokenOffset ?? 0);
      } else if (op.kind === 'readout') {
        const pass = new ReadoutPass(device, { ...opts, label: `test.readout${i}` });
        owned.push(pass);
        pass.setDirections(op.vectors.map(fromB64));
        pass.encode(encoder, residual, op.tokens, readoutOut, op.outOffsetRows, {
          tokenOffset: op.tokenOffset ?? 0,
          outStride: op.outStride ?? outStride,
        });
      } else {
        const pass = new NormPass(device, { ...opts, label: `test.norm${i}` });
        owned.push(pass);
        pass.encode(encoder, residual, op.tokens, normOut, op.outOffset, op.tokenOffset ?? 0);
      }
      if (spec.submitEach) {
        device.queue.submit([encoder.finish()]);
        encoder = device.createCommandEncoder({ label: `test.encoder${i + 1}` });
      }
    });
    device.queue.submit([encoder.finish()]);

    result = {
      h: toB64(await readBuffer(device, residual)),
      readout: firstReadout ? toB64(await readBuffer(device, readoutOut)) : null,
      norms: spec.ops.some((o) => o.kind === 'norm') ? toB64(await readBuffer(device, normOut)) : null,
    };
  } catch (e) {
    exception = e instanceof Error ? e.message : String(e);
  }
  const err = await device.popErrorScope();
  for (const p of owned) p.destroy();
  for (const b of created) b.destroy();
  return { ...result, error: err ? err.message : null, exception };
}

async function main(): Promise<void> {
  if (!navigator.gpu) throw new Error('navigator.gpu missing (WebGPU disabled)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({
    label: 'kernels-harness device',
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  device.addEventListener('uncapturederror', (e) => console.error('uncaptured WebGPU error:', (e as GPUUncapturedErrorEvent).error.message));
  const info = adapter.info;
  // All entry points take the same op-list spec (a readout case usually steers in between).
  window.kernels = {
    run: (spec) => run(device, spec),
    runSteer: (spec) => run(device, spec),
    runReadout: (spec) => run(device, spec),
    runNorm: (spec) => run(device, spec),
    adapterInfo: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
  };
  window.harnessReady = true;
}

main().catch((e: unknown) => {
  window.harnessError = e instanceof Error ? e.message : String(e);
  console.error('kernels harness failed:', window.harnessError);
  window.harnessReady = true; // let the test fail fast with harnessError instead of timing out
});
