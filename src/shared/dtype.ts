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

/**
 * Model types (config.json "model_type") whose float16 exports overflow in ORT WebGPU until the
 * model check on real exports passes for them: they default to q4 (fp32 activations) even with
 * shader-f16. HOOK: delete a type here once that check passes for it.
 */
export const F16_UNCHECKED_MODEL_TYPES: ReadonlySet<string> = new Set(['gemma3', 'gemma3_text']);

/** The dtype for a device (and model type, when known) without a user override. */
export function defaultDtype(shaderF16: boolean, modelType?: string): Dtype {
  if (modelType && F16_UNCHECKED_MODEL_TYPES.has(modelType)) return 'q4';
  return shaderF16 ? 'q4f16' : 'q4';
}

/** A user choice ('auto' = follow the device) resolved against what the device offers. */
export function resolveDtype(choice: Dtype | 'auto', shaderF16: boolean): Dtype {
  return choice === 'auto' ? defaultDtype(shaderF16) : choice;
}
