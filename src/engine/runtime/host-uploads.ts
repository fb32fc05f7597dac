/**
 * The decode step's host values on the GPU, in buffers of ours. The host preamble
 * (surgery/host-preamble.ts) computes the token ids, the float positions, the bool mask row
 * and GQA's seqlens_k on the CPU; the ones GPU nodes read are written with `queue.writeBuffer`
 * into one buffer per feed and handed to ORT as GPU tensors, so ORT creates no staging buffer
 * for them (left as CPU tensors, ORT uploads each through a new mapped buffer per run).
 *
 * Sizes: a feed's buffer is sized at its first decode step for the whole context (the mask row
 * grows by one element per token: bytes × contextLength / total), made again only if a value
 * still outgrows it. Prefill keeps CPU tensors (their shape follows the prompt).
 */
import { ort, type OrtTensor } from './ort';
import { createBuffer } from '../kernels/gpu-buffers';

interface Slot {
  buffer: GPUBuffer;
  capacity: number; // bytes, a multiple of 4
  /** word-padded copy for values whose byte length is not a multiple of 4 (bool, float16, odd lengths) */
  staging: Uint8Array;
  /** the ORT wrapper of the last step, kept while the dims stay (ids, positions, seqlens_k: every step) */
  tensor: OrtTensor | null;
  dims: string;
}

type HostDataType = 'float32' | 'float16' | 'int32' | 'int64' | 'uint8' | 'bool';
const GPU_TYPES = new Set<string>(['float32', 'float16', 'int32', 'int64', 'uint8', 'bool']);

export class HostUploads {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly device: GPUDevice,
    /** Longest sequence (prompt + generation): sizes the buffers at their first use. */
    private readonly contextLength: number,
  ) {}

  /**
   * `value` (a CPU tensor of the host preamble, for a pass at `total` cached + new positions)
   * as a GPU tensor of ours under the main graph's input `name`; the value itself when its type
   * cannot live in a GPU tensor.
   */
  upload(name: string, value: OrtTensor, total: number): OrtTensor {
    if (value.location !== 'cpu' || !GPU_TYPES.has(value.type)) return value;
    const data = value.data as ArrayBufferView;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = Math.ceil(bytes.byteLength / 4) * 4;
    const slot = this.slot(name, padded, total);
    if (padded === bytes.byteLength) this.device.queue.writeBuffer(slot.buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    else {
      slot.staging.set(bytes);
      slot.staging.fill(0, bytes.byteLength, padded);
      this.device.queue.writeBuffer(slot.buffer, 0, slot.staging.buffer, 0, padded);
    }
    const dims = `${value.type}:${value.dims.join(',')}`;
    if (slot.tensor && slot.dims === dims) return slot.tensor;
    slot.tensor = ort.Tensor.fromGpuBuffer(slot.buffer, { dataType: value.type as HostDataType, dims: value.dims });
    slot.dims = dims;
    return slot.tensor;
  }

  destroy(): void {
    for (const s of this.slots.values()) s.buffer.destroy();
    this.slots.clear();
  }

  private slot(name: string, need: number, total: number): Slot {
    const have = this.slots.get(name);
    if (have && have.capacity >= need) return have;
    have?.buffer.destroy();
    // Grown in proportion to the sequence: enough for the context if the value is linear in it.
    const scale = Math.max(1, Math.ceil(this.contextLength / Math.max(1, total)));
    const capacity = Math.max(16, Math.ceil((need * scale) / 4) * 4, have ? have.capacity * 2 : 0);
    const buffer = createBuffer(this.device, `host ${name}`, capacity, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const slot: Slot = { buffer, capacity, staging: new Uint8Array(capacity), tensor: null, dims: '' };
    this.slots.set(name, slot);
    return slot;
  }
}
