/**
 * Browser harness for tests/browser/engine/sampling.test.ts: the sampling kernels (argmax.wgsl,
 * topk.wgsl) and GpuSampling on a real WebGPU device, inside a validation error scope. Logits
 * come from tests/support/sampling-cases.ts (made the same way on both sides).
 */
import { ArgmaxPass } from '../../../src/engine/kernels/argmax-pass';
import { readBuffer } from '../../../src/engine/kernels/gpu-buffers';
import { TopkPass, topkOutputWords } from '../../../src/engine/kernels/topk-pass';
import { OptionLogitsPass, optionLogitsWords } from '../../../src/engine/kernels/option-logits-pass';
import { GpuOptionReader } from '../../../src/engine/psychometrics/option-pass';
import { GpuSampling } from '../../../src/engine/runtime/gpu-sampling';
import { Sampler } from '../../../src/engine/runtime/sampler';
import type { SamplingOptions } from '../../../src/shared/sampling';
import { caseLogits, type LogitsCase } from '../../support/sampling-cases';

export interface KernelCase extends LogitsCase {
  row: number;
}
export interface TopkCase extends KernelCase {
  k: number;
  penalty: number;
  seen: number[];
}
export interface OptionCase extends KernelCase {
  ids: number[];
}
export interface SampleCase extends LogitsCase {
  options: SamplingOptions;
  prompt: number[];
  steps: number;
}
export interface Checked<T> {
  value: T | null;
  error: string | null;
}

export interface SamplingApi {
  argmax(c: KernelCase): Promise<Checked<number>>;
  topk(c: TopkCase): Promise<Checked<number[]>>;
  sample(c: SampleCase): Promise<Checked<{ gpu: number[]; cpu: number[]; fallbacks: number }>>;
  /** option-logits.wgsl: the f32 words [m, lse, x[ids]], and what slots past them hold (untouched sentinels). */
  optionLogits(c: OptionCase): Promise<Checked<{ words: number[]; after: number[] }>>;
  /** GpuOptionReader.probabilities on the case's row, twice (the second reuses every buffer), and its readback count. */
  optionReader(c: OptionCase): Promise<Checked<{ probs: number[][]; readbackBytes: number; passes: number }>>;
  adapterInfo: string;
}

declare global {
  interface Window {
    sampling?: SamplingApi;
    harnessReady?: boolean;
    harnessError?: string;
  }
}

