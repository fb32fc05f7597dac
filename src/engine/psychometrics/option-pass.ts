/**
 * One option pass (issue 9, cost): run a prompt's new tokens and return the probability of each
 * option token under the softmax over the whole vocabulary at the last position.
 *
 * WebGPU: the logits land in a buffer of ours (bound as the session's logits output), the
 * option-logits kernel reduces that row to [m, lse, x_0 .. x_{k-1}] and only those 8 + 4k bytes
 * are read back (one mapAsync); the CPU forms p_k = exp(x_k - lse). Every buffer is made once
 * per scoring request, none per pass. WASM EP: the logits are on the CPU already and
 * labelProbabilities does the softmax (float64).
 */
import { createBuffer } from '../kernels/gpu-buffers';
import { OPTION_K_MAX, OptionLogitsPass, optionLogitsWords } from '../kernels/option-logits-pass';
import { optionProbs } from '../kernels/option-logits-ref';
import { logitsBytes, type LogitsLayout } from '../kernels/sample-common';
import type { LastLogits } from '../runtime/model-forward';
import { ort, type OrtTensor } from '../runtime/ort';
import { labelProbabilities, LabelTokenError } from './score-options';

/** What the option passes of one request read back from the GPU. */
export interface OptionPassStats {
  passes: number;
  readbackBytes: number;
}

export class GpuOptionReader {
  private readonly kernel: OptionLogitsPass;
  private readonly logits: GPUBuffer; // [1, 1, vocab] f32 or f16, the session's logits output
  private readonly out: GPUBuffer; // [2 + OPTION_K_MAX] f32, kernel output
  private readonly staging: GPUBuffer; // MAP_READ copy of `out`
  /** `logits` as the tensor to bind as the session's output (ModelForward.forwardLast `into`). */
  readonly logitsOutput: OrtTensor;
  readonly stats: OptionPassStats = { passes: 0, readbackBytes: 0 };

  constructor(
    private readonly device: GPUDevice,
    readonly layout: LogitsLayout,
    label = 'psych.options',
  ) {
    this.kernel = new OptionLogitsPass(device, layout, `${label}.kernel`);
    const type = layout.f16 ? 'float16' : 'float32';
    this.logits = createBuffer(device, `${label}.logits [1,1,${layout.vocab}] ${type}`, logitsBytes(layout), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const outBytes = optionLogitsWords(OPTION_K_MAX) * 4;
    this.out = createBuffer(device, `${label}.out [${optionLogitsWords(OPTION_K_MAX)}]`, outBytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    this.staging = createBuffer(device, `${label}.staging`, outBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.logitsOutput = ort.Tensor.fromGpuBuffer(this.logits, { dataType: type, dims: [1, 1, layout.vocab] });
  }

  /** p(ids) of row `row` of `logits` (a GPU buffer in this reader's layout): one 8 + 4k byte readback. */
  async probabilities(logits: GPUBuffer, row: number, ids: readonly number[]): Promise<number[]> {
    const bytes = optionLogitsWords(ids.length) * 4;
    const encoder = this.device.createCommandEncoder({ label: 'psych.options.pass' });
    this.kernel.encode(encoder, logits, this.out, ids, { row });
    encoder.copyBufferToBuffer(this.out, 0, this.staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ, 0, bytes);
    try {
      const words = new Float32Array(this.staging.getMappedRange(0, bytes)); // [m, lse, x_0 .. x_{k-1}]
      this.stats.passes++;
      this.stats.readbackBytes += bytes;
      return optionProbs(words);
    } finally {
      this.staging.unmap();
    }
  }

  destroy(): void {
    this.kernel.destroy();
    this.logits.destroy();
    this.out.destroy();
    this.staging.destroy();
  }
}

/** The forward a pass runs through (ModelForward). */
export interface LastLogitsForward {
  forwardLast<T>(tokens: number[], read: (logits: LastLogits) => Promise<T>, into: OrtTensor | null): Promise<T>;
}

/**
 * The option pass over `forward`: GPU logits go through `reader`, CPU logits (WASM EP) through
 * labelProbabilities. `reader` null: the CPU path only. `bindLogits`: the graph outputs the
 * last position only, so the reader's [1, 1, vocab] buffer can be bound as its logits output
 * (else the kernel reads the last row of ORT's own output).
 */
export function optionPass(
  forward: LastLogitsForward,
  reader: GpuOptionReader | null,
  bindLogits = true,
): (tokens: number[], ids: readonly number[]) => Promise<number[]> {
  return (tokens, ids) => {
    if (ids.length > OPTION_K_MAX) throw new LabelTokenError(`${ids.length} options are more than the ${OPTION_K_MAX} one item may have`);
    return forward.forwardLast(
      tokens,
      async (logits) => {
        if ('cpu' in logits) return labelProbabilities(logits.cpu, ids);
        if (!reader) throw new Error('internal: GPU logits without an option reader');
        if (logits.layout.vocab !== reader.layout.vocab || logits.layout.f16 !== reader.layout.f16) {
          throw new Error(
            `internal: logits of ${logits.layout.vocab} ${logits.layout.f16 ? 'f16' : 'f32'} values, the option reader expects ${reader.layout.vocab}`,
          );
        }
        for (const id of ids) {
          if (!Number.isInteger(id) || id < 0 || id >= logits.layout.vocab)
            throw new LabelTokenError(`label token ${id} is outside the vocabulary (${logits.layout.vocab})`);
        }
        return reader.probabilities(logits.gpu, logits.row, ids);
      },
      bindLogits ? (reader?.logitsOutput ?? null) : null,
    );
  };
}
