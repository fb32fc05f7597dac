/**
 * Whether the device can run a model in a dtype, with a plain-language reason when not.
 */
import type { DeviceInfo } from '../../shared/device';
import type { Dtype } from '../../shared/dtype';
import { F16_DTYPES } from '../../shared/dtype';
import type { CatalogModel } from './catalog';

export interface Fit {
  ok: boolean;
  /** A warning or the reason it cannot run. */
  message?: string;
}

export function deviceFit(device: DeviceInfo | null, dtype: Dtype, model?: CatalogModel): Fit {
  if (!device) return { ok: true };
  if (F16_DTYPES.includes(dtype) && !device.shaderF16) {
    return {
      ok: false,
      message: `${dtype} weights need 16-bit float shaders (WebGPU "shader-f16"), which ${device.webgpu ? `this GPU (${device.adapter})` : 'this browser'} does not offer. Choose q4 or fp32.`,
    };
  }
  if (model && !(dtype in model.sizeMb))
    return { ok: false, message: `${model.label} has no ${dtype} weights; choose ${Object.keys(model.sizeMb).join(' or ')}.` };
  const mb = model?.sizeMb[dtype];
  const maxBuffer = device.limits.maxBufferSize;
  if (mb && device.webgpu && maxBuffer && mb * 1e6 > 4 * maxBuffer) {
    return {
      ok: true,
      message: `About ${Math.round(mb)} MB of weights; this GPU allows buffers up to ${Math.round(maxBuffer / 1e6)} MB, large tensors may fail to load.`,
    };
  }
  if (!device.webgpu) return { ok: true, message: 'No WebGPU: the model runs on the CPU (WASM), much slower.' };
  return { ok: true };
}
