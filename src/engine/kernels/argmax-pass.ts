/**
 * ArgmaxPass: records shaders/argmax.wgsl — the index of the largest logit of one row
 * (greedy decoding on the GPU), written as a u32 to `out[outIndex]`. One workgroup; no
 * arithmetic on the logits, so the result is exactly argmaxRef's.
 */
import argmaxWgsl from '../../../shaders/argmax.wgsl?raw';
import { checkStorage, checkU32, UniformCache } from './gpu-buffers';
import { buildKernel, type ComputeKernel } from './pipeline';
import { checkLayout, logitsBytes, sampleValues, type LogitsLayout } from './sample-common';
import { buildWgsl } from './shader-source';

/** The kernel's WGSL for f32 or f16 logits. */
export function argmaxSource(f16: boolean): string {
  return buildWgsl('argmax', argmaxWgsl, sampleValues(f16));
}

export interface ArgmaxEncodeOptions {
  /** Logits row to read (default 0): row r starts at element r * vocab. */
  row?: number;
  /** u32 slot of `out` to write (default 0). */
  outIndex?: number;
}

export class ArgmaxPass {
  private readonly kernel: ComputeKernel;
  private readonly calls: UniformCache; // uniform {vocab, rowOffset, outIndex, 0}

  constructor(
    device: GPUDevice,
    readonly layout: LogitsLayout,
    private readonly label = 'argmax',
  ) {
    checkLayout(layout);
    this.kernel = buildKernel(device, label, argmaxSource(layout.f16), ['read-only-storage', 'uniform', 'storage']);
    this.calls = new UniformCache(device, `${label}.call`);
  }

  /** Record out[outIndex] = argmax of logits row `row`. `logits` needs STORAGE usage. */
  encode(encoder: GPUCommandEncoder, logits: GPUBuffer, out: GPUBuffer, opts: ArgmaxEncodeOptions = {}): void {
    const row = opts.row ?? 0;
    const outIndex = opts.outIndex ?? 0;
    checkU32(row, 'row');
    checkU32(outIndex, 'outIndex');
    checkStorage(logits, logitsBytes(this.layout, row + 1), 'logits');
    checkStorage(out, (outIndex + 1) * 4, 'argmax output');
    const call = this.calls.get([this.layout.vocab, row * this.layout.vocab, outIndex, 0]);
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, this.kernel.bindGroups.get([logits, call, out]));
    pass.dispatchWorkgroups(1, 1, 1);
    pass.end();
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
  }
}
