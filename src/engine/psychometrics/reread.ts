/**
 * The unsteered re-read of a reply: one prefill of [conversation, reply] through the cut model
 * with an interventor that only reads — every residual row's projection onto each trait's unit
 * direction at that trait's readout layer — and never steers. So the measure sees what the reply
 * says, not what the slider does.
 *
 * GPU: the readout kernel (shaders/readout.wgsl) over all rows of each pass into a [tokens, K]
 * buffer per cut, read back once after the prefill. WASM EP: its CPU reference.
 */
import { createBuffer, readBuffer, ReadoutPass, readoutRef } from '../kernels';
import type { Interventor } from '../runtime/chain';
import type { OrtTensor } from '../runtime/ort';

/** Directions to read at one cut, with the trait each belongs to. */
export interface CutReadout {
  traitIds: string[];
  vectors: Float32Array[]; // K x [hidden], raw
}

export class ReadAllInterventor implements Interventor {
  private readonly passes: (ReadoutPass | null)[];
  /** Per cut, per pass (prefill chunk): GPU buffer [tokens, K] or CPU projections. */
  private readonly chunks: { gpu?: GPUBuffer; cpu?: Float32Array; tokens: number }[][];

  constructor(
    private readonly device: GPUDevice | null,
    private readonly hidden: number,
    private readonly cuts: CutReadout[],
  ) {
    this.passes = cuts.map((c, i) => {
      if (!device || c.vectors.length === 0) return null;
      const pass = new ReadoutPass(device, { hidden, label: `reread.cut${i}.readout` });
      pass.setDirections(c.vectors);
      return pass;
    });
    this.chunks = cuts.map(() => []);
  }

  apply(cut: number, residual: OrtTensor, tokens: number): OrtTensor {
    const readout = this.cuts[cut];
    if (!readout || readout.vectors.length === 0) return residual;
    const K = readout.vectors.length;
    const pass = this.passes[cut];
    if (pass && this.device) {
      const out = createBuffer(this.device, `reread.cut${cut}.projections [${tokens},${K}]`, tokens * K * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      const encoder = this.device.createCommandEncoder({ label: `reread.cut${cut}` });
      pass.encode(encoder, residual.gpuBuffer as GPUBuffer, tokens, out, 0, { outStride: K }); // residual [1, tokens, hidden]
      this.device.queue.submit([encoder.finish()]);
      this.chunks[cut].push({ gpu: out, tokens });
    } else {
      this.chunks[cut].push({ cpu: readoutRef(residual.data as Float32Array, tokens, this.hidden, readout.vectors), tokens });
    }
    return residual;
  }

  /** traitId → projection per token of everything run since construction (in order). */
  async take(): Promise<Record<string, number[]>> {
    const out: Record<string, number[]> = {};
    for (const [c, readout] of this.cuts.entries()) {
      const K = readout.vectors.length;
      const rows: Float32Array[] = [];
      for (const ch of this.chunks[c]) {
        if (ch.cpu) rows.push(ch.cpu);
        else if (ch.gpu && this.device) rows.push(new Float32Array(await readBuffer(this.device, ch.gpu, 0, ch.tokens * K * 4)));
      }
      readout.traitIds.forEach((id, k) => {
        const xs: number[] = [];
        for (const r of rows) for (let t = 0; t < r.length / K; t++) xs.push(r[t * K + k]);
        out[id] = xs;
      });
    }
    return out;
  }

  dispose(): void {
    for (const list of this.chunks) for (const ch of list) ch.gpu?.destroy();
    for (const p of this.passes) p?.destroy();
  }
}
