/**
 * Small WebGPU helpers for the kernel passes: labelled buffers padded to 16 bytes, immutable
 * per-call uniform buffers, row dispatch grids, and a readback helper (tests/diagnostics only —
 * never called from a pass's encode()).
 */

/** Round `bytes` up to a multiple of `multiple` (default 16). */
export function padSize(bytes: number, multiple = 16): number {
  return Math.ceil(bytes / multiple) * multiple;
}

/** A labelled buffer whose size is `bytes` rounded up to 16 (and at least 16). */
export function createBuffer(device: GPUDevice, label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, padSize(bytes)), usage });
}

/** A labelled buffer initialised with `data` at creation (contents fixed before any submit). */
export function createBufferWithData(device: GPUDevice, label: string, data: ArrayBuffer | ArrayBufferView, usage: GPUBufferUsageFlags): GPUBuffer {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const buffer = device.createBuffer({ label, size: Math.max(16, padSize(bytes.byteLength)), usage, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(bytes);
  buffer.unmap();
  return buffer;
}

/** Workgroup grid for one workgroup per row: x = min(rows, maxPerDim), y = ceil(rows / x). */
export function rowGrid(rows: number, maxPerDim: number): [number, number] {
  const x = Math.min(rows, maxPerDim);
  const y = Math.ceil(rows / x);
  if (y > maxPerDim) throw new RangeError(`${rows} rows exceed a ${maxPerDim}x${maxPerDim} dispatch`);
  return [x, y];
}

/**
 * Cache of small immutable uniform buffers (u32 words) keyed by their contents.
 *
 * Per-call values (token count, offsets) go into a buffer written at creation time, so each
 * encode() captures its own values even when a pass is encoded several times before a submit
 * (queue.writeBuffer would make all of them see the last write). Evicted buffers are dropped,
 * not destroyed, because an encoded-but-unsubmitted command buffer may still use them.
 */
export class UniformCache {
  private readonly entries = new Map<string, GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly capacity = 64,
  ) {}

  get(words: readonly number[]): GPUBuffer {
    const key = words.join(',');
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recently used last
      return hit;
    }
    const buffer = createBufferWithData(this.device, `${this.label} [${key}]`, new Uint32Array(words), GPUBufferUsage.UNIFORM);
    this.entries.set(key, buffer);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return buffer;
  }

  /** Destroy all cached buffers (only once no pending work uses them). */
  destroy(): void {
    for (const b of this.entries.values()) b.destroy();
    this.entries.clear();
  }
}

/** Throws unless `buffer` holds at least `bytes` bytes and has STORAGE usage. */
export function checkStorage(buffer: GPUBuffer, bytes: number, what: string): void {
  if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) throw new TypeError(`${what} (${buffer.label}) lacks STORAGE usage`);
  if (buffer.size < bytes) throw new RangeError(`${what} (${buffer.label}) has ${buffer.size} bytes, needs ${bytes}`);
}

/** Throws unless `n` is a non-negative integer below 2^32. */
export function checkU32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} must be a u32, got ${n}`);
}

/**
 * Read `bytes` bytes of `src` from `offset` (both multiples of 4) into a fresh ArrayBuffer.
 * Submits its own copy; `src` needs COPY_SRC usage. Tests/diagnostics only.
 */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, offset = 0, bytes = src.size - offset): Promise<ArrayBuffer> {
  const size = padSize(bytes, 4);
  const staging = device.createBuffer({
    label: `readback of ${src.label}`,
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: `readback of ${src.label}` });
  encoder.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}
