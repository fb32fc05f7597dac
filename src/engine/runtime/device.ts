/** What the browser's GPU can do: WebGPU present, shader-f16, adapter name and key limits. */
import type { DeviceInfo } from '../../shared/device';

const LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'] as const;

export const WASM_NOTICE =
  'WebGPU is not available in this browser, so the model runs on the CPU (WASM): expect it to be many times slower. Use a recent Chrome or Edge with WebGPU enabled for full speed.';

export async function probeDevice(): Promise<DeviceInfo> {
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  if (!gpu) return { webgpu: false, shaderF16: false, adapter: 'none', limits: {}, notice: WASM_NOTICE };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter) return { webgpu: false, shaderF16: false, adapter: 'none', limits: {}, notice: WASM_NOTICE };
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of LIMITS) limits[k] = adapter.limits[k];
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { webgpu: true, shaderF16: adapter.features.has('shader-f16'), adapter: name, limits };
}
