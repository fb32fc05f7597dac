/**
 * Weight/activation formats of the hub's ONNX exports and the one policy that picks one for a
 * device: shader-f16 present → q4f16 (f16 activations), else q4 (fp32 activations).
 */

export type Dtype = 'fp32' | 'fp16' | 'q4' | 'q4f16';

export const DTYPES: readonly Dtype[] = ['q4', 'q4f16', 'fp16', 'fp32'];

/** Dtypes whose activations are 16-bit floats: they need WebGPU's "shader-f16". */
export const F16_DTYPES: readonly Dtype[] = ['q4f16', 'fp16'];

export function needsF16(dtype: Dtype): boolean {
  return F16_DTYPES.includes(dtype);
}

/** The dtype for a device without a user override. */
export function defaultDtype(shaderF16: boolean): Dtype {
  return shaderF16 ? 'q4f16' : 'q4';
}

/** A user choice ('auto' = follow the device) resolved against what the device offers. */
export function resolveDtype(choice: Dtype | 'auto', shaderF16: boolean): Dtype {
  return choice === 'auto' ? defaultDtype(shaderF16) : choice;
}
