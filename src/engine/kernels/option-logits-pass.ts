/**
 * OptionLogitsPass: records shaders/option-logits.wgsl — for one logits row, the row max, the
 * log-sum-exp over the whole vocabulary and the logits of up to OPTION_K_MAX option tokens,
 * written as f32 [m, lse, x_0 .. x_{k-1}] to `out`. One workgroup; the option pass of the
 * psychometrics (issue 9) reads back those 8 + 4k bytes instead of the vocabulary row.
 */
import optionLogitsWgsl from '../../../shaders/option-logits.wgsl?raw';
import { checkStorage, checkU32, UniformCache } from './gpu-buffers';
import { buildKernel, type ComputeKernel } from './pipeline';
import { checkLayout, logitsBytes, sampleValues, type LogitsLayout } from './sample-common';
import { buildWgsl, REDUCE_WGSL } from './shader-source';

/** Most options one call reads (a multiple of 4: the uniform holds the ids as vec4s). */
export const OPTION_K_MAX = 16;

/** f32 words the kernel writes for k options: m, lse, then one logit per option. */
export function optionLogitsWords(k: number): number {
  return 2 + k;
}

/** The kernel's WGSL for f32 or f16 logits. */
export function optionLogitsSource(f16: boolean): string {
  return buildWgsl('option-logits', optionLogitsWgsl, { ...sampleValues(f16), K_OPT: OPTION_K_MAX, REDUCE: REDUCE_WGSL });
}

export interface OptionLogitsEncodeOptions {
  /** Logits row to read (default 0): row r starts at element r * vocab. */
  row?: number;
}

export class OptionLogitsPass {
  private readonly kernel: ComputeKernel;
  private readonly calls: UniformCache; // uniform {vocab, rowOffset, k, 0, ids[OPTION_K_MAX]}

  constructor(
    device: GPUDevice,
    readonly layout: LogitsLayout,
    private readonly label = 'option-logits',
  ) {
    checkLayout(layout);
    this.kernel = buildKernel(device, label, optionLogitsSource(layout.f16), ['read-only-storage', 'uniform', 'storage']);
    this.calls = new UniformCache(device, `${label}.call`);
  }

  /**
   * Record out[0..2+ids.length) = [m, lse, logits[ids]] of logits row `row`. `logits` needs
   * STORAGE usage; `ids` are 1..OPTION_K_MAX token ids below vocab.
   */
  encode(encoder: GPUCommandEncoder, logits: GPUBuffer, out: GPUBuffer, ids: readonly number[], opts: OptionLogitsEncodeOptions = {}): void {
    const row = opts.row ?? 0;
    checkU32(row, 'row');
    if (ids.length < 1 || ids.length > OPTION_K_MAX) throw new RangeError(`option-logits reads 1 to ${OPTION_K_MAX} options, got ${ids.length}`);
    for (const id of ids) {
      checkU32(id, 'option token id');
      if (id >= this.layout.vocab) throw new RangeError(`option token ${id} is outside the vocabulary (${this.layout.vocab})`);
    }
    checkStorage(logits, logitsBytes(this.layout, row + 1), 'logits');
    checkStorage(out, optionLogitsWords(ids.length) * 4, 'option-logits output');
    const words = [this.layout.vocab, row * this.layout.vocab, ids.length, 0, ...ids];
    while (words.length < 4 + OPTION_K_MAX) words.push(0);
    const pass = encoder.beginComputePass({ label: `${this.label}.pass` });
    pass.setPipeline(this.kernel.pipeline);
    pass.setBindGroup(0, this.kernel.bindGroups.get([logits, this.calls.get(words), out]));
    pass.dispatchWorkgroups(1, 1, 1);
    pass.end();
  }

  /** Free GPU buffers. Only after submitted work no longer needs them. */
  destroy(): void {
    this.calls.destroy();
  }
}