function logitsBuffer(device: GPUDevice, c: LogitsCase): GPUBuffer {
  const { values, half } = caseLogits(c);
  const data = half ?? values;
  const buffer = device.createBuffer({
    label: 'test.logits',
    size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  // writeBuffer needs a multiple of 4 bytes.
  const bytes = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  device.queue.writeBuffer(buffer, 0, bytes);
  return buffer;
}

function outBuffer(device: GPUDevice, words: number): GPUBuffer {
  return device.createBuffer({ label: 'test.out', size: Math.max(16, words * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
}

async function checked<T>(device: GPUDevice, work: () => Promise<T>): Promise<Checked<T>> {
  device.pushErrorScope('validation');
  let value: T | null = null;
  let thrown: string | null = null;
  try {
    value = await work();
  } catch (e) {
    thrown = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const err = await device.popErrorScope();
  return { value, error: err ? err.message : thrown };
}

async function main(): Promise<void> {
  if (!navigator.gpu) throw new Error('navigator.gpu missing (WebGPU disabled)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({ label: 'sampling-harness device' });
  device.addEventListener('uncapturederror', (e) => console.error('uncaptured WebGPU error:', (e as GPUUncapturedErrorEvent).error.message));
  const info = adapter.info;
  window.sampling = {
    argmax: (c) =>
      checked(device, async () => {
        const logits = logitsBuffer(device, c);
        const out = outBuffer(device, 4);
        const pass = new ArgmaxPass(device, { vocab: c.vocab, f16: !!c.f16 }, 'test.argmax');
        const enc = device.createCommandEncoder({ label: 'test.argmax' });
        pass.encode(enc, logits, out, { row: c.row, outIndex: 2 });
        device.queue.submit([enc.finish()]);
        const token = new Uint32Array(await readBuffer(device, out, 8, 4))[0];
        pass.destroy();
        logits.destroy();
        out.destroy();
        return token;
      }),
    topk: (c) =>
      checked(device, async () => {
        const logits = logitsBuffer(device, c);
        const words = topkOutputWords(Math.min(c.k, c.vocab));
        const out = outBuffer(device, words);
        const pass = new TopkPass(device, { vocab: c.vocab, f16: !!c.f16 }, 'test.topk');
        // Half the seen set at once, the rest one by one (both update paths).
        const half = Math.floor(c.seen.length / 2);
        pass.setSeen(c.seen.slice(0, half));
        for (const t of c.seen.slice(half)) pass.markSeen(t);
        const enc = device.createCommandEncoder({ label: 'test.topk' });
        pass.encode(enc, logits, out, { k: c.k, penalty: c.penalty, row: c.row });
        device.queue.submit([enc.finish()]);
        const result = Array.from(new Uint32Array(await readBuffer(device, out, 0, words * 4)));
        pass.destroy();
        logits.destroy();
        out.destroy();
        return result;
      }),
    sample: (c) =>
      checked(device, async () => {
        const logits = logitsBuffer(device, { ...c, rows: 1 });
        const row = caseLogits({ ...c, rows: 1 }).values;
        const gpu = new GpuSampling(device, { vocab: c.vocab, f16: !!c.f16 }, null, 'test.sampling');
        const gpuSampler = new Sampler(c.options);
        const cpuSampler = new Sampler(c.options);
        const gpuHistory = [...c.prompt];
        const cpuHistory = [...c.prompt];
        const gpuTokens: number[] = [];
        const cpuTokens: number[] = [];
        for (let s = 0; s < c.steps; s++) {
          const g = await gpu.choose(logits, 0, gpuSampler, gpuHistory);
          const t = cpuSampler.next(row, cpuHistory);
          gpuTokens.push(g);
          cpuTokens.push(t);
          gpuHistory.push(g);
          cpuHistory.push(t);
        }
        const fallbacks = gpu.stats.fallbacks;
        gpu.destroy();
        logits.destroy();
        return { gpu: gpuTokens, cpu: cpuTokens, fallbacks };
      }),
    optionLogits: (c) =>
      checked(device, async () => {
        const logits = logitsBuffer(device, c);
        const words = optionLogitsWords(c.ids.length);
        const out = device.createBuffer({
          label: 'test.option-logits.out',
          size: (words + 4) * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(out, 0, new Float32Array(words + 4).fill(-7.5));
        const pass = new OptionLogitsPass(device, { vocab: c.vocab, f16: !!c.f16 }, 'test.option-logits');
        const enc = device.createCommandEncoder({ label: 'test.option-logits' });
        pass.encode(enc, logits, out, c.ids, { row: c.row });
        device.queue.submit([enc.finish()]);
        const all = Array.from(new Float32Array(await readBuffer(device, out, 0, (words + 4) * 4)));
        pass.destroy();
        logits.destroy();
        out.destroy();
        return { words: all.slice(0, words), after: all.slice(words) };
      }),
    optionReader: (c) =>
      checked(device, async () => {
        const logits = logitsBuffer(device, c);
        const reader = new GpuOptionReader(device, { vocab: c.vocab, f16: !!c.f16 }, 'test.options');
        const probs = [await reader.probabilities(logits, c.row, c.ids), await reader.probabilities(logits, c.row, c.ids)];
        const { readbackBytes, passes } = reader.stats;
        reader.destroy();
        logits.destroy();
        return { probs, readbackBytes, passes };
      }),
    adapterInfo: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
  };
  window.harnessReady = true;
}

main().catch((e: unknown) => {
  window.harnessError = e instanceof Error ? e.message : String(e);
  console.error('sampling harness failed:', window.harnessError);
  window.harnessReady = true;
});
