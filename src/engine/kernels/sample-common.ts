/**
 * Shared pieces of the sampling kernels (argmax.wgsl, topk.wgsl): the constants injected into
 * their WGSL, the logits layouts they read, and a cache of bind groups so a decode step that
 * binds the same buffers as the last one creates nothing.
 */
import { checkU32 } from './gpu-buffers';

/** Invocations of the one workgroup both sampling kernels dispatch. */
export const SAMPLE_WG = 256;

/** How a row of logits sits in its buffer: `vocab` values of f32, or of f16 packed two per word. */
export interface LogitsLayout {
  vocab: number;
  f16: boolean;
}

/** WGSL constant declarations prepended to a sampling kernel's source. */
export function sampleConstants(f16: boolean): string {
  return `const WG: u32 = ${SAMPLE_WG}u;\nconst F16: bool = ${f16};\n`;
}

/** Bytes of `rows` rows of logits, rounded up to whole u32 words (what the kernels bind). */
export function logitsBytes(layout: LogitsLayout, rows = 1): number {
  const bytes = rows * layout.vocab * (layout.f16 ? 2 : 4);
  return Math.ceil(bytes / 4) * 4;
}

export function checkLayout(layout: LogitsLayout): void {
  checkU32(layout.vocab, 'vocab');
  if (layout.vocab < 1) throw new RangeError('vocab must be at least 1');
}

/** Bind groups keyed by the identity of the buffers bound (most recent `capacity` kept). */
export class BindGroupCache {
  private entries: { buffers: GPUBuffer[]; group: GPUBindGroup }[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly layout: GPUBindGroupLayout,
    private readonly label: string,
    private readonly capacity = 8,
  ) {}

  get(buffers: GPUBuffer[]): GPUBindGroup {
    const hit = this.entries.findIndex((e) => e.buffers.length === buffers.length && e.buffers.every((b, i) => b === buffers[i]));
    if (hit >= 0) {
      const [e] = this.entries.splice(hit, 1);
      this.entries.push(e);
      return e.group;
    }
    const group = this.device.createBindGroup({
      label: `${this.label}.bindGroup`,
      layout: this.layout,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.entries.push({ buffers: [...buffers], group });
    if (this.entries.length > this.capacity) this.entries.shift();
    return group;
  }

  clear(): void {
    this.entries = [];
  }
}
